import pytest

from askbalkans.corpus import content_blocks, date_in, list_corpus, load_corpus, make_article
from conftest import SEEDS


def kept_lines(text: str) -> list[str]:
    return [text[start:end] for start, end in content_blocks(text)]


def test_seeds_load_with_titles_and_hashes():
    corpus = load_corpus(SEEDS)
    assert [a.doc_id for a in corpus.articles] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    assert not corpus.skipped
    rutte = next(a for a in corpus.articles if a.doc_id == "003_911e190891696f57")
    assert rutte.title == (
        "NATO Chief Reaffirms Support for the Western Balkans and Calls for Flexibility in Kosovo-Serbia Dialogue"
    )
    assert len({a.sha256 for a in corpus.articles}) == 5


def test_page_chrome_is_dropped_and_facts_kept():
    corpus = {a.doc_id: a for a in load_corpus(SEEDS).articles}
    balkans_group = " ".join(kept_lines(corpus["000_c156d69eb00ff29e"].text))
    assert "Load More" not in balkans_group
    assert "Connect with us" not in balkans_group
    for fact in ("Qamil Hoxha street", "Opening Hours:", "09:00", "new partnership with @Sida"):
        assert fact in balkans_group
    nato = kept_lines(corpus["002_3b03215c86b7af87"].text)
    assert not any("Min Read" in line for line in nato)
    rutte = " ".join(kept_lines(corpus["003_911e190891696f57"].text))
    for chrome in ("uses cookies", "Leave a Comment", "0 comment", "You may also like"):
        assert chrome not in rutte
    assert "by Cristian Florescu" in rutte
    assert rutte.rstrip().endswith("securing a stable future for the region.”")


def test_blocks_are_offsets_into_the_unchanged_text():
    wrapped = "A wrapped line that goes on and on and on and on and on and on past\nthe column limit."
    text = f"Title\n\nFirst paragraph.\n4 Min Read\n{wrapped}\n"
    article = make_article("doc", text)
    assert article.text == text
    assert kept_lines(text) == [
        "Title",
        "First paragraph.",
        "A wrapped line that goes on and on and on and on and on and on past\nthe column limit.",
    ]


def test_markdown_markers_are_not_part_of_the_text():
    text = "# The title\n\n- a list item\n> a quote\n"
    assert make_article("doc", text).title == "The title"
    assert kept_lines(text) == ["The title", "a list item", "a quote"]


def test_unreadable_files_are_skipped_with_a_reason(tmp_path, caplog):
    (tmp_path / "good.md").write_text("# Good\n\nKosovo and Serbia met in Brussels.\n", "utf-8")
    (tmp_path / "latin1.txt").write_bytes("Pri\xe8tina caf\xe9".encode("latin-1"))
    (tmp_path / "empty.txt").write_text("  \n\n", "utf-8")
    (tmp_path / "chrome.txt").write_text("Load More\n0 comment\n", "utf-8")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / "folder.txt").mkdir()
    corpus = load_corpus(tmp_path)
    assert [a.doc_id for a in corpus.articles] == ["good"]
    reasons = {s.path.name: s.reason for s in corpus.skipped}
    assert set(reasons) == {"latin1.txt", "empty.txt", "chrome.txt", "notes.pdf", "folder.txt"}
    assert "UTF-8" in reasons["latin1.txt"] and "not a readable PDF" in reasons["notes.pdf"]
    assert "latin1.txt" in caplog.text


def test_of_two_files_with_one_id_the_first_usable_one_is_the_article(tmp_path, caplog):
    (tmp_path / "a.md").write_bytes(b"\0binary")
    (tmp_path / "a.txt").write_text("# A\n\nKosovo and Serbia met in Brussels.\n", "utf-8")
    (tmp_path / "b.md").write_text("# B\n\nThe envoy visited Pristina.\n", "utf-8")
    (tmp_path / "b.txt").write_text("# B again\n\nThe envoy visited Belgrade.\n", "utf-8")
    corpus = load_corpus(tmp_path)
    assert {a.doc_id: a.title for a in corpus.articles} == {"a": "A", "b": "B"}
    reasons = {s.path.name: s.reason for s in corpus.skipped}
    assert "NUL bytes" in reasons["a.md"] and reasons["b.txt"] == "another file already has the id 'b'"
    assert list_corpus(tmp_path).signature("b") == ""  # which file is the article is known once they are read


def test_a_byline_under_the_outlet_and_a_dateline_after_the_headline_are_read():
    text = (
        "Talks resume in Brussels\nRKS NEWS\nBy Ana Petrovic\n14 March 2025\n\n"
        "Brussels, Belgium - The EU envoy chaired a new round of talks between the chief negotiators on Monday.\n"
    )
    facts = make_article("doc", text).facts
    assert (facts.title, facts.outlet, facts.byline, facts.dateline, facts.date) == (
        "Talks resume in Brussels",
        "RKS NEWS",
        "Ana Petrovic",
        "Brussels, Belgium",
        "2025-03-14",
    )


@pytest.mark.parametrize(
    ("opening", "dateline", "date"),
    [
        (
            "Brussels, Belgium, March 3, 2025 - The envoy met the chief negotiators of both sides for talks.",
            "Brussels, Belgium",
            "2025-03-03",
        ),
        ("BELGRADE (Reuters) - The envoy met the chief negotiators of both sides on 3 March 2025.", "BELGRADE", ""),
        (
            "The envoy met the chief negotiators of both sides in Brussels on 3 March 2025.",
            "",
            "",
        ),  # a date in the story, not of it
    ],
)
def test_datelines_and_their_dates(opening, dateline, date):
    facts = make_article("doc", f"{opening}\n").facts
    assert (facts.dateline, facts.date) == (dateline, date)


@pytest.mark.parametrize(
    ("line", "day"),
    [
        ("2025-03-14", "2025-03-14"),
        ("Published: March 14th, 2025", "2025-03-14"),
        ("14.03.2025", "2025-03-14"),
        ("14 Sept. 2025", "2025-09-14"),
        ("31.02.2025", ""),
        ("Issue 12", ""),
    ],
)
def test_dates_are_read_in_the_forms_news_sites_write_them(line, day):
    assert date_in(line) == day
