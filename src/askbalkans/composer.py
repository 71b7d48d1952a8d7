"""Composer stage: an extractive answer, quoted sentence by sentence from the retrieved passages.

Every quoted sentence is a verbatim span of an article and carries a citation. Sentences are ranked by
a weighted sum of evidence (`Settings.sentence_weights`); the evidence for the best one gives the
confidence (`Settings.confidence_weights`), and below `Settings.abstain_threshold` the composer says the
corpus does not hold the answer instead of quoting something loosely related.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from itertools import pairwise

import numpy as np

from askbalkans.config import Settings
from askbalkans.indexer import Index
from askbalkans.retriever import Retrieval
from askbalkans.text import fold, terms, with_acronyms, words

NOT_FOUND = "Not found in the corpus: none of the articles answers this question."
SOURCES_DIFFER = "The sources differ:"
# A number counts the noun that follows it within this many words ("4,636 troops", "29 NATO member states").
FIGURE_WINDOW = 3


@dataclass(frozen=True)
class Citation:
    marker: int  # the [n] in the answer text
    doc_id: str
    title: str
    passage: str  # the passage the sentence was retrieved in
    start: int  # character span of the quoted sentence in the article
    end: int
    score: float  # relevance of the sentence to the question (sentence score, logit units)
    sentence: str  # the quoted sentence, == article text[start:end]


@dataclass(frozen=True)
class Quote:
    text: str  # verbatim sentence
    markers: tuple[int, ...]  # its citations: several when articles repeat the sentence
    context: bool = False  # quoted because the next sentence leans on it ("He also ...")


@dataclass
class Answer:
    question: str
    text: str  # the quoted sentences, each followed by its citation markers
    quotes: list[Quote]
    citations: list[Citation]
    confidence: float  # 0..1: how likely the corpus answers the question with these sentences
    abstained: bool
    sources_differ: bool = False  # the top articles give different figures; each is quoted
    notices: list[str] = field(default_factory=list)  # about the question: cut, read as a follow-up
    retrieved: list[str] = field(default_factory=list)  # articles of the best-ranked passages, best first

    def to_dict(self) -> dict:
        return asdict(self)


# --- what the question asks for ----------------------------------------------------------------

_CUES = [
    ("number", r"how (many|much|long|old|far|large|big|high|often)|what (number|percentage|share|amount|proportion)"),
    ("date", r"when|(what|which) (year|date|day|month|century|decade|time|period)"),
    ("person", r"who(m|se)?|(what|which) (person|people|man|woman|official|leader|minister|president|envoy)"),
    (
        "place",
        r"where|(what|which) (city|cities|country|countries|place|town|region|capital|street|venue|province|"
        r"district|municipality|village|location|address|building|state|island|river)",
    ),
    (
        "name",
        r"(what|which) (organi[sz]ation|company|group|party|agency|body|institution|outlet|newspaper|team|"
        r"alliance|mission|initiative|project|platform|force|nations?)|name of",
    ),
]
_CUE = re.compile("|".join(f"(?P<{kind}>\\b(?:{pattern})\\b)" for kind, pattern in _CUES))
# A bare "who", "when" or "where" after one of these starts the question's own clause ("Apart from X,
# who ...", "Approximately when ..."); after a noun it starts a relative clause ("officials who briefed").
_BARE_CUE = re.compile(r"who(m|se)?|when|where")
_CLAUSE_OPENERS = frozenset(
    """in on at by for with from to of and but or since until during about after before than so then
    approximately roughly exactly apart""".split()
)
_MONTHS = frozenset("january february march april may june july august september october november december".split())
_NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred
    thousand million billion dozen dozens hundreds thousands millions half""".split()
)
_DATE_WORDS = _MONTHS | frozenset("century centuries decade decades ago".split())
_ORDINAL_DAY = re.compile(r"\d{1,2}(st|nd|rd|th)")
# A capitalised word that does not start the sentence: a rough sign of a name.
_NAME_WORD = re.compile(r"(?<=[\w,;:–—-] )[A-Z][\w'’-]+")
_COUNTED = re.compile(r"\bhow (?:many|much) ([a-z]+)")
_TOKEN = re.compile(r"\d[\d,.]*\d|\d|[^\W\d_]+")
_YEAR = re.compile(r"(19|20)\d\d")


@dataclass(frozen=True)
class Focus:
    """What a question asks for, worked out once per question."""

    kind: str  # number, date, person, place, name (an organisation, a country...) or other
    words: frozenset[str]  # the question's own words: what it states is not an answer
    counted: frozenset[str]  # the stemmed noun of "how many troops ..."
    topic: frozenset[str]  # stemmed terms of the question's own words, names aside ("commander" in "Who is
    # the commander of KFOR?"): a sentence that lacks them is likely about the names, not the question


