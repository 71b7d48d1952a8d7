"""Composer stage: choose the sentences to quote and cite them, or abstain.

Sentences come scored (`scoring`), the cheap first stage; with a trained reader (`composer.reader`), the
best `reader_candidates` of them are read with the question and ranked by the reader's logit, which also
gives the confidence (calibrated) and the answer span. The composer keeps the sentences close to the
best one, brings along a sentence that the chosen one leans on, quotes a sentence repeated word for word
by several articles once with all its citations (a citation always says what its quote says, figures and
dates included), quotes each article when their figures for the asked count differ or when they say the
same thing with other figures or dates, and abstains below the confidence threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Protocol

from askbalkans.answer import NOT_FOUND, SOURCES_DIFFER, Answer, Citation, Quote
from askbalkans.chunker import Sentence
from askbalkans.composer.reader import SentenceReader
from askbalkans.errors import SettingError
from askbalkans.question import AnswerFinder, QuestionAnalysis, analyse
from askbalkans.retriever import Retrieval
from askbalkans.scoring import Confidence, ScoredSentence, SentenceScorer
from askbalkans.stores import Index, chunk_id, slot_of
from askbalkans.tagging import Tagger
from askbalkans.text import statement_key

# Sentences that may show differing figures: within this many answer margins of the best sentence ...
DIFFERING_MARGINS = 2.0
# ... holding at least this share of the best sentence's overlap with the question ...
DIFFERING_OVERLAP_SHARE = 0.5
# ... and at least this much of the question's topic ("29 countries" in a sentence about troops does not
# answer "How many countries recognise Kosovo's independence?").
DIFFERING_MIN_TOPIC = 0.3
# The typed spans that are figures: sentences that differ only in these say the same thing of other figures.
FIGURE_TYPES = frozenset({"number", "money", "percent", "date"})


def figures_masked(sentence: Sentence) -> tuple[str, ...]:
    """The sentence's statement key with each figure (a typed span of FIGURE_TYPES, or a number the tagger
    missed) replaced by a mark of its type: two sentences with one such key say the same thing, perhaps of
    other figures or dates."""
    text, key, last = sentence.text, [], 0
    for span in sorted(sentence.spans, key=lambda span: span.start):
        if span.type in FIGURE_TYPES and span.start >= last:
            key += [*statement_key(text[last : span.start]), f"<{span.type}>"]
            last = span.end
    key += statement_key(text[last:])
    return tuple("<number>" if word[0].isdigit() else word for word in key)


@dataclass(frozen=True)
class ReaderCalibration:
    """The confidence that the chosen sentence answers the question: sigmoid(scale * its reader logit +
    scorer_scale * the first stage's confidence logit for it + bias), less `missing_type_penalty` (logit
    units) when the question asks for a number, a date... that the sentence does not hold. A soft
    penalty, not a veto: the reader may have found a figure written out in words that the tagger missed.
    Fitted by eval/fit_weights.py."""

    scale: float = 1.0
    bias: float = 0.0
    missing_type_penalty: float = 0.0
    scorer_scale: float = 0.0

    def confidence(self, reader_logit: float, scorer_logit: float, lacks_type: bool) -> float:
        z = self.scale * reader_logit + self.scorer_scale * scorer_logit + self.bias
        return 1.0 / (1.0 + math.exp(-(z - self.missing_type_penalty * lacks_type)))


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
        required_answer_types: frozenset[str] = frozenset(),
        sentence_reader: SentenceReader | None = None,
        reader_candidates: int = 8,
        reader_calibration: ReaderCalibration = ReaderCalibration(),
        reader_scorer_weight: float = 0.0,
    ):
        """`sentence_reader`: the trained reader, which re-ranks the scorer's best `reader_candidates`
        sentences by its logit plus `reader_scorer_weight` times their first-stage score (the two stages
        see different evidence); `reader_calibration` turns the best such score into the confidence.
        Without it, the scorer's ranking and `confidence` are used, and a best sentence lacking a required
        answer type abstains."""
        for name, value, low, high in (
            ("abstain_threshold", abstain_threshold, 0, 1),
            ("answer_margin", answer_margin, 0, float("inf")),
            ("max_answer_sentences", max_answer_sentences, 1, float("inf")),
            ("reader_candidates", reader_candidates, 1, float("inf")),
            ("reader_scorer_weight", reader_scorer_weight, 0, float("inf")),
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
        self.required_answer_types = required_answer_types
        self.sentence_reader = sentence_reader
        self.reader_candidates = reader_candidates
        self.reader_calibration = reader_calibration
        self.reader_scorer_weight = reader_scorer_weight

    def compose(self, retrieval: Retrieval, question: str, notices: tuple[str, ...] = ()) -> Answer:
        analysis = analyse(retrieval.question, self.tagger.tag([retrieval.question])[0])
        scored = self.scorer.score(retrieval, analysis)
        ranked, confidence = self.rank(retrieval.question, analysis, scored)
        if not ranked or confidence < self.abstain_threshold:
            return Answer.abstention(question, NOT_FOUND, round(confidence, 4), notices)
        close = [s for s in ranked if s.score >= ranked[0].score - self.answer_margin]
        differing = self._differing_figures(ranked, analysis)
        draft = self._draft(differing or close, scored, carry_context=not differing)
        read = {s.sentence_id: s for s in scored} | {s.sentence_id: s for s in ranked}  # the reader's scores win
        quotes, citations = self._cite(draft, read, analysis)
        body = " ".join(q.text + " " + "".join(f"[{m}]" for m in q.markers) for q in quotes)
        sources_differ = bool(differing) or self._figures_differ(draft)
        return Answer(
            question=question,
            text=f"{SOURCES_DIFFER} {body}" if sources_differ else body,
            quotes=quotes,
            citations=citations,
            confidence=round(confidence, 4),
            abstained=False,
            sources_differ=sources_differ,
            notices=notices,
        )

    def lacks_answer_type(self, analysis: QuestionAnalysis, best: ScoredSentence) -> bool:
        """It asks for a number, a date...: a best sentence without one does not answer it."""
        return analysis.answer_type in self.required_answer_types and not best.evidence.answer_type

    def rank(
        self, question: str, analysis: QuestionAnalysis, scored: list[ScoredSentence]
    ) -> tuple[list[ScoredSentence], float]:
        """The candidate sentences best first, and the confidence that the best one answers `question`.

        With the reader: its `reader_candidates` best by the scorer, scored by the reader's logit and the
        weighted first-stage score (and carrying the reader's answer span); else all of them as the scorer
        ranked them."""
        if not scored:
            return [], 0.0
        if self.sentence_reader is None:
            return scored, 0.0 if self.lacks_answer_type(analysis, scored[0]) else self.confidence(scored[0].evidence)
        candidates = scored[: self.reader_candidates]
        ids = [s.sentence_id for s in candidates]
        sentences = self.index.chunks.sentences(i + offset for i in ids for offset in (-1, 0))
        readings = self.sentence_reader.read(
            question, [(sentences[i - 1].text if i - 1 in sentences else "", sentences[i].text) for i in ids]
        )
        ranked = sorted(
            (
                replace(
                    s, score=r.logit + self.reader_scorer_weight * s.score, answer_span=r.span, reader_logit=r.logit
                )
                for s, r in zip(candidates, readings, strict=True)
            ),
            key=lambda s: -s.score,
        )
        best = ranked[0]
        assert best.reader_logit is not None
        lacks_type = self.lacks_answer_type(analysis, best)
        return ranked, self.reader_calibration.confidence(
            best.reader_logit, self.confidence.logit(best.evidence), lacks_type
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
        """Quotes in order, within the sentence limit; the same sentence in other articles becomes extra
        citations."""
        sentences = self.index.chunks.sentences(
            i for s in ranked for i in (s.sentence_id - 1, s.sentence_id, s.sentence_id + 1)
        )
        draft = _Draft()
        for scored in candidates:
            sentence_id = self._past_label(scored.sentence_id, sentences)
            if sentence_id in draft.sentence_ids:
                draft.context.discard(sentence_id)  # it was context, and is an answer in its own right
                continue
            duplicate_of = self._duplicate(sentence_id, draft.sentence_ids, sentences)
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
                duplicate_of = self._duplicate(scored.sentence_id, draft.sentence_ids, sentences)
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

    @staticmethod
    def _duplicate(sentence_id: int, quoted: list[int], sentences: dict[int, Sentence]) -> int | None:
        """The quoted sentence, from another article, that `sentence_id` repeats word for word and figure
        for figure (the same `statement_key`), if any. Not by embedding similarity: "reopened on 1 March"
        and "reopened on 2 March", or a sentence and its negation, are as close as two sentences get."""
        sentence = sentences[sentence_id]
        key = statement_key(sentence.text)
        return next(
            (q for q in quoted if sentences[q].doc_id != sentence.doc_id and statement_key(sentences[q].text) == key),
            None,
        )

    def _figures_differ(self, draft: _Draft) -> bool:
        """Whether two quoted answer sentences of different articles say the same thing of other figures
        or dates ("The bridge reopened on 1 March." and "... on 2 March."): each is quoted, and flagged."""
        answers = [i for i in draft.sentence_ids if i not in draft.context]
        sentences = self.index.chunks.sentences(answers)
        keys = {i: (figures_masked(sentences[i]), statement_key(sentences[i].text)) for i in answers}
        return any(
            keys[a][0] == keys[b][0] and keys[a][1] != keys[b][1] and sentences[a].doc_id != sentences[b].doc_id
            for n, a in enumerate(answers)
            for b in answers[n + 1 :]
        )

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
                    date=article.date,
                    url=article.url,
                    source=article.source,
                )
            )
            return len(citations)

        quotes = []
        for sentence_id in draft.sentence_ids:
            sentence = sentences[sentence_id]
            markers = [cite(sentence_id)] + [cite(d) for d in draft.also_cited.get(sentence_id, [])]
            context = sentence_id in draft.context
            scored = scores.get(sentence_id)
            if context:
                answer_span = None
            elif scored is not None and scored.answer_span is not None:
                answer_span = scored.answer_span  # the reader's
            else:
                found = self.finder.answers(analysis, sentence.text, sentence.spans)
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
