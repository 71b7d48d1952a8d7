import numpy as np
import pytest

from askbalkans.retriever import Retriever, WeightedFusion


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["Shekerinska", "Banjska", "KFOR", "Telegrafi", "Sahatçiu"])
def test_rare_names_are_found_by_the_lexical_index(seeds_assistant, name):
    best = seeds_assistant.retrieve(name, top_k=3).hits[0]
    assert name in best.passage.text
    assert best.lexical == 1.0  # the best BM25 score


@pytest.mark.e2e
def test_hits_are_ranked_by_the_fused_score_best_first(seeds_assistant):
    hits = seeds_assistant.retrieve("How many troops serve in KFOR?", top_k=5).hits
    assert len(hits) == 5
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.passage_id for h in hits}) == 5


@pytest.mark.e2e
@pytest.mark.parametrize("signal", ["dense", "lexical", "sentence"])
def test_the_fusion_decides_the_ranking(seeds_assistant, signal):
    weights = {f"{name}_weight": float(name == signal) for name in ("dense", "lexical", "sentence")}
    retriever = Retriever(seeds_assistant.index, seeds_assistant.embedder, WeightedFusion(**weights), 50)
    hits = retriever.retrieve("When did Peter Sorensen visit Pristina?", 5).hits
    values = [getattr(hit, signal) for hit in hits]
    assert values == sorted(values, reverse=True)
    assert [hit.score for hit in hits] == pytest.approx(values)


def test_weighted_fusion_is_a_weighted_sum():
    fused = WeightedFusion(1.0, 2.0, 3.0).fuse(np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([1.0, 1.0]))
    assert fused.tolist() == [4.0, 5.0]