def _opens_question(folded: str, cue: re.Match) -> bool:
    if not _BARE_CUE.fullmatch(cue.group()):
        return True  # "how many", "which city" always ask
    before = folded[: cue.start()].rstrip()
    return not before or not before[-1].isalnum() or before.split()[-1] in _CLAUSE_OPENERS


def question_focus(question: str) -> Focus:
    folded = fold(question)
    cues = list(_CUE.finditer(folded))
    cue = next((cue for cue in cues if _opens_question(folded, cue)), None)
    counted = _COUNTED.search(folded)
    tokens = question.split()
    return Focus(
        kind=cue.lastgroup if cue else "other",
        words=frozenset(words(question)),
        counted=frozenset(terms(counted.group(1))) if counted else frozenset(),
        topic=frozenset(terms(" ".join(t for i, t in enumerate(tokens) if i == 0 or not t[:1].isupper()))),
    )


def offers(focus: Focus, sentence: str) -> bool:
    """Whether `sentence` holds something of the kind asked for that the question does not state."""
    if focus.kind == "other":
        return True
    if focus.kind == "number" and focus.counted:
        return bool(counts_of(sentence, focus.counted))
    new_words = [word for word in words(sentence) if word not in focus.words]
    if focus.kind == "number":
        return any(word[0].isdigit() or word in _NUMBER_WORDS for word in new_words)
    if focus.kind == "date":
        return any(
            (word.isdigit() and len(word) == 4) or word in _DATE_WORDS or _ORDINAL_DAY.fullmatch(word)
            for word in new_words
        )
    names = _NAME_WORD.findall(sentence)
    if focus.kind == "person":  # an acronym (NATO, KFOR) names an organisation, not a person
        names = [name for name in names if not name.isupper()]
    return bool({word for name in names for word in words(name)} - focus.words - _MONTHS)


def counts_of(sentence: str, nouns: frozenset[str]) -> frozenset[str]:
    """Numbers in `sentence` followed within a few words by one of `nouns` ("4,636 troops"); years excluded."""
    tokens = _TOKEN.findall(fold(sentence))
    found = set()
    for position, token in enumerate(tokens):
        is_number = (token[0].isdigit() and not _YEAR.fullmatch(token)) or token in _NUMBER_WORDS
        following = tokens[position + 1 : position + 1 + FIGURE_WINDOW]
        if is_number and any(set(terms(word)) & nouns for word in following):
            found.add(token.replace(",", ""))
    return frozenset(found)


# --- scoring sentences -------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """What speaks for a sentence answering the question (see `config.EvidenceWeights` for each)."""

    dense: float
    overlap: float
    context_overlap: float
    topic_overlap: float
    bigram: float
    passage: float
    kind: float

    def weighted(self, weights) -> float:
        """Sum of each piece of evidence times the same-named field of `weights`."""
        return sum(getattr(self, name) * getattr(weights, name) for name in EVIDENCE)


EVIDENCE = tuple(f.name for f in fields(Evidence))


@dataclass(frozen=True)
class ScoredSentence:
    sentence_id: int
    passage_id: int  # the best-ranked retrieved passage that holds it
    score: float  # weighted evidence, logit units
    evidence: Evidence


