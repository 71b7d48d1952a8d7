from askbalkans.corpus import load_corpus
from askbalkans.text import (
    AcronymCounts,
    Acronyms,
    acronym_evidence,
    fold,
    looks_like_a_person,
    names_in,
    terms,
    with_acronyms,
    words,
)
from conftest import SEEDS


def find_acronyms(texts):
    """The acronyms of a corpus whose articles are `texts`."""
    return AcronymCounts.of(acronym_evidence([text]) for text in texts).acronyms()


def test_fold_and_words():
    assert fold("Vučić  –  “Lajčák”") == 'vucic - "lajcak"'
    assert words("KFOR’s 4,636 troops") == ["kfor", "4636", "troops"]
    assert terms("Who visited the troops?") == ["visit", "troop"]


def test_names_drop_leading_titles_and_pronouns():
    assert [n for _, n in names_in("NATO Secretary General Mark Rutte visited Pristina. She left.")] == [
        "Mark Rutte",
        "Pristina",
    ]
    assert looks_like_a_person("Aleksandar Vučić") and looks_like_a_person("Peter Sorensen")
    assert not looks_like_a_person("Bosnia and Herzegovina") and not looks_like_a_person("KFOR")


def test_acronyms_are_found_from_definitions_and_initials():
    texts = [a.text for a in load_corpus(SEEDS).articles]
    acronyms = find_acronyms(texts)
    assert acronyms["eu"] == ["european", "union"]  # "European Union" beside "EU"
    assert acronyms["kfor"] == ["kosovo", "forc"]  # "the Kosovo Force (KFOR)"
    assert acronyms["pfpc"] == ["partnership", "peac", "consortium"]  # "for" spells the f


def test_an_acronym_that_is_also_a_word_is_not_used():
    texts = ["The Alpha Repertory Television Service (ART) broadcast.", "Modern art moved to ART in 1983."]
    assert "art" not in find_acronyms(texts)


def test_counts_updated_article_by_article_equal_counts_made_afresh():
    kfor = acronym_evidence(["The Kosovo Force (KFOR) keeps the peace."])
    art = acronym_evidence(["Modern art moved to ART in 1983.", "The Alpha Repertory Television (ART)."])
    other = acronym_evidence(["KFOR, the Kosovo Force, patrols the north. The EU and the European Union."])
    counts = AcronymCounts()
    for evidence in (kfor, art, other):
        counts.add(evidence)
    assert counts.acronyms() == {"eu": ["european", "union"], "kfor": ["kosovo", "forc"]}  # "art" is a word
    counts.remove(kfor)
    assert counts == AcronymCounts.of([art, other])
    counts.remove(other)
    assert counts == AcronymCounts.of([art]) and counts.acronyms() == {}
    assert AcronymCounts.from_json(counts.to_json()) == counts


def test_a_lower_case_word_stops_an_acronym_only_while_an_article_uses_it():
    defined = acronym_evidence(["The Alpha Repertory Television Service (ART) broadcast."])
    word = acronym_evidence(["Modern art moved to a new museum."])
    counts = AcronymCounts.of([defined, word])
    assert "art" not in counts.acronyms()
    counts.remove(word)
    assert counts.acronyms()["art"] == ["alpha", "repertori", "televis", "servic"]


def test_an_acronym_stands_for_what_most_articles_say():
    assert find_acronyms(["Kosovo Fund (KF).", "Kosovo Force (KF).", "The Kosovo Force (KF)."])["kf"] == [
        "kosovo",
        "forc",
    ]
    assert find_acronyms(["Kosovo Fund (KF).", "Kosovo Forum (KF)."])["kf"] == ["kosovo", "forum"]  # sorted first


def test_either_form_matches_the_other():
    acronyms = Acronyms({"eu": ["european", "union"]})
    assert set(with_acronyms(terms("What does the EU want?"), acronyms)) >= {"european", "union"}
    assert "eu" in with_acronyms(terms("The European Union wants it"), acronyms)
    assert with_acronyms(terms("The union wants it"), acronyms) == ["union", "want"]
