"""A folder to the index, with a real Chroma on disk and the real embedding model."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from assistant.config import Settings
from assistant.ingest import SCHEME, Ingester, open_store
from assistant.lexical import ensure_lexical
from assistant.retrieval import HybridRetriever
from assistant.store import Store, source_key
from tests.pdfs import make_pdf

TOPICS = {
    "wales.pdf": (
        "Wales",
        "The Future Generations Commissioner advises and reviews public bodies.",
    ),
    "scotland.pdf": (
        "Scotland",
        "The National Performance Framework set 11 national outcomes in 2018.",
    ),
    "ni.pdf": (
        "Northern Ireland",
        "The Programme for Government has nine priorities under three missions.",
    ),
}


def _corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (place, sentence) in TOPICS.items():
        make_pdf(
            folder / name,
            [
                [("h", f"{place} Overview"), ("p", sentence)],
                [("h", f"{place} Detail"), ("p", sentence.replace("The", "Again, the"))],
            ],
            title=f"{place} summary",
        )
    (folder / "notes.md").write_text(
        "# Whitehall notes\n\nMission boards bring in outside experts.\n"
    )
    return folder


def _consistent(store: Store) -> dict[str, int]:
    """Asserts the store holds the committed chunks, once each; returns chunks per source."""
    records = store.documents()
    committed = list(store.committed_chunks())
    assert store.count() == len(committed) == sum(r.chunks for r in records)
    assert len({c.chunk_id for c in committed}) == len(committed)
    return {Path(r.source).name: r.chunks for r in records}


def test_ingest_builds_index_with_chunk_fields(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    (folder / "manifest.yaml").write_text(
        yaml.safe_dump(
            {
                "documents": [
                    {
                        "file": "wales.pdf",
                        "jurisdiction": "Wales",
                        "kind": "legislation",
                        "publisher": "Senedd",
                        "date": "2015-04-29",
                    }
                ]
            }
        )
    )
    (folder / "ni.pdf.meta.yaml").write_text("jurisdiction: Northern Ireland\nkind: framework\n")
    report = Ingester(settings, embedder=counting).ingest([folder])
    assert report.ok and len(report.added) == 4 and report.pages == 7
    store = open_store(settings)
    per_source = _consistent(store)
    assert set(per_source) == {"wales.pdf", "scotland.pdf", "ni.pdf", "notes.md"}
    wales = [c for c in store.committed_chunks() if c.metadata["doc_source"].endswith("wales.pdf")]
    detail = next(c for c in wales if "Again" in c.text)
    meta = detail.metadata
    assert (meta["page_start"], meta["page_end"], meta["section"]) == (2, 2, "Wales Detail")
    assert meta["doc_title"] == "Wales summary" and meta["doc_jurisdiction"] == "Wales"
    assert meta["doc_kind"] == "legislation" and meta["doc_year"] == 2015
    assert meta["doc_id"] == store.record_for(str(folder / "wales.pdf")).doc_id
    ni = next(c for c in store.committed_chunks() if c.metadata["doc_source"].endswith("ni.pdf"))
    assert ni.metadata["doc_kind"] == "framework"


def test_dense_and_lexical_search_find_the_right_document(settings, embedder, tmp_path):
    Ingester(settings, embedder=embedder).ingest([_corpus(tmp_path / "docs")])
    store = open_store(settings)
    hits = store.query(embedder.embed_query("How many national outcomes did Scotland set?"), 3)
    assert hits[0][0].metadata["doc_source"].endswith("scotland.pdf")
    lexical = ensure_lexical(store)
    assert sorted(lexical.chunk_ids) == sorted(c.chunk_id for c in store.committed_chunks())
    best = lexical.search("Commissioner advises", 1)[0][0]
    assert (
        next(c for c in store.committed_chunks() if c.chunk_id == best)
        .metadata["doc_source"]
        .endswith("wales.pdf")
    )


def test_second_ingest_of_unchanged_folder_embeds_nothing(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    ingester = Ingester(settings, embedder=counting)
    ingester.ingest([folder])
    before = counting.embedded
    report = ingester.ingest([folder])
    assert counting.embedded == before
    assert len(report.unchanged) == 4 and not (report.added or report.updated or report.failed)


def test_changed_file_replaces_its_chunks(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    ingester = Ingester(settings, embedder=counting)
    ingester.ingest([folder])
    make_pdf(
        folder / "wales.pdf",
        [[("h", "Wales Revised"), ("p", "Derek Walker became Commissioner in 2023.")]],
        title="Wales revised",
    )
    report = ingester.ingest([folder])
    assert report.updated == [str(folder / "wales.pdf")] and len(report.unchanged) == 3
    store = open_store(settings)
    per_source = _consistent(store)
    assert per_source["wales.pdf"] == 1
    texts = [
        c.text for c in store.committed_chunks() if c.metadata["doc_source"].endswith("wales.pdf")
    ]
    assert texts == ["Derek Walker became Commissioner in 2023."]
    assert store.record_for(str(folder / "wales.pdf")).title == "Wales revised"
    assert "Derek Walker" in " ".join(
        c.text
        for c in store.committed_chunks()
        if c.chunk_id in dict(ensure_lexical(store).search("Derek Walker", 3))
    )


def test_manifest_change_updates_fields_without_embedding(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    ingester = Ingester(settings, embedder=counting)
    ingester.ingest([folder])
    read = open_store(settings).record_for(str(folder / "scotland.pdf")).meta
    assert {"format", "detected_author", "detected_title"} <= set(read)
    before = counting.embedded
    (folder / "scotland.pdf.meta.yaml").write_text(
        "jurisdiction: Scotland\ntitle: Scotland's NPF\n"
    )
    report = ingester.ingest([folder])
    assert counting.embedded == before and report.updated == [str(folder / "scotland.pdf")]
    store = open_store(settings)
    # what was read from the file itself (author, date, format) stays beside the new fields
    kept = store.record_for(str(folder / "scotland.pdf")).meta
    assert {k: v for k, v in kept.items() if k in read} == read
    chunks = [
        c for c in store.committed_chunks() if c.metadata["doc_source"].endswith("scotland.pdf")
    ]
    assert chunks and all(c.metadata["doc_jurisdiction"] == "Scotland" for c in chunks)
    assert all(c.metadata["doc_title"] == "Scotland's NPF" for c in chunks)
    # the evidence sentences carry no text and no document field, only what finds them
    rows = store._sentences.get(include=["metadatas", "documents"])
    assert rows["ids"] and not any(rows["documents"])
    assert {k for m in rows["metadatas"] for k in m} == {
        "source_key",
        "doc_id",
        "position",
        "chunk",
        "index",
    }
    # a search of the evidence sentences narrowed by the new field finds the document's own
    scotland = counting.embed_query(TOPICS["scotland.pdf"][1])
    retriever = HybridRetriever(store, counting, settings)
    found = retriever.sentence_hits(scotland, 5, {"jurisdiction": ["Scotland"]})
    assert found and {c.metadata["doc_source"] for c, _ in found} == {str(folder / "scotland.pdf")}
    # every view matches a field the same way, its case aside
    lower = {"jurisdiction": ["scotland"]}
    for hits in (
        retriever.dense("", 5, lower, scotland),
        retriever.sentence_hits(scotland, 5, lower),
        retriever.lexical_hits(TOPICS["scotland.pdf"][1], 5, lower),
    ):
        assert hits and {c.metadata["doc_source"] for c, _ in hits} == {
            str(folder / "scotland.pdf")
        }
    # a field taken out of the metadata leaves the chunks, and a narrowed search finds nothing
    (folder / "scotland.pdf.meta.yaml").write_text("title: Scotland's NPF\n")
    assert ingester.ingest([folder]).updated == [str(folder / "scotland.pdf")]
    assert not store._chunks.get(where={"doc_jurisdiction": "Scotland"}, include=[])["ids"]
    assert retriever.sync(every_s=0)
    assert retriever.sentence_hits(scotland, 5, {"jurisdiction": ["Scotland"]}) == []
    assert retriever.sentence_hits(scotland, 5, {"title": ["Scotland's NPF"]})
    titled = store._chunks.get(where={"doc_title": "Scotland's NPF"}, include=[])
    assert len(titled["ids"]) == len(chunks)


def test_prune_removes_files_gone_from_the_folder_only_when_asked(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    other = _corpus(tmp_path / "elsewhere")
    ingester = Ingester(settings, embedder=counting)
    ingester.ingest([folder, other / "ni.pdf"])
    (folder / "ni.pdf").unlink()
    assert not ingester.ingest([folder]).removed
    report = ingester.ingest([folder], prune=True)
    assert report.removed == [str(folder / "ni.pdf")]
    per_source = _consistent(open_store(settings))
    assert sorted(per_source) == [
        "ni.pdf",
        "notes.md",
        "scotland.pdf",
        "wales.pdf",
    ]  # other/ni.pdf stays


def test_remove_drops_one_document(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    ingester = Ingester(settings, embedder=counting)
    ingester.ingest([folder])
    record = ingester.remove("Scotland summary")
    assert record.source.endswith("scotland.pdf")
    store = open_store(settings)
    assert "scotland.pdf" not in _consistent(store)
    lexical = ensure_lexical(store)
    assert lexical.chunk_ids and not any(record.doc_id in cid for cid in lexical.chunk_ids)
    assert not lexical.search("11 national outcomes in 2018", 5) or all(
        record.doc_id not in cid for cid, _ in lexical.search("11 national outcomes in 2018", 5)
    )
    with pytest.raises(LookupError, match="no indexed document matches"):
        ingester.remove("Scotland summary")
    assert not list(settings.documents_dir.glob(f"{record.doc_id}.*"))  # its copy goes too
    assert (folder / "scotland.pdf").exists()  # the file itself is the user's own: it stays


def test_removing_an_uploaded_document_deletes_the_upload(counting, tmp_path):
    """Saved as the app saves an upload, under an index reached through a link (as /tmp is on
    some systems): removing the document deletes the upload, and nothing outside its folder."""
    from assistant.uploads import save_upload

    folder = _corpus(tmp_path / "docs")
    (tmp_path / "real").mkdir()
    (tmp_path / "linked").symlink_to(tmp_path / "real")
    settings = Settings(index_dir=tmp_path / "linked" / "index", progress=False, chroma_url=None)
    sent = tmp_path / "framework" / "scotland.pdf"
    sent.parent.mkdir()
    sent.write_bytes((folder / "scotland.pdf").read_bytes())
    upload = save_upload(sent, "scotland.pdf", settings.upload_dir, 10**8, sent.parent)
    ingester = Ingester(settings, embedder=counting)
    ingester.ingest([upload, folder / "wales.pdf"])
    ingester.remove("Scotland summary")
    ingester.remove("Wales summary")
    assert not upload.exists()
    assert sent.exists() and (folder / "wales.pdf").exists()


def test_the_index_keeps_its_own_copy_of_each_document(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    Ingester(settings, embedder=counting).ingest([folder])
    for record in open_store(settings).documents():
        copy = settings.documents_dir / f"{record.doc_id}{Path(record.source).suffix}"
        assert copy.read_bytes() == Path(record.source).read_bytes()
    shutil.rmtree(settings.documents_dir)  # an older index without copies gets them back
    Ingester(settings, embedder=counting).ingest([folder])
    assert len(list(settings.documents_dir.iterdir())) == 4


def test_a_changed_document_leaves_no_copy_of_its_old_version(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    twin = tmp_path / "elsewhere" / "notes.md"  # the same bytes indexed at a second path
    twin.parent.mkdir()
    twin.write_bytes((folder / "notes.md").read_bytes())
    Ingester(settings, embedder=counting).ingest([folder, twin])
    store = open_store(settings)
    wales, notes = (store.record_for(str(folder / n)) for n in ("wales.pdf", "notes.md"))
    make_pdf(folder / "wales.pdf", [[("p", "The Commissioner's office moved to Cardiff Bay.")]])
    (folder / "notes.md").write_text("# Whitehall notes\n\nBoards meet every quarter.\n")
    report = Ingester(settings, embedder=counting).ingest([folder, twin])
    assert sorted(Path(s).name for s in report.updated) == ["notes.md", "wales.pdf"]
    copies = {p.stem for p in settings.documents_dir.iterdir()}
    assert wales.doc_id not in copies  # gone with its old version
    assert notes.doc_id in copies  # still the twin's
    assert {r.doc_id for r in store.documents()} == copies


def test_links_that_lead_out_of_the_folder_are_not_followed(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    secret = tmp_path / "secret.txt"
    secret.write_text("The treasury password is swordfish and it opens every account.")
    (folder / "accounts.txt").symlink_to(secret)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "private.md").write_text("# Private\n\nThe swordfish password opens the safe.")
    (folder / "more").symlink_to(elsewhere)
    (folder / "again.md").symlink_to(folder / "notes.md")  # a link inside the folder is fine
    report = Ingester(settings, embedder=counting).ingest([folder])
    assert report.ok
    assert sorted(Path(s.source).name for s in report.skipped) == ["accounts.txt", "more"]
    assert all(f"outside {folder}" in s.reason for s in report.skipped)
    assert "2 skipped" in report.summary()
    texts = " ".join(c.text for c in open_store(settings).committed_chunks())
    assert "swordfish" not in texts and "Mission boards" in texts


def test_bad_files_fail_alone_and_keep_what_was_indexed(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    ingester = Ingester(settings, embedder=counting)
    ingester.ingest([folder])
    store = open_store(settings)
    old = store.record_for(str(folder / "wales.pdf"))
    (folder / "wales.pdf").write_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 100)  # damaged in place
    (folder / "empty.txt").write_bytes(b"")
    (folder / "fake.pdf").write_text("<html><body>not a pdf</body></html>")
    make_pdf(folder / "new.pdf", [[("p", "A new document arrives with the bad ones.")]])
    report = ingester.ingest([folder, tmp_path / "missing"])
    reasons = {Path(f.source).name: f.reason for f in report.failed}
    assert set(reasons) == {"wales.pdf", "empty.txt", "fake.pdf", "missing"}
    assert "not a readable PDF" in reasons["wales.pdf"] and "empty" in reasons["empty.txt"]
    assert report.added == [str(folder / "new.pdf")]
    kept = store.record_for(str(folder / "wales.pdf"))
    assert kept == old
    assert _consistent(store)["wales.pdf"] == old.chunks


class _InterruptingStore(Store):
    """A real store that is interrupted (as by Ctrl-C) before its second commit."""

    commits = 0

    def commit(self, record, meta_hash):
        type(self).commits += 1
        if type(self).commits == 2:
            raise KeyboardInterrupt
        super().commit(record, meta_hash)


def test_interrupted_ingest_resumes_without_duplicates_or_half_documents(
    settings, counting, tmp_path
):
    folder = _corpus(tmp_path / "docs")
    store = _InterruptingStore(settings, counting.name)
    _InterruptingStore.commits = 0
    with pytest.raises(KeyboardInterrupt):
        Ingester(settings, embedder=counting, store=store, group_chunks=1).ingest([folder])
    half = open_store(settings)
    assert len(half.documents()) == 1
    assert half.count() > half.documents()[0].chunks  # the second document's chunks, uncommitted
    assert len(list(half.committed_chunks())) == half.documents()[0].chunks
    assert half._pending.count() == 1  # the source it was writing is named
    report = Ingester(settings, embedder=counting).ingest([folder])
    assert len(report.added) == 3 and len(report.unchanged) == 1
    store = open_store(settings)
    assert len(_consistent(store)) == 4 and _stray_sentences(store) == 0
    assert store._pending.count() == 0


def _stray_sentences(store: Store) -> int:
    """Evidence sentences that no ledger row commits."""
    committed = {(source_key(r.source), r.doc_id) for r in store.documents()}
    rows = store._sentences.get(include=["metadatas"])
    return sum((m["source_key"], m["doc_id"]) not in committed for m in rows["metadatas"])


class _StoppedAfterTheSwitch(Store):
    """A real store stopped (as by Ctrl-C) after a changed file's new version is committed and
    before the old version's rows are deleted."""

    def delete_chunks_of(self, source, doc_id, from_position=0):
        raise KeyboardInterrupt