class SentenceScorer:
    """Scores the sentences of retrieved passages. Per-index data is computed once, here."""

    def __init__(self, index: Index, settings: Settings):
        self.index = index
        self.weights = settings.sentence_weights
        self.sentence_terms = [with_acronyms(terms(s.text), index.acronyms) for s in index.sentences]
        own_sets = [frozenset(t) for t in self.sentence_terms]
        # A sentence that leans on the previous one is matched together with it, as it is embedded.
        self.term_sets = [
            own | own_sets[i - 1] if sentence.leans_on_previous else own
            for i, (sentence, own) in enumerate(zip(index.sentences, own_sets, strict=True))
        ]
        self.neighbourhood_sets = [self._with_neighbours(i) for i in range(len(self.term_sets))]
        document_frequency = Counter(t for term_set in own_sets for t in term_set)
        count = len(own_sets)
        self.idf = {t: math.log((count + 1) / (df + 0.5)) for t, df in document_frequency.items()}
        self.unseen_idf = math.log((count + 1) / 0.5)  # a word the corpus never uses weighs most

    def overlap(self, query_terms: set[str], found: frozenset[str]) -> float:
        """Share of the question's terms in `found`, each term weighted by its idf."""
        total = sum(self.idf.get(t, self.unseen_idf) for t in query_terms)
        return sum(self.idf.get(t, self.unseen_idf) for t in query_terms & found) / total if total else 0.0

    def score(self, retrieval: Retrieval, focus: Focus) -> list[ScoredSentence]:
        """Sentences of the retrieved passages, best first."""
        index = self.index
        passage_of: dict[int, tuple[int, float]] = {}  # sentence -> (best passage, its relative score)
        top_score = max(retrieval.hits[0].score, 1e-6) if retrieval.hits else 1.0
        for hit in retrieval.hits:
            passage = index.passages[hit.passage_id]
            for sentence_id in range(passage.first_sentence, passage.end_sentence):
                passage_of.setdefault(sentence_id, (hit.passage_id, hit.score / top_score))
        if not passage_of:
            return []
        ids = list(passage_of)
        dense = (index.sentence_vectors[ids] @ retrieval.query_vector).tolist()
        query_terms = set(retrieval.query_terms)
        query_pairs = set(pairwise(retrieval.query_terms))
        scored = []
        for sentence_id, cosine in zip(ids, dense, strict=True):
            own_terms = self.sentence_terms[sentence_id]
            neighbourhood = self.neighbourhood_sets[sentence_id]
            passage_id, passage_score = passage_of[sentence_id]
            evidence = Evidence(
                dense=cosine,
                overlap=self.overlap(query_terms, self.term_sets[sentence_id]),
                context_overlap=self.overlap(query_terms, neighbourhood),
                topic_overlap=self.overlap(focus.topic, neighbourhood) if focus.topic else 1.0,
                bigram=len(query_pairs & set(pairwise(own_terms))) / len(query_pairs) if query_pairs else 0.0,
                passage=passage_score,
                kind=float(offers(focus, index.sentences[sentence_id].text)),
            )
            scored.append(ScoredSentence(sentence_id, passage_id, evidence.weighted(self.weights), evidence))
        return sorted(scored, key=lambda s: -s.score)

    def _with_neighbours(self, sentence_id: int) -> frozenset[str]:
        sentences = self.index.sentences
        doc_id = sentences[sentence_id].doc_id
        around = [
            i for i in (sentence_id - 1, sentence_id + 1) if 0 <= i < len(sentences) and sentences[i].doc_id == doc_id
        ]
        return self.term_sets[sentence_id].union(*(self.term_sets[i] for i in around))


# --- composing ---------------------------------------------------------------------------------


@dataclass
class _Draft:
    """Quotes being assembled: sentence ids with their citation sentence ids."""

    sentence_ids: list[int] = field(default_factory=list)
    context: set[int] = field(default_factory=set)
    also_cited: dict[int, list[int]] = field(default_factory=dict)  # quoted id -> near-duplicates


