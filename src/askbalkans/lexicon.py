"""What AskBalkans knows about English words, in one place: word lists and the patterns built from them.

Every stage that needs a list of words (stopwords, abbreviations, question cues, pronouns, page chrome)
takes it from here, so a word is added once and every stage sees it.
"""

from __future__ import annotations

import re

from bm25s.stopwords import STOPWORDS_EN


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- matching ------------------------------------------------------------------------------------

# Question words carry no content for matching; the question's answer type is read from the raw question.
QUESTION_WORDS = _words(
    "who whom whose what which when where why how many much did does do was were is are has have had"
)
STOPWORDS = frozenset(STOPWORDS_EN) | QUESTION_WORDS

# --- sentences -----------------------------------------------------------------------------------

# Words that end in a period without ending the sentence: titles and the like ...
ABBREVIATIONS = _words(
    """mr mrs ms dr prof sr jr st mt gen col lt sgt capt cmdr adm maj gov sen rep rev hon pres amb fr supt
    insp det cpl pvt dept univ assn approx vs cf ca ob"""
)
# ... words abbreviated before a number ("Sept. 19", "No. 7") ...
ABBREVIATIONS_BEFORE_NUMBER = _words(
    """jan feb mar apr jun jul aug sep sept oct nov dec no nos nr vol vols pp art arts sec ch para fig figs
    op"""
)
# ... and words that end a sentence only before a typical sentence start, like initialisms:
# "... in the U.S. The ..." splits, "U.S. Army" and "John F. Kennedy" do not.
ABBREVIATIONS_BEFORE_NAME = _words("inc ltd co corp bros etc al")
SENTENCE_STARTERS = _words(
    """the a an this that these those it its he she his her they their we i in on at for but and however
    after before when while during since as if there here some many most one two"""
)
# Openings that make a sentence lean on the one before it ("He also visited Belgrade.").
LEANING_START = re.compile(
    r"""^["“‘']?(he|she|it|they|his|her|its|their|him|them|this|these|that|those|such|there|the\ latter|
    the\ former|also|however|but|yet|meanwhile|moreover|furthermore|besides|instead|then|thus|therefore|
    according\ to\ (him|her|them))\b""",
    re.IGNORECASE | re.VERBOSE,
)

# --- page chrome ---------------------------------------------------------------------------------

# Whole lines of page chrome: navigation, widgets and counters that state no fact.
CHROME_LINE = re.compile(
    r"""(?ix)^(
        load\ more | read\ more | show\ more | leave\ a\ (comment|reply) | you\ may\ also\ like
      | related\ (posts?|articles?|stories) | share(\ this)?(\ (post|article|story))?:? | connect\ with\ us:?
      | follow\ us(\ on\ \w+)?:? | subscribe(\ to\ our\ newsletter)? | advertisement | print | tweet
      | skip\ to\ (main\ )?content | (previous|next)\ (post|article|story) | back\ to\ top
      | \d+ | (\d+|no)\ comments? | comments?
    )$"""
)
# "4 Min Read", "RKS NEWS 4 Min Read": reading-time bylines, only on short lines.
READING_TIME = re.compile(r"(?i)\b\d+\s*min(ute)?s?\s+read\b")
# A currency right after a number ("520 million euros"): spaCy's small model often tags the number alone,
# as a cardinal; with the currency it is an amount of money.
CURRENCY_AFTER = re.compile(
    r"(?i)\s*(?:(?:euros?|eur|dollars?|usd|pounds?(?: sterling)?|gbp|dinars?|rsd|francs?|chf|lek|denars?)\b|[€$£])"
)
COOKIE_NOTICE = re.compile(r"(?i)\b(uses? cookies|cookie (policy|settings|preferences)|accept (all )?cookies)\b")

# --- what a question asks for --------------------------------------------------------------------