def test_a_changed_file_stopped_after_the_switch_leaves_no_old_rows(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    Ingester(settings, embedder=counting).ingest([folder])
    (folder / "notes.md").write_text("# Whitehall notes\n\nMission boards meet monthly.\n")
    store = _StoppedAfterTheSwitch(settings, counting.name)
    with pytest.raises(KeyboardInterrupt):
        Ingester(settings, embedder=counting, store=store).ingest([folder])
    left = open_store(settings)
    assert left.count() > sum(r.chunks for r in left.documents())  # the old version's rows
    report = Ingester(settings, embedder=counting).ingest([folder])
    assert report.ok and len(report.unchanged) == 4
    store = open_store(settings)
    assert len(_consistent(store)) == 4 and _stray_sentences(store) == 0


class _StoppedBeforeTheSurplus(Store):
    """A real store stopped after a document chunked anew is committed and before the
    sentences its chunks no longer hold are deleted."""

    def delete_sentences_except(self, source, doc_id, keep):
        raise KeyboardInterrupt


def test_a_document_chunked_anew_and_stopped_keeps_no_surplus_sentence(
    settings, counting, tmp_path, monkeypatch
):
    import assistant.ingest as ingest_module

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "long.md").write_text(
        "# Long\n\n" + " ".join(f"The plan counts outcome {i} each year." for i in range(60))
    )
    Ingester(settings, embedder=counting).ingest([folder])
    monkeypatch.setattr(ingest_module, "SCHEME", "chunks-next")
    smaller = settings.model_copy(update={"chunk_tokens": 40})
    store = _StoppedBeforeTheSurplus(smaller, counting.name)
    with pytest.raises(KeyboardInterrupt):
        Ingester(smaller, embedder=counting, store=store).ingest([folder])

    def surplus(store: Store) -> int:
        """Sentence rows past the spans their chunk keeps."""
        chunks = store._chunks.get(include=["metadatas"])
        spans = {
            chunk_id: len(json.loads(str(meta["sentence_spans"])))
            for chunk_id, meta in zip(chunks["ids"], chunks["metadatas"], strict=True)
        }
        rows = store._sentences.get(include=["metadatas"])["metadatas"]
        return sum(int(m["index"]) >= spans[str(m["chunk"])] for m in rows)

    assert surplus(open_store(smaller)) > 0  # what the stopped write left
    assert Ingester(smaller, embedder=counting).ingest([folder]).unchanged
    assert surplus(open_store(smaller)) == 0


