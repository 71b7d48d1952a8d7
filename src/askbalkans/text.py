"""Text analysis shared by every stage: folding, the one tokenizer, stemmed terms, names and acronyms."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import Stemmer

from askbalkans.lexicon import NOT_NAMES, STOPWORDS

_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−"), "-")
_QUOTES = {ord("‘"): "'", ord("’"): "'", ord("“"): '"', ord("”"): '"'}
_WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['][^\W\d_]+)*")


def fold(text: str) -> str:
    """Lower-case, strip accents, map dashes and quotes to ASCII, collapse whitespace."""
    if not text.isascii():  # most text is: then there is nothing to strip or map
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
        text = text.translate(_DASHES).translate(_QUOTES)
    text = text.lower()
    return " ".join(text.split())


_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    # PyStemmer's stemmers must not be shared between threads.
    if not hasattr(_local, "stemmer"):
        _local.stemmer = Stemmer.Stemmer("english")
    return _local.stemmer


def words(text: str) -> list[str]:
    """Folded words of `text`, numbers without thousands separators ("4,636" -> "4636"), "'s" dropped."""
    found = []
    for word in _WORD.findall(fold(text)):
        if word[0].isdigit():
            word = word.replace(",", "")
        elif word.endswith("'s"):
            word = word[:-2]
        found.append(word)
    return found


# A number written with thousands separators ("4,636", "1,250,000.5"); "1,5" is not one.
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def statement_key(text: str) -> tuple[str, ...]:
    """What two sentences must share to be quoted as one: their folded words and figures, in order, with
    punctuation, spacing, case and accents aside. Nothing that changes what a sentence says is dropped:
    every digit ("4,636" reads as "4636", "1,5" as itself), dates, negations ("not", "didn't"), names and
    "'s" all count; "%" reads as "percent"."""
    return tuple(
        word.replace(",", "") if _THOUSANDS.fullmatch(word) else word
        for word in _WORD.findall(fold(text.replace("%", " percent ")))
    )


def terms(text: str) -> list[str]:
    """Stemmed content words of `text`: what the lexical index and the overlap scores compare."""
    return _stemmer().stemWords([word for word in words(text) if word not in STOPWORDS])


# --- names ---------------------------------------------------------------------------------------

# A capitalised word ("Sorensen", "KFOR", "Kosovo-Serbia") and a title-case one ("Sorensen", not "KFOR").
_CAPITALISED = r"[A-Z][\w’'-]*"
_TITLE_CASE = r"[A-Z][a-z][\w’']*"
# A name: capitalised words, allowing one joining word between two ("Bosnia and Herzegovina").
_NAME = re.compile(rf"\b{_CAPITALISED}(?:\s+(?:(?:of|and|for|the|de|von|van)\s+)?{_CAPITALISED})*")
# A run of two or more title-case words, joining words inside ("Partnership for Peace Consortium").
NAME_RUN = re.compile(rf"\b{_TITLE_CASE}(?:\s+(?:(?:of|for|and|the|on|in)\s+)*{_TITLE_CASE})+")


def names_in(text: str) -> list[tuple[int, str]]:
    """(position, name) for the names in `text`, leading titles stripped ("Mark Rutte", "KFOR")."""
    found = []
    for match in _NAME.finditer(text):
        tokens = list(re.finditer(r"\S+", match.group()))
        while tokens and fold(tokens[0].group()) in NOT_NAMES:
            tokens.pop(0)
        if tokens:
            name = re.sub(r"[’']s$", "", match.group()[tokens[0].start() :])
            found.append((match.start() + tokens[0].start(), name))
    return found


def looks_like_a_person(name: str) -> bool:
    """Two or more capitalised words and nothing else: "Peter Sorensen", "Aleksandar Vučić"; not an
    acronym, a compound ("Kosovo-Serbia") or a place with a joining word ("Bosnia and Herzegovina")."""
    tokens = name.split()
    return len(tokens) >= 2 and all(t[0].isupper() and t[1:].isalpha() and t[1:].islower() for t in tokens)


# --- acronyms ------------------------------------------------------------------------------------

# An acronym: two to seven letters, at least two of them capitals ("EU", "KFOR", "PfPC").
_ACRONYM = re.compile(r"\b(?=(?:[a-z]*[A-Z]){2})[A-Z][A-Za-z]{1,6}\b")
_DEFINED = re.compile(rf"({NAME_RUN.pattern})\s+\(([A-Z][A-Za-z]{{1,6}})\)")


# Longest lower-case word that an acronym's term can equal (acronyms have at most seven letters).
_ACRONYM_LETTERS = 7


@dataclass(frozen=True)
class AcronymEvidence:
    """What one article says about acronyms: the ones it defines or spells out, and its short lower-case
    words (an acronym that is also a lower-case word of the corpus is not used)."""

    expansions: Mapping[str, tuple[str, ...]]  # acronym term -> the terms it stands for, first found
    lower_case_words: frozenset[str]


def acronym_evidence(texts: Sequence[str]) -> AcronymEvidence:
    """The acronyms that one article's `texts` (its title and sentences) define ("the Kosovo Force (KFOR)")
    or use beside a name their initials spell ("European Union" and "EU", anywhere in the article), and
    their lower-case words of up to seven letters. Names are read within a text: a headline without a full
    stop does not run on into the first sentence."""
    found: dict[str, tuple[str, ...]] = {}
    used = {acronym for text in texts for acronym in _ACRONYM.findall(text)}
    lower_case_words: set[str] = set()
    for text in texts:
        for phrase, acronym in _DEFINED.findall(text):
            run = phrase.split()
            # The defining words are the last ones of the run: "the North Atlantic Alliance (NATO)".
            start = next((i for i, word in enumerate(run) if word[0] == acronym[0].upper()), None)
            if start is not None and len(run) - start >= 2:
                found.setdefault(_key(acronym), tuple(terms(" ".join(run[start:]))))
        for match in NAME_RUN.finditer(text):
            run = match.group().split()
            spelled = {"".join(word[0] for word in run).upper(), "".join(w[0] for w in run if w[0].isupper())}
            for acronym in sorted(used):
                if acronym.upper() in spelled:
                    found.setdefault(_key(acronym), tuple(terms(match.group())))
        lower_case_words.update(_SHORT_LOWER_CASE_WORD.findall(text))
    return AcronymEvidence(
        {acronym: expansion for acronym, expansion in found.items() if acronym and expansion},
        frozenset(lower_case_words),
    )


_SHORT_LOWER_CASE_WORD = re.compile(rf"\b[a-z]{{1,{_ACRONYM_LETTERS}}}\b")


class AcronymCounts:
    """Acronym evidence summed over the articles of a corpus, as counts, so that adding or removing an
    article updates them without reading the others again. An acronym stands for the expansion that the
    most articles give (the first in sorted order on a tie), unless it is also a lower-case word of some
    article ("ART" and "art" would join unrelated texts)."""

    def __init__(
        self, expansions: Counter[tuple[str, tuple[str, ...]]] | None = None, words: Counter[str] | None = None
    ):
        self._expansions = Counter(expansions or ())  # (acronym, expansion) -> articles that give it
        self._words = Counter(words or ())  # short lower-case word -> articles that use it

    @classmethod
    def of(cls, evidence: Iterable[AcronymEvidence]) -> AcronymCounts:
        counts = cls()
        for one in evidence:
            counts.add(one)
        return counts

    def copy(self) -> AcronymCounts:
        return AcronymCounts(self._expansions, self._words)

    def add(self, evidence: AcronymEvidence) -> None:
        self._expansions.update(evidence.expansions.items())
        self._words.update(evidence.lower_case_words)

    def remove(self, evidence: AcronymEvidence) -> None:
        """Take back what `add(evidence)` counted."""
        self._expansions.subtract(evidence.expansions.items())
        self._words.subtract(evidence.lower_case_words)
        self._expansions = +self._expansions  # drop what reached zero
        self._words = +self._words

    def acronyms(self) -> dict[str, list[str]]:
        """{"eu": ["european", "union"], ...}, in sorted order."""
        best: dict[str, tuple[int, tuple[str, ...]]] = {}
        for (acronym, expansion), count in sorted(self._expansions.items()):
            if acronym not in self._words and count > best.get(acronym, (0, ()))[0]:
                best[acronym] = (count, expansion)
        return {acronym: list(expansion) for acronym, (_, expansion) in best.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "expansions": [
                [acronym, list(expansion), count] for (acronym, expansion), count in sorted(self._expansions.items())
            ],
            "words": dict(sorted(self._words.items())),
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> AcronymCounts:
        expansions = Counter(
            {(acronym, tuple(expansion)): int(count) for acronym, expansion, count in value["expansions"]}
        )
        return cls(expansions, Counter({word: int(count) for word, count in value["words"].items()}))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AcronymCounts) and self.to_json() == other.to_json()


def _key(acronym: str) -> str:
    return (terms(acronym) or [""])[0]


class Acronyms:
    """Acronyms and what they stand for (see `AcronymCounts.acronyms`), indexed for a quick look-up either way."""

    def __init__(self, expansions: Mapping[str, list[str]]):
        self.expansions = dict(expansions)
        self._order = {acronym: number for number, acronym in enumerate(self.expansions)}
        self._by_first_term: dict[str, list[str]] = {}
        for acronym, expansion in self.expansions.items():
            self._by_first_term.setdefault(expansion[0], []).append(acronym)


def with_acronyms(found: list[str], acronyms: Acronyms) -> list[str]:
    """`found` terms plus, for each acronym among them, what it stands for, and for each full form, its
    acronym: a text that says "EU" then matches "European Union", and the other way round."""
    present = set(found)
    candidates = {t for t in present if t in acronyms.expansions}
    candidates.update(a for t in present for a in acronyms._by_first_term.get(t, ()))
    extra = []
    for acronym in sorted(candidates, key=acronyms._order.__getitem__):
        expansion = acronyms.expansions[acronym]
        if acronym in present:
            extra += [term for term in expansion if term not in present]
        elif all(term in present for term in expansion):
            extra.append(acronym)
    return found + extra


def lexical_terms(title: str, passage: str, acronyms: Acronyms) -> list[str]:
    """What the lexical index matches for a passage. The title's words count for every passage of the
    article ("Super Bowl 50" questions find the passages of that article); acronyms match their full form."""
    return with_acronyms(terms(f"{title}\n{passage}"), acronyms)
