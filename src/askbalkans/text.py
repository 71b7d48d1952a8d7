"""Text analysis shared by every stage: folding, the one tokenizer, stemmed terms, names and acronyms."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Mapping

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


def find_acronyms(texts: list[str]) -> dict[str, list[str]]:
    """Acronyms of the corpus and what they stand for, as terms: {"eu": ["european", "union"], ...}.

    An acronym is defined in a text ("the Kosovo Force (KFOR)"), or a text uses it beside a name its
    initials spell ("European Union" and "EU"), so questions and articles match whichever form they use.
    """
    found: dict[str, list[str]] = {}
    for text in texts:
        for phrase, acronym in _DEFINED.findall(text):
            run = phrase.split()
            # The defining words are the last ones of the run: "the North Atlantic Alliance (NATO)".
            start = next((i for i, word in enumerate(run) if word[0] == acronym[0].upper()), None)
            if start is not None and len(run) - start >= 2:
                found.setdefault(_key(acronym), terms(" ".join(run[start:])))
        used = set(_ACRONYM.findall(text))
        for match in NAME_RUN.finditer(text):
            run = match.group().split()
            spelled = {"".join(word[0] for word in run).upper(), "".join(w[0] for w in run if w[0].isupper())}
            for acronym in used:
                if acronym.upper() in spelled:
                    found.setdefault(_key(acronym), terms(match.group()))
    # An acronym that is also a lower-case word of the corpus ("ART" and "art") would join unrelated texts.
    lower_case_words = {word for text in texts for word in re.findall(r"\b[a-z]+\b", text)}
    return {
        acronym: expansion
        for acronym, expansion in found.items()
        if acronym and expansion and acronym not in lower_case_words
    }


def _key(acronym: str) -> str:
    return (terms(acronym) or [""])[0]


class Acronyms:
    """Acronyms and what they stand for (see `find_acronyms`), indexed for a quick look-up either way."""

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