def test_an_unchanged_index_is_not_read_row_by_row(settings, counting, tmp_path, monkeypatch):
    """Tidying after an interrupted write looks only at the sources named as being written, so
    ingesting an unchanged folder costs the same however large the index is."""
    folder = _corpus(tmp_path / "docs")
    Ingester(settings, embedder=counting).ingest([folder])
    read: list[str] = []
    original = Store._pages
    monkeypatch.setattr(
        Store, "_pages", lambda self, *a, **k: read.append("rows") or original(self, *a, **k)
    )
    report = Ingester(settings, embedder=counting).ingest([folder])
    assert len(report.unchanged) == 4 and read == []


def test_an_index_made_before_writes_were_named_is_swept_once(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    store = _InterruptingStore(settings, counting.name)
    _InterruptingStore.commits = 0
    with pytest.raises(KeyboardInterrupt):
        Ingester(settings, embedder=counting, store=store, group_chunks=1).ingest([folder])
    store._client.delete_collection(f"{settings.collection}-pending")  # as older indexes were
    old = open_store(settings)
    assert old._pending is None and old.count() > sum(r.chunks for r in old.documents())
    report = Ingester(settings, embedder=counting).ingest([folder])
    assert len(report.added) == 3
    store = open_store(settings)
    assert len(_consistent(store)) == 4 and _stray_sentences(store) == 0
    assert store._pending is not None


def test_rebuild_starts_afresh(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    ingester = Ingester(settings, embedder=counting)
    ingester.ingest([folder])
    shutil.rmtree(folder)
    _corpus(tmp_path / "docs2")
    report = ingester.ingest([tmp_path / "docs2"], rebuild=True)
    assert len(report.added) == 4
    assert all("docs2" in r.source for r in open_store(settings).documents())


def test_a_narrowed_keyword_search_ranks_within_the_documents_it_is_narrowed_to(
    settings, counting, tmp_path
):
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(5):
        (folder / f"bus{i}.md").write_text(
            f"# Bus note {i}\n\nThe bus timetable, the bus timetable and the bus timetable.\n"
        )
    (folder / "rail.md").write_text(
        "# Rail paper\n\nTrains run hourly; a bus timetable links the stations.\n"
    )
    Ingester(settings, embedder=counting).ingest([folder])
    store = open_store(settings)
    rail = store.record_for(str(folder / "rail.md")).doc_id
    retriever = HybridRetriever(store, counting, settings)
    for narrowed in ({"document": [rail]}, {"document": [rail[:8].upper()]}, {"document": rail}):
        hits = retriever.lexical_hits("bus timetable", 1, narrowed)
        assert [c.metadata["doc_id"] for c, _ in hits] == [rail], narrowed


def test_the_same_file_at_two_paths_is_cited_from_the_same_one_in_every_run(settings, tmp_path):
    import subprocess
    import sys

    for copy in ("a", "b"):
        (tmp_path / "docs" / copy).mkdir(parents=True)
        (tmp_path / "docs" / copy / "ferry.md").write_text(
            "# Ferry note\n\nThe ferry subsidy was 4 million pounds in 2023.\n"
        )
    Ingester(settings).ingest([tmp_path / "docs"])
    script = (
        "import sys; from pathlib import Path; from assistant.config import Settings; "
        "from assistant.chain import Assistant; "
        "a = Assistant(Settings(index_dir=Path(sys.argv[1]), progress=False)); "
        "print(a.ask('How much was the ferry subsidy?').citations[0].source)"
    )
    cited = set()
    for seed in ("1", "4"):  # seeds under which the tie once fell each way
        run = subprocess.run(
            [sys.executable, "-c", script, str(settings.index_dir)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            timeout=300,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        cited.add(run.stdout.strip())
    assert cited == {str(tmp_path / "docs" / "a" / "ferry.md")}


def test_the_keyword_index_is_written_by_one_writer_at_a_time(settings, counting, tmp_path):
    import threading

    Ingester(settings, embedder=counting).ingest([_corpus(tmp_path / "docs")])
    store = open_store(settings)
    failures = []

    def write() -> None:
        for _ in range(15):
            try:
                ensure_lexical(store, rebuild=True)
            except OSError as err:  # a half-swapped folder
                failures.append(err)

    writers = [threading.Thread(target=write) for _ in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert failures == []
    assert ensure_lexical(store).search("national outcomes", 1)


def test_a_document_chunked_anew_into_as_many_chunks_makes_a_new_keyword_index(
    settings, counting, tmp_path
):
    from assistant.lexical import fingerprint

    folder = _corpus(tmp_path / "docs")
    Ingester(settings, embedder=counting).ingest([folder])
    records = open_store(settings).documents()
    again = [r if i else replace(r, scheme="chunks-0") for i, r in enumerate(records)]
    assert fingerprint(again) != fingerprint(records)


def test_the_answer_record_names_the_file_its_citation_came_from(settings, tmp_path):
    from assistant.chain import Assistant

    folder = tmp_path / "docs"
    folder.mkdir()
    note = "# Ferry note\n\nThe ferry subsidy was 4 million pounds in 2023.\n"
    (folder / "ferry.md").write_text(note)
    (folder / "zz-ferry-copy.md").write_text(note)
    Ingester(settings).ingest([folder])
    assistant = Assistant(settings)
    answer = assistant.ask("How much was the ferry subsidy?")
    cited = {Path(c.source).name for c in answer.citations}
    record = assistant.record("answer", "How much was the ferry subsidy?", [answer])
    assert {d["file"] for d in record["documents"]} == cited
    assert {d["scheme"] for d in record["documents"]} == {SCHEME}
    # Asked under another chunk size, the record does not claim the index was chunked by it.
    other = Assistant(settings.model_copy(update={"chunk_tokens": 100}))
    answer = other.ask("How much was the ferry subsidy?")
    record = other.record("answer", "How much was the ferry subsidy?", [answer])
    assert "chunk_tokens" not in record["settings"]
    assert {d["scheme"] for d in record["documents"]} == {SCHEME}


def test_a_searcher_open_while_the_index_is_rebuilt_finds_the_new_one(settings, embedder, tmp_path):
    folder = _corpus(tmp_path / "docs")
    Ingester(settings, embedder=embedder).ingest([folder])
    retriever = HybridRetriever(open_store(settings), embedder, settings)
    assert retriever.retrieve("national outcomes", k=1)[0].title == "Scotland summary"
    other = tmp_path / "other"
    other.mkdir()
    (other / "ferries.md").write_text("# Ferry note\n\nThe ferry to Mull sails hourly.\n")
    Ingester(settings, embedder=embedder).ingest([other], rebuild=True)  # as another process
    assert retriever.sync(every_s=0)
    assert [p.title for p in retriever.retrieve("ferry to Mull", k=5)] == ["Ferry note"]


@pytest.mark.parametrize(
    ("built_with", "remedy"),
    [
        ("all-MiniLM-L12-v2/fp32", "does not make those vectors, so rebuild it"),
        ("all-MiniLM-L6-v2/fp32", "set ASSISTANT_EMBEDDING_BACKEND to match"),
    ],
)
def test_an_index_of_other_vectors_is_not_searched_with_these(
    settings, counting, tmp_path, built_with, remedy
):
    from assistant.store import StoreError

    Ingester(settings, embedder=counting).ingest([_corpus(tmp_path / "docs")])
    store = open_store(settings)
    store._chunks.modify(metadata={"embedder": built_with})
    with pytest.raises(StoreError, match=remedy) as raised:
        open_store(settings)
    assert "--rebuild" in str(raised.value) and built_with in str(raised.value)
    report = Ingester(settings, embedder=counting).ingest([tmp_path / "docs"], rebuild=True)
    assert report.ok and open_store(settings).count() > 0  # rebuilt with these vectors


def test_an_index_searched_narrowly_before_is_searched_as_widely_as_a_new_one(
    settings, counting, tmp_path
):
    from assistant.store import EF_SEARCH

    Ingester(settings, embedder=counting).ingest([_corpus(tmp_path / "docs")])
    store = open_store(settings)
    for collection in (store._chunks, store._sentences):
        assert collection.configuration["hnsw"]["ef_search"] == EF_SEARCH
        collection.modify(configuration={"hnsw": {"ef_search": 200}})  # as indexes were made
    store = open_store(settings)
    assert [c.configuration["hnsw"]["ef_search"] for c in (store._chunks, store._sentences)] == [
        EF_SEARCH
    ] * 2


def test_broken_manifest_fails_its_files_and_keeps_them(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    ingester = Ingester(settings, embedder=counting)
    ingester.ingest([folder])
    (folder / "manifest.yaml").write_text("documents:\n  - file: wales.pdf\n    kind: [unclosed\n")
    make_pdf(folder / "wales.pdf", [[("p", "A changed Wales file.")]])
    report = ingester.ingest([folder])
    assert {Path(f.source).name for f in report.failed} == {
        "wales.pdf",
        "scotland.pdf",
        "ni.pdf",
        "notes.md",
    }
    assert all("manifest.yaml: is not valid YAML at line" in f.reason for f in report.failed)
    assert len(_consistent(open_store(settings))) == 4


def test_manifest_values_are_read_as_a_filter_names_them(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    (folder / "manifest.yaml").write_text(
        "documents:\n"
        "  - {file: ./wales.pdf, jurisdiction: 'Wales  ', date: 2015}\n"
        "  - {file: scotland.pdf, jurisdiction: [Scotland, England]}\n"
        "  - {file: ni.pdf, jurisdiction: Northern   Ireland, date: 2021-06-01}\n"
    )
    report = Ingester(settings, embedder=counting).ingest([folder])
    assert [(Path(f.source).name, f.reason) for f in report.failed] == [
        (
            "scotland.pdf",
            f"its metadata cannot be read: {folder / 'manifest.yaml'} documents entry 2: field "
            "'jurisdiction' must be a single value, not ['Scotland', 'England']",
        )
    ]
    store = open_store(settings)
    wales = store.record_for(str(folder / "wales.pdf")).meta
    assert wales["jurisdiction"] == "Wales" and wales["year"] == 2015
    ni = store.record_for(str(folder / "ni.pdf")).meta
    assert ni["jurisdiction"] == "Northern Ireland" and ni["year"] == 2021
    retriever = HybridRetriever(store, counting, settings)
    found = retriever.retrieve("Commissioner", filters={"year": ["2015"]})
    assert {p.title for p in found} == {"Wales summary"}


def test_ingestignore_skips_matching_files(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    (folder / "drafts").mkdir()
    (folder / "drafts" / "draft.md").write_text("# Draft\n\nNot ready to be indexed yet.\n")
    (folder / ".ingestignore").write_text("# drafts stay out\ndrafts/\nnotes.md\n")
    report = Ingester(settings, embedder=counting).ingest([folder])
    assert sorted(Path(s).name for s in report.added) == ["ni.pdf", "scotland.pdf", "wales.pdf"]


def test_documents_chunked_under_an_older_scheme_are_chunked_again(
    settings, counting, tmp_path, monkeypatch
):
    import assistant.ingest as ingest_module

    folder = _corpus(tmp_path / "docs")
    (folder / "long.md").write_text(
        "# Long\n\n"
        + "\n\n".join(
            f"Paragraph {i} says the framework measures outcome {i} each year." for i in range(40)
        )
    )
    Ingester(settings.model_copy(update={"chunk_tokens": 40}), embedder=counting).ingest([folder])
    many = open_store(settings).count()
    monkeypatch.setattr(ingest_module, "SCHEME", "chunks-next")
    before = counting.embedded
    report = Ingester(settings, embedder=counting).ingest([folder])  # fewer, larger chunks
    assert len(report.updated) == 5 and counting.embedded > before
    assert open_store(settings).count() < many
    assert {r.scheme for r in open_store(settings).documents()} == {"chunks-next"}
    _consistent(open_store(settings))
    again = Ingester(settings, embedder=counting).ingest([folder])
    assert len(again.unchanged) == 5


def test_turning_close_reading_off_reads_the_documents_again(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    assert settings.pdf_layout  # the default
    Ingester(settings, embedder=counting).ingest([folder])
    plain = settings.model_copy(update={"pdf_layout": False})
    report = Ingester(plain, embedder=counting).ingest([folder])
    assert len(report.updated) == len(report.updated + report.unchanged) > 0
    assert {r.scheme for r in open_store(settings).documents()} == {f"{SCHEME}-plain"}
    assert len(Ingester(plain, embedder=counting).ingest([folder]).unchanged) == len(report.updated)


def test_turning_footnotes_on_reads_the_documents_again(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    assert not settings.pdf_footnotes  # the default
    Ingester(settings, embedder=counting).ingest([folder])
    noted = settings.model_copy(update={"pdf_footnotes": True})
    report = Ingester(noted, embedder=counting).ingest([folder])
    assert len(report.updated) == len(report.updated + report.unchanged) > 0
    assert {r.scheme for r in open_store(settings).documents()} == {f"{SCHEME}-notes"}


def test_changing_the_chunk_size_or_turning_ocr_off_reads_the_documents_again(
    settings, counting, tmp_path
):
    folder = _corpus(tmp_path / "docs")
    Ingester(settings, embedder=counting).ingest([folder])
    smaller = settings.model_copy(update={"chunk_tokens": 64})
    report = Ingester(smaller, embedder=counting).ingest([folder])
    assert len(report.updated) == len(report.updated + report.unchanged) > 0
    assert {r.scheme for r in open_store(settings).documents()} == {f"{SCHEME}-size64"}
    unread = smaller.model_copy(update={"ocr": False})
    report = Ingester(unread, embedder=counting).ingest([folder])
    assert len(report.updated) == len(report.updated + report.unchanged) > 0
    assert {r.scheme for r in open_store(settings).documents()} == {f"{SCHEME}-size64-no-ocr"}
    assert len(Ingester(unread, embedder=counting).ingest([folder]).unchanged) == len(
        report.updated
    )


def test_a_file_whose_name_is_not_utf8_fails_alone(settings, counting, tmp_path):
    folder = _corpus(tmp_path / "docs")
    odd = os.path.join(os.fsencode(folder), b"r\xe9sum\xe9.md")
    with open(odd, "wb") as handle:
        handle.write(b"# Resume\n\nA note whose name an old archive wrote in Latin-1.\n")
    report = Ingester(settings, embedder=counting).ingest([folder])
    assert [(Path(f.source).name, f.reason) for f in report.failed] == [
        ("r\ufffdsum\ufffd.md", "its name is not valid UTF-8; rename it")
    ]
    assert set(_consistent(open_store(settings))) == set(TOPICS) | {"notes.md"}


def test_a_document_chunked_again_into_smaller_chunks_keeps_no_sentence_its_chunks_lost(
    settings, counting, tmp_path, monkeypatch
):
    import assistant.ingest as ingest_module

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "long.md").write_text(
        "# Long\n\n"
        + " ".join(f"The framework measures outcome {i} every year." for i in range(60))
    )
    Ingester(settings, embedder=counting).ingest([folder])
    monkeypatch.setattr(ingest_module, "SCHEME", "chunks-next")
    smaller = settings.model_copy(update={"chunk_tokens": 40})
    assert len(Ingester(smaller, embedder=counting).ingest([folder]).updated) == 1
    store = open_store(smaller)
    chunks = {c.chunk_id: c.text for c in store.committed_chunks()}
    held = store.sentences_of(list(chunks))
    assert set(held) == set(chunks)
    for chunk_id, (sentences, _) in held.items():
        for sentence in sentences:
            assert sentence in chunks[chunk_id], (chunk_id, sentence)


def test_sentence_text_comes_from_the_chunk_and_an_older_rows_text_only_without_spans(
    settings, counting, tmp_path
):
    folder = _corpus(tmp_path / "docs")
    Ingester(settings, embedder=counting).ingest([folder])
    store = open_store(settings)
    rows = store._sentences.get(include=["metadatas", "embeddings"])
    chunk_id = str(rows["metadatas"][0]["chunk"])
    mine = [k for k, m in enumerate(rows["metadatas"]) if m["chunk"] == chunk_id]
    ids = [rows["ids"][k] for k in mine]
    # text an index made before kept in the row, left there by an upsert over the same id
    store._sentences.update(
        ids=ids,
        embeddings=[rows["embeddings"][k] for k in mine],
        documents=["An older sentence."] * len(ids),
    )
    (sentences, _) = store.sentences_of([chunk_id])[chunk_id]
    chunk = store.get([chunk_id])[0]
    assert len(sentences) == len(ids) and all(s in chunk.text for s in sentences)
    # a chunk written before sentences were cut from it has no spans: the rows' text counts
    store._chunks.update(ids=[chunk_id], metadatas=[{"sentence_spans": None}])
    assert store.sentences_of([chunk_id])[chunk_id][0] == ["An older sentence."] * len(ids)
