"""Each file format's extractor on real-looking files (tests/documents.py), and the corpus reading them."""

from __future__ import annotations

from pathlib import Path

import pytest

from askbalkans.corpus import load_corpus
from askbalkans.extractors import SUPPORTED_SUFFIXES, extractor_for
from askbalkans.extractors.pdf import join_lines, pdf_paragraphs
from documents import FACTS, MISSING_PARAGRAPHS, RAILWAY_PARAGRAPHS, RESERVOIR_PARAGRAPHS


def extracted(path: Path):
    extractor = extractor_for(path.suffix)
    assert extractor is not None
    return extractor.extract(path.read_bytes())


def test_a_saved_news_page_gives_its_article_without_the_chrome(documents):
    page = extracted(documents["reservoir.html"])
    assert page.text.split("\n\n") == ["Gazivode reservoir supplies water to 400,000 people", *RESERVOIR_PARAGRAPHS]
    for chrome in ("cookies", "Home", "Subscribe", "Related articles", "Marko", "All rights reserved", "Privacy"):
        assert chrome not in page.text
    assert (page.title, page.author, page.date, page.outlet, page.url) == (
        "Gazivode reservoir supplies water to 400,000 people",
        "Ana Petrovic",
        "2025-03-14",
        "Balkan Monitor",
        "https://balkanmonitor.example/news/gazivode-reservoir",
    )


def test_a_page_that_states_no_date_gets_none_invented(documents):
    html = documents["reservoir.html"].read_text("utf-8")
    undated = html.replace('<meta property="article:published_time" content="2025-03-14T09:30:00Z">', "")
    undated = undated.replace(" · 14 March 2025", "")  # the copyright year stays: it is not a publication date
    assert extractor_for(".html").extract(undated.encode()).date == ""


def test_a_two_column_pdf_reads_column_after_column_without_running_headers(documents):
    pdf = extracted(documents["railway.pdf"])
    text = pdf.text
    assert "Page 1 of" not in text and "Balkan Transport Review" not in text
    assert text.startswith("Feasibility study: a railway between Pristina and Nis\n\nThe planned railway")
    positions = [text.find(paragraph) for paragraph in RAILWAY_PARAGRAPHS[:6]]
    assert -1 not in positions and positions == sorted(positions)  # every paragraph whole, in reading order
    assert text.count(RAILWAY_PARAGRAPHS[0]) == RAILWAY_PARAGRAPHS.count(RAILWAY_PARAGRAPHS[0])
    assert (pdf.title, pdf.author, pdf.date) == (
        "Feasibility study: a railway between Pristina and Nis",
        "Dragan Kovac",
        "2025-03-02",
    )


def test_words_hyphenated_at_line_ends_are_joined_again():
    lines = [
        "The negotiators spoke at length about the long road to recon-",
        "ciliation, the status of the Serb-",
        "majority municipalities and the wars of the nineteen-",
        "nineties, before they went home.",
        "Short heading",
        "Another paragraph, long enough to be a whole line of text: the recon-",
        "ciliation and the nineteen-nineties, as the study says it.",
    ]
    assert join_lines(lines) == [
        "The negotiators spoke at length about the long road to reconciliation, the status of the "
        "Serb-majority municipalities and the wars of the nineteen-nineties, before they went home.",
        "Short heading",
        "Another paragraph, long enough to be a whole line of text: the reconciliation and the "
        "nineteen-nineties, as the study says it.",
    ]


def test_page_numbers_and_lines_that_run_through_the_pages_are_dropped():
    body = "A line of the body text that is long enough to be an ordinary line, on page {}."
    pages = [f"Balkan Review · Issue {n + 7}\n{body.format(n)}\n{n}" for n in range(1, 4)]
    assert pdf_paragraphs(pages) == [" ".join(body.format(n) for n in range(1, 4))]


def test_a_word_document_gives_its_paragraphs_and_properties(documents):
    document = extracted(documents["missing.docx"])
    assert document.text.split("\n\n") == ["Missing persons: 23 identified this year", *MISSING_PARAGRAPHS]
    assert (document.title, document.author, document.date) == (
        "Missing persons: 23 identified this year",
        "Lirije Gashi",
        "2025-02-07",
    )


def test_the_corpus_reads_every_format_and_names_each_file_it_skips(documents, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for path in documents.values():
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "truncated.pdf").write_bytes(documents["railway.pdf"].read_bytes()[:3000])
    (folder / "junk.docx").write_bytes(b"PK\x03\x04 not really a zip archive" * 10)
    (folder / "menu.html").write_text("<html><body><nav>Home | News | Sport</nav><p>Log in</p></body></html>")
    (folder / "notes.json").write_text("{}")
    (folder / "drafts").mkdir()
    corpus = load_corpus(folder)
    articles = {a.doc_id: a for a in corpus.articles}
    assert sorted(articles) == ["missing", "railway", "reservoir"]
    assert {a.source for a in articles.values()} == {"missing.docx", "railway.pdf", "reservoir.html"}
    reservoir = articles["reservoir"]
    assert (reservoir.facts.byline, reservoir.facts.outlet, reservoir.facts.date) == (
        "Ana Petrovic",
        "Balkan Monitor",
        "2025-03-14",
    )
    reasons = {s.path.name: s.reason for s in corpus.skipped}
    assert set(reasons) == {"scanned.pdf", "truncated.pdf", "junk.docx", "menu.html", "notes.json", "drafts"}
    assert "without a text layer" in reasons["scanned.pdf"]
    assert "not a readable PDF" in reasons["truncated.pdf"] or "cannot be extracted" in reasons["truncated.pdf"]
    assert "not a readable Word document" in reasons["junk.docx"]
    assert "no article text found" in reasons["menu.html"]
    assert reasons["notes.json"].startswith("an unsupported type (.json)")
    assert reasons["drafts"] == "a folder (subfolders are not read)"
    assert set(SUPPORTED_SUFFIXES) == {".txt", ".md", ".html", ".htm", ".pdf", ".docx"}


def test_a_document_over_its_size_limit_is_skipped_naming_the_setting(documents, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "railway.pdf").write_bytes(documents["railway.pdf"].read_bytes())
    corpus = load_corpus(folder, max_document_bytes=10_000)
    assert not corpus.articles and "max_document_bytes" in corpus.skipped[0].reason


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(FACTS))
def test_each_format_is_answered_with_exact_citations_and_its_metadata(mixed_assistant, mixed_corpus, name):
    fact = FACTS[name]
    answer = mixed_assistant.ask(fact.question)
    assert not answer.abstained and fact.answer in answer.lead.text
    lead = answer.citations[answer.lead.markers[0] - 1]
    article = mixed_assistant.corpus.article(Path(name).stem)
    assert article is not None and (lead.doc_id, lead.source) == (article.doc_id, name)
    assert article.text[lead.start : lead.end] == lead.sentence == answer.lead.text  # offsets into the extracted text
    assert lead.date == article.facts.date != "" and lead.title == article.title
