"""Composer stage: choose the sentences to quote and cite them, or abstain.

Sentences come scored (`scoring`); the composer keeps those close to the best one, brings along a
sentence that the chosen one leans on, quotes a sentence repeated by several articles once with all its
citations, quotes each article when their figures for the asked count differ, and abstains below the
confidence threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from askbalkans.answer import NOT_FOUND, SOURCES_DIFFER, Answer, Citation, Quote
from askbalkans.errors import SettingError
from askbalkans.question import AnswerFinder, QuestionAnalysis, analyse
from askbalkans.retriever import Retrieval
from askbalkans.scoring import Confidence, ScoredSentence, SentenceScorer
from askbalkans.stores import Index, chunk_id, slot_of
from askbalkans.tagging import Tagger

# Sentences that may show differing figures: within this many answer margins of the best sentence ...
DIFFERING_MARGINS = 2.0
# ... holding at least this share of the best sentence's overlap with the question ...
DIFFERING_OVERLAP_SHARE = 0.5
# ... and at least this much of the question's topic ("29 countries" in a sentence about troops does not
# answer "How many countries recognise Kosovo's independence?").
DIFFERING_MIN_TOPIC = 0.3


class Reader(Protocol):
    """Turns retrieved passages into an answer: what the assistant needs of a composer or a reader model."""

    def compose(self, retrieval: Retrieval, question: str, notices: tuple[str, ...] = ()) -> Answer:
        """The answer to `question` (as the user asked it) from `retrieval` (of the question as read)."""
        ...


@dataclass
class _Draft:
    """Quotes being assembled: sentence ids with their citation sentence ids."""

    sentence_ids: list[int] = field(default_factory=list)
    context: set[int] = field(default_factory=set)
    also_cited: dict[int, list[int]] = field(default_factory=dict)  # quoted id -> near-duplicates


class Composer:
    def __init__(
        self,
        index: Index,
        scorer: SentenceScorer,
        confidence: Confidence,
        tagger: Tagger,
        *,
        abstain_threshold: float,
        answer_margin: float,
        max_answer_sentences: int,
        duplicate_similarity: float,
        required_answer_types: frozenset[str] = frozenset(),
    ):
        for name, value, low, high in (
            ("abstain_threshold", abstain_threshold, 0, 1),
            ("answer_margin", answer_margin, 0, float("inf")),
            ("max_answer_sentences", max_answer_sentences, 1, float("inf")),
            ("duplicate_similarity", duplicate_similarity, 0, 1),
        ):
            if not low <= value <= high:
                raise SettingError(f"{name} must be from {low} to {high}, got {value!r}")
        self.index = index
        self.scorer = scorer
        self.finder: AnswerFinder = scorer.finder
        self.tagger = tagger
        self.confidence = confidence
        self.abstain_threshold = abstain_threshold
        self.answer_margin = answer_margin
        self.max_answer_sentences = max_answer_sentences
        self.duplicate_similarity = duplicate_similarity
        self.required_answer_types = required_answer_types

    def compose(self, retrieval: Retrieval, question: str, notices: tuple[str, ...] = ()) -> Answer:
        analysis = analyse(retrieval.question, self.tagger.tag([retrieval.question])[0])
        ranked = self.scorer.score(retrieval, analysis)
        confidence = self.confidence(ranked[0].evidence) if ranked else 0.0
        if ranked and analysis.answer_type in self.required_answer_types and not ranked[0].evidence.answer_type:
            # It asks for a number, a date, a name...: a best sentence without one does not answer it.
            return Answer.abstention(question, NOT_FOUND, round(min(confidence, self.abstain_threshold), 4), notices)
        if not ranked or confidence < self.abstain_threshold:
            return Answer.abstention(question, NOT_FOUND, round(confidence, 4), notices)
        close = [s for s in ranked if s.score >= ranked[0].score - self.answer_margin]
        differing = self._differing_figures(ranked, analysis)
        draft = self._draft(differing or close, ranked, carry_context=not differing)
        quotes, citations = self._cite(draft, {s.sentence_id: s for s in ranked}, analysis)
        body = " ".join(q.text + " " + "".join(f"[{m}]" for m in q.markers) for q in quotes)
        return Answer(
            question=question,
            text=f"{SOURCES_DIFFER} {body}" if differing else body,
            quotes=quotes,
            citations=citations,
            confidence=round(confidence, 4),
            abstained=False,
            sources_differ=bool(differing),
            notices=notices,
        )

    def _differing_figures(self, ranked: list[ScoredSentence], analysis: QuestionAnalysis) -> list[ScoredSentence]:
        """The best sentence of each article that counts what the question counts, when their counts differ.

        Only for "how many" questions: a count is a number followed closely by the counted noun ("4,636
        troops" for "How many troops ..."), so a year, or a number about something else, is no disagreement.
        """
        if not analysis.counted:
            return []
        best = ranked[0]
        pool = [
            s
            for s in ranked
            if s.score >= best.score - DIFFERING_MARGINS * self.answer_margin
            and s.evidence.overlap >= DIFFERING_OVERLAP_SHARE * best.evidence.overlap
            and s.evidence.topic_overlap >= DIFFERING_MIN_TOPIC
        ]
        sentences = self.index.chunks.sentences(s.sentence_id for s in pool)
        chosen: list[ScoredSentence] = []
        counts: list[frozenset[str]] = []
        docs: set[str] = set()
        for scored in pool:
            sentence = sentences[scored.sentence_id]
            found = self.finder.count_values(analysis.counted, sentence.text, sentence.spans)
            if sentence.doc_id in docs or not found:
                continue
            docs.add(sentence.doc_id)
            if all(found - other and other - found for other in counts):
                chosen.append(scored)
                counts.append(found)
        return chosen[: self.max_answer_sentences] if len(chosen) > 1 else []

    def _draft(self, candidates: list[ScoredSentence], ranked: list[ScoredSentence], carry_context: bool) -> _Draft:
        """Quotes in order, within the sentence limit; near-duplicates from other articles become extra citations."""
        sentences = self.index.chunks.sentences(
            i for s in ranked for i in (s.sentence_id - 1, s.sentence_id, s.sentence_id + 1)
        )
        draft = _Draft()
        for scored in candidates:
            sentence_id = self._past_label(scored.sentence_id, sentences)
            if sentence_id in draft.sentence_ids:
                draft.context.discard(sentence_id)  # it was context, and is an answer in its own right
                continue
            duplicate_of = self._duplicate(sentence_id, draft.sentence_ids)
            if duplicate_of is not None:
                draft.also_cited.setdefault(duplicate_of, []).append(sentence_id)
                continue
            previous = sentence_id - 1
            needs_context = (
                carry_context
                and previous in sentences
                and previous not in draft.sentence_ids
                and sentences[sentence_id].leans_on_previous
            )
            if len(draft.sentence_ids) + 1 + needs_context > self.max_answer_sentences:
                if draft.sentence_ids:
                    break
                needs_context = False  # the answer sentence alone rather than nothing
            if needs_context:
                draft.sentence_ids.append(previous)
                draft.context.add(previous)
            draft.sentence_ids.append(sentence_id)
        # Repeats of quoted sentences elsewhere in the retrieved passages are cited too.
        for scored in ranked:
            if scored.sentence_id not in draft.sentence_ids and not any(
                scored.sentence_id in d for d in draft.also_cited.values()
            ):
                duplicate_of = self._duplicate(scored.sentence_id, draft.sentence_ids)
                if duplicate_of is not None:
                    draft.also_cited.setdefault(duplicate_of, []).append(scored.sentence_id)
        return draft

    @staticmethod
    def _past_label(sentence_id: int, sentences: dict) -> int:
        """For a label such as "Opening Hours:", the sentence it introduces (which then brings the label)."""
        following = sentence_id + 1
        if sentences[sentence_id].text.endswith(":") and following in sentences:
            return following
        return sentence_id

    def _duplicate(self, sentence_id: int, quoted: list[int]) -> int | None:
        """The quoted sentence, from another article, that `sentence_id` nearly repeats, if any."""
        others = [q for q in quoted if slot_of(q) != slot_of(sentence_id)]
        if not others:
            return None
        vectors = self.index.sentence_vectors.vectors([*others, sentence_id])
        similarities = vectors[:-1] @ vectors[-1]
        best = int(np.argmax(similarities))
        return others[best] if similarities[best] >= self.duplicate_similarity else None

    def _cite(
        self, draft: _Draft, scores: dict[int, ScoredSentence], analysis: QuestionAnalysis
    ) -> tuple[tuple[Quote, ...], tuple[Citation, ...]]:
        quoted = [
            i for sentence_id in draft.sentence_ids for i in (sentence_id, *draft.also_cited.get(sentence_id, []))
        ]
        sentences = self.index.chunks.sentences(quoted)
        citations: list[Citation] = []

        def cite(sentence_id: int) -> int:
            sentence = sentences[sentence_id]
            scored = scores.get(sentence_id)
            passage_id = scored.passage_id if scored else self._first_passage_holding(sentence_id)
            article = self.index.articles[sentence.doc_id]
            citations.append(
                Citation(
                    marker=len(citations) + 1,
                    doc_id=sentence.doc_id,
                    title=article.title,
                    passage=self.index.chunks.passages([passage_id])[0].text,
                    start=sentence.start,
                    end=sentence.end,
                    score=round(scored.score, 4) if scored else 0.0,
                    sentence=sentence.text,
                    byline=article.byline,
                    outlet=article.outlet,
                    dateline=article.dateline,
                )
            )
            return len(citations)

        quotes = []
        for sentence_id in draft.sentence_ids:
            sentence = sentences[sentence_id]
            markers = [cite(sentence_id)] + [cite(d) for d in draft.also_cited.get(sentence_id, [])]
            context = sentence_id in draft.context
            found = [] if context else self.finder.answers(analysis, sentence.text, sentence.spans)
            answer_span = (found[0].start, found[0].end) if found else None
            quotes.append(Quote(sentence.text, tuple(markers), context, answer_span))
        return tuple(quotes), tuple(citations)

    def _first_passage_holding(self, sentence_id: int) -> int:
        slot = slot_of(sentence_id)
        number = sentence_id - chunk_id(slot, 0)
        doc_id = self.index.chunks.sentences([sentence_id])[sentence_id].doc_id
        ids = [chunk_id(slot, n) for n in range(self.index.articles[doc_id].passages)]
        passages = self.index.chunks.passages(ids)
        return next(i for i, p in zip(ids, passages, strict=True) if p.first_sentence <= number < p.end_sentence)
