"""Sentence vectors pooled from their chunk's own pass through the model ("late chunking")."""

from __future__ import annotations

import numpy as np

from assistant.citations import evidence_spans

TEXT = (
    "Wales wrote five ways of working into law in 2015. The Future Generations Commissioner "
    "advises public bodies and reviews how they work. Scotland's framework set eleven national "
    "outcomes in 2018."
)


def test_each_sentence_gets_a_vector_from_the_chunks_own_pass(embedder):
    spans = evidence_spans(TEXT)
    assert len(spans) == 3
    vectors, sentences = embedder.embed_with_spans([TEXT], [spans])
    assert np.allclose(vectors[0], embedder.embed_documents([TEXT])[0], atol=1e-5)
    assert sentences[0].shape == (3, embedder.dimension)
    assert np.allclose(np.linalg.norm(sentences[0], axis=1), 1.0, atol=1e-5)
    alone = embedder.embed_documents([TEXT[a:b] for a, b in spans])
    similarity = (sentences[0] * alone).sum(axis=1)
    assert (similarity > 0.6).all()  # the sentence's own meaning, with its context's
    question = embedder.embed_query("How many national outcomes did Scotland set?")
    assert int(np.argmax(sentences[0] @ question)) == 2


def test_a_sentence_past_the_models_length_is_embedded_alone(embedder):
    long_text = "Filler words about nothing much at all. " * 80 + "The tail sentence says 42."
    tail = (long_text.rindex("The tail"), len(long_text))
    _, (found,) = embedder.embed_with_spans([long_text], [[tail]])
    alone = embedder.embed_documents([long_text[slice(*tail)]])[0]
    assert float(found[0] @ alone) > 0.99


def test_a_vector_kept_across_questions_does_not_depend_on_the_texts_beside_it(embedder):
    sentence = "The sponsor department for UKRI is the Department for Business."
    longer = (
        "A much longer sentence that goes on about the policy framework of an organisation, "
        "its many responsibilities to its staff and managers, and how it reviews them."
    )
    alone = embedder.embed_each([sentence])[0]
    beside = embedder.embed_each([longer, sentence, "Short."])[1]
    assert np.array_equal(alone, beside)
    assert abs(float(alone @ embedder.embed_query(sentence)) - 1.0) < 1e-5
    # In one batch, int8 activations are scaled over the batch, and the vector moves.
    if embedder.name.endswith("int8"):
        batched = embedder.embed_documents([longer, sentence])[1]
        assert float(alone @ batched) < 0.999


def test_a_footnote_call_does_not_move_a_vector(embedder):
    called = "The ombudsman would have recommended level 4 on its scale\u00b9\u2077 for all six."
    plain = called.replace("\u00b9\u2077", "  ")
    vectors = embedder.embed_documents([called, plain])
    assert float(vectors[0] @ vectors[1]) > 0.9999
    _, (spans,) = embedder.embed_with_spans([called], [[(0, len(called))]])
    assert float(spans[0] @ vectors[1]) > 0.99
