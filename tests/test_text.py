from askbalkans.corpus import load_corpus
from askbalkans.text import Acronyms, find_acronyms, fold, looks_like_a_person, names_in, terms, with_acronyms, words
from conftest import SEEDS


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


def test_either_form_matches_the_other():
    acronyms = Acronyms({"eu": ["european", "union"]})
    assert set(with_acronyms(terms("What does the EU want?"), acronyms)) >= {"european", "union"}
    assert "eu" in with_acronyms(terms("The European Union wants it"), acronyms)
    assert with_acronyms(terms("The union wants it"), acronyms) == ["union", "want"]
