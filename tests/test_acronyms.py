"""Acronyms a question uses, spelt out from the names the documents themselves give."""

from __future__ import annotations

from assistant.acronyms import acronym_table, spell_out

TEXTS = [
    "Scores for the Department of Health and Social Care rose in 2019.",
    "The Department for Transport and the Department for Education took part.",
    "Ministry of Housing, Communities and Local Government staff were surveyed.",
    "The Department for Environment, Food and Rural Affairs ran its own survey.",
    "The Office for National Statistics (ONS) publishes the figures; the Office for Nuclear "
    "Safety and the Office for Nuclear Safety do not.",
]


def test_an_acronym_is_spelt_out_from_the_names_the_documents_give():
    table = acronym_table(TEXTS)
    assert spell_out("How far did DHSC's index dip?", table, {"dhsc"}) == (
        "How far did DHSC's (Department of Health and Social Care) index dip?"
    )
    assert spell_out("How far did DHSC's index dip?", table) == (
        "How far did Department of Health and Social Care's index dip?"
    )
    assert spell_out("How did DfT staff rate pay?", table, {"dft"}) == (
        "How did DfT (Department for Transport) staff rate pay?"
    )
    assert spell_out("What was MHCLG's low?", table, {"mhclg"}) == (
        "What was MHCLG's (Ministry of Housing Communities and Local Government) low?"
    )


def test_a_name_ends_where_its_run_of_capitals_ends():
    """'Department for Environment' is the start of a longer name, not a name of its own."""
    assert acronym_table(TEXTS)["DfE"] == "Department for Education"


def test_a_name_the_documents_define_outweighs_one_met_more_often():
    assert acronym_table(TEXTS)["ONS"] == "Office for National Statistics"


def test_what_the_documents_give_no_name_for_is_left_as_it_is():
    table = acronym_table(TEXTS)
    for question in [
        "What did NATO decide?",
        "Is the UK in it?",
        "Why did ONS (Office for National Statistics) say so?",
        "When did the Office meet?",
        "WHEN DID DHSC PUBLISH ITS SCORES?",  # shouted: no word is taken for an acronym
    ]:
        assert spell_out(question, table) == question


def test_two_names_met_as_often_leave_their_acronym_alone():
    table = acronym_table(["The Rural Transport Board met.", "The Road Tax Bureau met."])
    assert "RTB" not in table
    assert spell_out("What did the RTB decide?", table) == "What did the RTB decide?"


def test_a_name_spelt_with_and_or_an_ampersand_is_one_name():
    """Met once each way, it outweighs another name met once, not ties with it."""
    table = acronym_table(["Rural Transport & Bus", "Rural Transport and Bus", "Road Tax Bureau"])
    assert table["RTB"] == "Rural Transport & Bus"
    # Its spelling does not depend on the order the documents came in.
    backwards = acronym_table(
        ["Rural Transport and Bus", "Rural Transport & Bus", "Road Tax Bureau"]
    )
    assert backwards["RTB"] == "Rural Transport & Bus"


def test_a_name_does_not_run_over_the_end_of_a_line():
    table = acronym_table(["Department for Transport\nOverview of the year"] * 2)
    assert table["DfT"] == "Department for Transport"
    assert "DfTO" not in table and "DTO" not in table


def test_an_acronym_in_an_address_or_a_short_question_in_capitals():
    table = acronym_table(TEXTS)
    assert spell_out("Is it on www.DHSC.gov.uk?", table) == "Is it on www.DHSC.gov.uk?"
    assert spell_out("DHSC pay?", table) == "Department of Health and Social Care pay?"


def test_a_question_by_acronym_finds_the_passage_that_spells_the_name_out(tmp_path, embedder):
    """The documents never write "DRT"; asked by it, the search carries the name they use."""
    from assistant.chain import Assistant
    from assistant.config import Settings
    from assistant.ingest import Ingester

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ferries.md").write_text(
        "# Ferries\n\nThe Department for Rural Transport publishes the winter ferry timetable "
        "each September, after consulting the island councils.\n"
    )
    (folder / "schools.md").write_text(
        "# Schools\n\nThe education board publishes the school term dates each spring, after "
        "consulting head teachers.\n"
    )
    settings = Settings(index_dir=tmp_path / "index", progress=False)
    assert Ingester(settings, embedder=embedder).ingest([folder]).ok
    assistant = Assistant(settings)
    evidence = assistant.evidence("When does the DRT publish its timetable?")
    assert "the Department for Rural Transport publish" in evidence.query
    assert evidence.passages[0].source.endswith("ferries.md")
    assert "September" in assistant.ask("When does the DRT publish its timetable?").answer