class Composer:
    def __init__(self, index: Index, settings: Settings):
        self.index = index
        self.settings = settings
        self.scorer = SentenceScorer(index, settings)
        # The first passage holding each sentence, to cite a context sentence in.
        self.passage_of = np.zeros(len(index.sentences), dtype=np.int64)
        for passage_id in reversed(range(len(index.passages))):
            passage = index.passages[passage_id]
            self.passage_of[passage.first_sentence : passage.end_sentence] = passage_id

    def confidence(self, best: ScoredSentence) -> float:
        z = self.settings.confidence_bias + best.evidence.weighted(self.settings.confidence_weights)
        return 1.0 / (1.0 + math.exp(-z))

    def compose(self, retrieval: Retrieval, notices: list[str] | None = None) -> Answer:
        notices = list(notices or [])
        focus = question_focus(retrieval.question)
        ranked = self.scorer.score(retrieval, focus)
        confidence = self.confidence(ranked[0]) if ranked else 0.0
        if not ranked or confidence < self.settings.abstain_threshold:
            return Answer(
                retrieval.question,
                NOT_FOUND,
                [],
                [],
                round(confidence, 4),
                True,
                notices=notices,
                retrieved=retrieval.ranked_doc_ids,
            )
        close = [s for s in ranked if s.score >= ranked[0].score - self.settings.answer_margin]
        differing = self._differing_figures(ranked, focus, retrieval.query_terms)
        draft = self._draft(differing or close, ranked, carry_context=not differing)
        answer = self._render(retrieval.question, draft, {s.sentence_id: s for s in ranked}, confidence, notices)
        if differing:
            answer.sources_differ = True
            answer.text = f"{SOURCES_DIFFER} {answer.text}"
        answer.retrieved = retrieval.ranked_doc_ids
        return answer

    def _differing_figures(
        self, ranked: list[ScoredSentence], focus: Focus, query_terms: list[str]
    ) -> list[ScoredSentence]:
        """The best sentence of each article that counts what the question counts, when their counts differ.

        Only for "how many" questions: a count is a number followed closely by the counted noun ("4,636
        troops" for "How many troops ..."), so a year, or a number about something else, is no disagreement.
        """
        if focus.kind != "number":
            return []
        best = ranked[0]
        # Candidates about what the question asks: close in score, and holding a fair share of its topic
        # words ("29 countries" in a sentence about troops does not answer "How many countries recognise
        # Kosovo's independence?").
        pool = [
            s
            for s in ranked
            if s.score >= best.score - 2 * self.settings.answer_margin
            and s.evidence.overlap >= 0.5 * best.evidence.overlap
            and s.evidence.topic_overlap >= 0.3
        ]
        chosen, counts, docs = [], [], set()
        for scored in pool:
            sentence = self.index.sentences[scored.sentence_id]
            found = counts_of(sentence.text, focus.counted or frozenset(query_terms))
            if sentence.doc_id in docs or not found:
                continue
            docs.add(sentence.doc_id)
            if all(found - other and other - found for other in counts):
                chosen.append(scored)
                counts.append(found)
        return chosen[: self.settings.max_answer_sentences] if len(chosen) > 1 else []

    def _draft(self, candidates: list[ScoredSentence], ranked: list[ScoredSentence], carry_context: bool) -> _Draft:
        """Quotes in order, within the sentence limit; near-duplicates from other articles become extra citations."""
        index, limit = self.index, self.settings.max_answer_sentences
        draft = _Draft()
        vectors = index.sentence_vectors
        for scored in candidates:
            sentence_id = self._past_label(scored.sentence_id)
            if sentence_id in draft.sentence_ids:
                draft.context.discard(sentence_id)  # it was context, and is an answer in its own right
                continue
            duplicate_of = self._duplicate(sentence_id, draft.sentence_ids, vectors)
            if duplicate_of is not None:
                draft.also_cited.setdefault(duplicate_of, []).append(sentence_id)
                continue
            previous = sentence_id - 1
            needs_context = (
                carry_context
                and previous >= 0
                and previous not in draft.sentence_ids
                and index.sentences[sentence_id].leans_on_previous
            )
            if len(draft.sentence_ids) + 1 + needs_context > limit:
                break
            if needs_context:
                draft.sentence_ids.append(previous)
                draft.context.add(previous)
            draft.sentence_ids.append(sentence_id)
        # Repeats of quoted sentences elsewhere in the retrieved passages are cited too.
        for scored in ranked:
            if scored.sentence_id not in draft.sentence_ids and not any(
                scored.sentence_id in d for d in draft.also_cited.values()
            ):
                duplicate_of = self._duplicate(scored.sentence_id, draft.sentence_ids, vectors)
                if duplicate_of is not None:
                    draft.also_cited.setdefault(duplicate_of, []).append(scored.sentence_id)
        return draft

    def _past_label(self, sentence_id: int) -> int:
        """For a label such as "Opening Hours:", the sentence it introduces (which then brings the label)."""
        sentences, following = self.index.sentences, sentence_id + 1
        if (
            sentences[sentence_id].text.endswith(":")
            and following < len(sentences)
            and sentences[following].doc_id == sentences[sentence_id].doc_id
        ):
            return following
        return sentence_id

    def _duplicate(self, sentence_id: int, quoted: list[int], vectors: np.ndarray) -> int | None:
        """The quoted sentence, from another article, that `sentence_id` nearly repeats, if any."""
        doc_id = self.index.sentences[sentence_id].doc_id
        others = [q for q in quoted if self.index.sentences[q].doc_id != doc_id]
        if not others:
            return None
        similarities = vectors[others] @ vectors[sentence_id]
        best = int(np.argmax(similarities))
        return others[best] if similarities[best] >= self.settings.duplicate_similarity else None

    def _render(
        self, question: str, draft: _Draft, scores: dict[int, ScoredSentence], confidence: float, notices: list[str]
    ) -> Answer:
        index = self.index
        citations: list[Citation] = []

        def cite(sentence_id: int) -> int:
            sentence = index.sentences[sentence_id]
            scored = scores.get(sentence_id)
            passage_id = scored.passage_id if scored else int(self.passage_of[sentence_id])
            citations.append(
                Citation(
                    marker=len(citations) + 1,
                    doc_id=sentence.doc_id,
                    title=index.titles[sentence.doc_id],
                    passage=index.passages[passage_id].text,
                    start=sentence.start,
                    end=sentence.end,
                    score=round(scored.score, 4) if scored else 0.0,
                    sentence=sentence.text,
                )
            )
            return len(citations)

        quotes = []
        for sentence_id in draft.sentence_ids:
            markers = [cite(sentence_id)] + [cite(d) for d in draft.also_cited.get(sentence_id, [])]
            quotes.append(Quote(index.sentences[sentence_id].text, tuple(markers), sentence_id in draft.context))
        body = " ".join(q.text + " " + "".join(f"[{m}]" for m in q.markers) for q in quotes)
        return Answer(question, body, quotes, citations, round(confidence, 4), False, notices=notices)
