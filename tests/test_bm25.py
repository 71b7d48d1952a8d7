"""Our BM25 against the reference implementation, bm25s, on the seeds' passages."""

import bm25s
import numpy as np
import pytest

from askbalkans.bm25 import Postings, Statistics, idf_lucene, tf_lucene
from askbalkans.chunker import TokenBudget, chunk_article, count_tokens
from askbalkans.corpus import load_corpus
from askbalkans.text import terms
from conftest import SEEDS


@pytest.fixture(scope="module")
def documents() -> list[list[str]]:
    budget = TokenBudget(160, 40, 10_000, count_tokens)
    return [terms(p.text) for a in load_corpus(SEEDS).articles for p in chunk_article(a, budget).passages]


@pytest.mark.parametrize(
    "query", ["kfor troop", "sorensen visit pristina belgrad", "dialogu dialogu kosovo serbia", "unknownword"]
)
def test_scores_match_bm25s_lucene(documents, query):
    reference = bm25s.BM25(method="lucene", k1=1.5, b=0.75)
    reference.index(documents, show_progress=False)
    known = [term for term in query.split() if term in reference.vocab_dict]
    expected = reference.get_scores(known) if known else np.zeros(len(documents))
    np.testing.assert_allclose(Postings.build(documents).scores(query.split()), expected, rtol=1e-5, atol=1e-6)


def test_the_formula_pieces():
    # A term in every document still weighs a little; a rare one weighs more.
    assert idf_lucene(np.array([10.0]), 10)[0] == pytest.approx(np.log(1 + 0.5 / 10.5))
    assert idf_lucene(np.array([1.0]), 10)[0] > idf_lucene(np.array([5.0]), 10)[0]
    # Term frequency saturates, and a document of average length is not normalised.
    assert tf_lucene(np.array([1.0]), np.array([7.0]), 7.0, 1.5, 0.75)[0] == pytest.approx(1 / 2.5)
    assert tf_lucene(np.array([100.0]), np.array([7.0]), 7.0, 1.5, 0.75)[0] < 1


def test_an_empty_collection_and_empty_documents_score_zero():
    assert Postings.build([]).scores(["kfor"]).shape == (0,)
    assert Postings.build([[], ["kfor"]]).scores(["kfor"])[0] == 0


@pytest.mark.parametrize("query", ["kfor troop", "sorensen visit pristina belgrad", "nato nato balkan"])
def test_the_top_documents_and_chosen_scores_agree_with_all_the_scores(documents, query):
    postings = Postings.build(documents)
    everything = postings.scores(query.split())
    rows, scores = postings.top(query.split(), 5)
    expected = np.argsort(-everything, kind="stable")[:5]
    assert rows.tolist() == [r for r in expected.tolist() if everything[r] > 0]
    np.testing.assert_allclose(scores, everything[rows], rtol=1e-6)
    wanted = np.array([7, 0, 3, 7])
    np.testing.assert_allclose(postings.scores_of(query.split(), wanted), everything[wanted], rtol=1e-6)
    assert postings.document_frequencies(["kfor", "unknownword"]).tolist()[1] == 0


def test_selecting_and_concatenating_documents_is_the_same_as_building_afresh(documents):
    keep = np.array([i % 3 != 1 for i in range(len(documents))])
    kept = [d for d, k in zip(documents, keep, strict=True) if k]
    added = [["kfor", "troop", "troop"], ["brand", "new", "term"]]
    updated = Postings.concatenate([Postings.build(documents).select(keep), Postings.build(added)])
    afresh = Postings.build(kept + added)
    for query in (["kfor", "troop"], ["sorensen", "pristina"], ["brand", "new"]):
        np.testing.assert_allclose(updated.scores(query), afresh.scores(query), rtol=1e-6)
        assert updated.document_frequencies(query).tolist() == afresh.document_frequencies(query).tolist()


def test_parts_scored_under_their_summed_statistics_score_as_one_collection_of_their_live_documents(documents):
    """How the segments of one index score: each part skips its dead documents, all use the sum of the
    parts' statistics."""
    halves = documents[: len(documents) // 2], documents[len(documents) // 2 :]
    parts = [Postings.build(half) for half in halves]
    live = [np.array([i % 4 != 1 for i in range(len(half))]) for half in halves]
    pairs = list(zip(parts, live, strict=True))
    whole = Postings.build(
        [d for half, mask in zip(halves, live, strict=True) for d, m in zip(half, mask, strict=True) if m]
    )
    for query in (["kfor", "troop"], ["sorensen", "visit", "pristina"], ["dialogu", "dialogu", "serbia"]):
        statistics = Statistics.sum([part.statistics(query, mask) for part, mask in pairs])
        scores = [part.scores_of(query, np.flatnonzero(mask), statistics=statistics) for part, mask in pairs]
        np.testing.assert_allclose(np.concatenate(scores), whole.scores(query), rtol=1e-5)
        rows, top = parts[1].top(query, 5, statistics=statistics, live=live[1])
        assert live[1][rows].all()
        np.testing.assert_allclose(top, parts[1].scores_of(query, rows, statistics=statistics), rtol=1e-6)


def test_the_rows_holding_every_term(documents):
    postings = Postings.build(documents)
    for query in (["kfor"], ["kosovo", "serbia"], ["kosovo", "unknownword"], []):
        expected = [row for row, document in enumerate(documents) if query and set(query) <= set(document)]
        assert postings.rows_with_all(query).tolist() == expected


def test_terms_whose_documents_are_all_dropped_leave_the_vocabulary():
    postings = Postings.build([["kfor", "troop"], ["envoy", "troop"]])
    kept = Postings.concatenate([postings.select(np.array([False, True]))])
    assert set(kept.vocabulary) == {"envoy", "troop"}
    np.testing.assert_allclose(
        kept.scores(["troop", "envoy"]), Postings.build([["envoy", "troop"]]).scores(["troop", "envoy"])
    )


def test_documents_that_tie_the_kth_are_all_kept():
    """Which of tied documents a cut keeps would go by row, that is by the order documents came in."""
    postings = Postings.build([["ibar", "bridge"], ["kfor"], ["ibar", "bridge"], ["ibar", "bridge"]])
    rows, scores = postings.top(["ibar"], 1)
    assert rows.tolist() == [0, 2, 3] and len(set(scores.tolist())) == 1