# Up to a few words between "which" and its noun ("which French and German officials"), none of them an
# auxiliary verb: "what did the alliance ask" does not ask for an alliance.
_MODIFIERS = r"( (?!(?:is|are|was|were|do|does|did|has|have|had|will|would|can|could|should)\b)[\w-]+)"
# Answer types and the question phrases that ask for them, in order of precedence.
ANSWER_TYPE_CUES = (
    ("percent", r"what (percentage|per ?cent|share|proportion)|how many per ?cent"),
    (
        "money",
        r"how much (money|does|did|do|will|would|is|was|has|have)\b.{0,60}?\b(cost|costs|spend|spent|pay|paid|"
        r"worth|budget|fund|funded)|what (is|was) the (cost|budget|price|value)|how much money",
    ),
    ("age", r"how old|(what|which) age"),
    ("duration", r"how (long|often)"),
    ("number", r"how (many|much|far|large|big|high)|what (number|amount)"),
    ("year", r"(what|which) year"),
    ("date", r"when|(what|which) (date|day|month|century|decade|time|period)"),
    (
        "person",
        r"who(m|se)?|(what|which)" + _MODIFIERS + r"{0,3}? (person|people|man|woman|officials?|leaders?|ministers?|"
        r"presidents?|envoys?|diplomats?|mediators?)",
    ),
    (
        "place",
        r"where|(what|which)" + _MODIFIERS + r"{0,2}? (city|cities|country|countries|place|town|region|capital|"
        r"street|venue|province|district|municipality|village|location|address|building|state|island|river)",
    ),
    (
        "name",
        r"(what|which)" + _MODIFIERS + r"{0,2}? (organi[sz]ation|company|group|party|agency|body|institution|outlet|"
        r"newspaper|team|alliance|mission|initiative|project|platform|force|nations?|publication)|name of",
    ),
)
# The typed spans (see tagging) that can answer each answer type. The tagger often takes a Balkan
# person's name for a place: person questions also accept places that look like a person's name, and
# age questions dates that say "old" (question.AnswerFinder).
ANSWER_SPAN_TYPES = {
    "percent": {"percent"},
    "money": {"money"},
    "age": {"number", "date"},  # dates only with "old" or "aged"
    "duration": {"number", "date"},
    "number": {"number", "money", "percent"},
    "year": {"date"},
    "date": {"date"},
    "person": {"person"},
    "place": {"place"},
    "name": {"name", "place"},
}
# A bare "who", "when" or "where" after one of these starts the question's own clause ("Apart from X,
# who ...", "Approximately when ..."); after a noun it starts a relative clause ("officials who briefed").
BARE_CUE = re.compile(r"who(m|se)?|when|where")
CLAUSE_OPENERS = _words(
    """in on at by for with from to of and but or since until during about after before than so then
    approximately roughly exactly apart"""
)
# A number right after one of these is a change, not a count ("another 1,000 soldiers"); so is one after
# "by" that follows a verb of change ("increased by 1,000 soldiers", not "attacked by 40 armed men").
CHANGE_BEFORE_NUMBER = _words("another additional extra further")
CHANGE_VERBS = _words(
    """increased increase increases increasing rose risen rise rises grew grown grow grows fell fallen falls
    dropped drop drops declined decline decreased decrease reduced reduce cut raised raise boosted boost
    expanded expand shrank shrunk up down"""
)

# "How large is the force?" is answered by a count of its members ("4,600 troops").
FORCES = _words("force forces mission contingent army presence deployment garrison battalion brigade")
MEMBERS_OF_A_FORCE = ("troops", "soldiers", "personnel", "peacekeepers")

# A count of these is tagged as a date ("Ten days after", "the 78-day campaign"), and answers "how many".
TIME_UNITS = _words(
    "second seconds minute minutes hour hours day days week weeks month months year years decade decades"
)
NUMBER_WORDS = _words(
    """one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred
    thousand million billion dozen dozens hundreds thousands millions half"""
)

# --- names and follow-ups ------------------------------------------------------------------------

# Words that head a run of capitalised words without being part of a name ("NATO Secretary General
# Mark Rutte", "She").
NOT_NAMES = _words(
    """the a an nato eu un us u.s. european union secretary general deputy president prime minister foreign
    ambassador baroness special representative envoy chief mayor director executive former new then high
    mr mrs ms dr sir lord lady king queen according during in on at after before since while when what
    who which where how why did does do is was were he she it they his her its their this that these those
    there we i you"""
)
PERSON_PRONOUN = re.compile(r"\b(he|she|him|his|her|hers|they|them|their)\b", re.IGNORECASE)
THING_PRONOUN = re.compile(r"\b(it|its)\b", re.IGNORECASE)
PLACE_PRONOUN = re.compile(r"\bthere\b(?!\s+(is|are|was|were|has|have|had)\b)", re.IGNORECASE)
POSSESSIVE_PRONOUNS = _words("his its their hers")
# "And Serbia?", "What about Serbia?": the previous question, about something else.
ELLIPTIC_START = re.compile(r"^(and|what about|how about)\b\s*", re.IGNORECASE)
# A name after one of these is a place ("in Brussels").
PLACE_BEFORE = re.compile(r"\b(in|at|to|from|near|into)\s+(the\s+)?$", re.IGNORECASE)
