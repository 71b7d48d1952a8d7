"""Real-looking article files of every format the corpus reads, made on the spot (no binary fixtures in
the repository): a news page saved with its chrome, a two-column PDF with running headers, footers and
words hyphenated at line ends, a scanned PDF with no text layer, and a Word document.

Each article states one fact that no seed states (`FACTS`), so a test can ask for it.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"


@dataclass(frozen=True)
class Fact:
    question: str
    answer: str  # words the answer sentence must hold


FACTS = {
    "reservoir.html": Fact("How many people does the Gazivode reservoir supply with water?", "400,000 people"),
    "railway.pdf": Fact("How much will the railway between Pristina and Nis cost?", "520 million euros"),
    "missing.docx": Fact("How many people has the Commission on Missing Persons identified this year?", "23 people"),
}

RESERVOIR_PARAGRAPHS = [
    "The Gazivode reservoir in the north of Kosovo supplies drinking water to 400,000 people and cools the "
    "country's two coal power plants, officials of the water utility said on Tuesday.",
    "The lake, which straddles the boundary with Serbia, has been at the centre of the dialogue between "
    "Pristina and Belgrade since an attack on a canal near Zubin Potok cut supplies for several days.",
    "Engineers from the European Union's monitoring mission inspected the dam and the canal, and said the "
    "repairs would be finished before the summer.",
    "Local residents said they had been asking for years for the pipes along the canal to be replaced, and "
    "welcomed the decision of both governments to share the cost of the works.",
]

RAILWAY_PARAGRAPHS = [
    "The planned railway between Pristina and Nis is expected to cost 520 million euros, according to a "
    "feasibility study presented to the ministers of transport of Kosovo and Serbia in Brussels.",
    "The line would cut the journey between the two cities to under two hours and would be financed mostly "
    "by grants and loans from the Western Balkans Investment Framework, the study says.",
    "Negotiators described the agreement on the route as a rare piece of practical reconciliation in a "
    "dialogue that has otherwise stalled over the status of the Serb-majority municipalities.",
    "Construction of the first section, from Pristina to the crossing at Merdare, could start within three "
    "years if both parliaments ratify the financing agreements in time.",
    "The study also recommends electrifying the existing line from Fushe Kosove to Mitrovica, which has not "
    "carried passengers since the nineteen-nineties, and rebuilding its stations.",
    "Freight operators told the authors that they would move a considerable share of their traffic from the "
    "roads to the railway once the line reaches the European standard for axle loads.",
] * 6  # long enough for three pages of two columns

MISSING_PARAGRAPHS = [
    "The Commission on Missing Persons has identified the remains of 23 people this year, its chair told "
    "reporters in Pristina on Friday.",
    "More than 1,600 people are still listed as missing from the war of 1998 and 1999, and families on both "
    "sides have asked the negotiators to make the search a priority of the dialogue.",
    "The chair said that access to military archives in Belgrade remained the main obstacle to further "
    "identifications.",
]


def news_page(headline: str, paragraphs: list[str]) -> str:
    """A news page as a browser saves it: cookie banner, menu, byline, related links, comments, footer."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{headline} | Balkan Monitor</title>
<meta property="og:site_name" content="Balkan Monitor">
<meta name="author" content="Ana Petrovic">
<meta property="article:published_time" content="2025-03-14T09:30:00Z">
<link rel="canonical" href="https://balkanmonitor.example/news/gazivode-reservoir">
</head><body>
<div id="cookie-banner">We use cookies to improve your experience on our site. <button>Accept all cookies</button></div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/politics">Politics</a></li>
<li><a href="/economy">Economy</a></li><li><a href="/subscribe">Subscribe now</a></li></ul></nav></header>
<main><article><h1>{headline}</h1>
<p class="byline">By Ana Petrovic · 14 March 2025</p>
{body}
</article>
<aside><h3>Related articles</h3><ul>
<li><a href="/a">Serbia and Kosovo trade accusations over licence plates at the Jarinje crossing</a></li>
<li><a href="/b">EU envoy visits Belgrade for talks with the president about the energy agreement</a></li></ul></aside>
<section id="comments"><h3>Comments</h3>
<p>Marko: The government has promised new pipes for ten years and nothing has changed at all.</p></section></main>
<footer><p>© 2025 Balkan Monitor. All rights reserved.</p><p>Privacy policy · Terms of use · Contact us</p></footer>
</body></html>"""


def _print_to_pdf(html: str, path: Path, running_header: str = "") -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page()
        page.set_content(html)
        page.pdf(
            path=str(path),
            format="A4",
            display_header_footer=bool(running_header),
            header_template=f'<div style="font-size:9px;margin-left:1cm">{running_header}</div>',
            footer_template='<div style="font-size:9px;margin-left:1cm">Page <span class="pageNumber"></span> '
            'of <span class="totalPages"></span></div>',
            margin={"top": "2cm", "bottom": "2cm", "left": "1.5cm", "right": "1.5cm"},
        )
        browser.close()


def two_column_pdf(path: Path) -> None:
    """A report printed in two columns, with a running header and "Page n of m" footers, and metadata."""
    from pypdf import PdfReader, PdfWriter

    body = "\n".join(f"<p>{p}</p>" for p in RAILWAY_PARAGRAPHS)
    html = f"""<html lang="en"><head><title>Railway study</title><style>
body {{ font: 11pt serif; }} .columns {{ column-count: 2; column-gap: 1cm; text-align: justify; hyphens: auto; }}
</style></head><body><h1>Feasibility study: a railway between Pristina and Nis</h1>
<div class="columns">{body}</div></body></html>"""
    _print_to_pdf(html, path, running_header="Balkan Transport Review · March 2025")
    writer = PdfWriter(clone_from=PdfReader(path))
    writer.add_metadata(
        {
            "/Title": "Feasibility study: a railway between Pristina and Nis",
            "/Author": "Dragan Kovac",
            "/CreationDate": "D:20250302100000Z",
        }
    )
    with path.open("wb") as handle:
        writer.write(handle)


def scanned_pdf(path: Path) -> None:
    """A PDF of a page image only, as a scanner makes it: no text layer."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page()
        page.set_content("<p style='font:14pt serif;width:500px'>" + " ".join(MISSING_PARAGRAPHS) + "</p>")
        image = base64.b64encode(page.screenshot()).decode()
        browser.close()
    _print_to_pdf(f"<img src='data:image/png;base64,{image}' style='width:100%'>", path)


def word_document(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Missing persons: 23 identified this year", level=1)
    for paragraph in MISSING_PARAGRAPHS:
        document.add_paragraph(paragraph)
    properties = document.core_properties
    properties.title = "Missing persons: 23 identified this year"
    properties.author = "Lirije Gashi"
    properties.created = datetime(2025, 2, 7, 9, 0, tzinfo=UTC)
    buffer = io.BytesIO()
    document.save(buffer)
    path.write_bytes(buffer.getvalue())


def make_documents(folder: Path) -> dict[str, Path]:
    """Every kind of file in `folder`, by name."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {name: folder / name for name in ("reservoir.html", "railway.pdf", "scanned.pdf", "missing.docx")}
    files["reservoir.html"].write_text(
        news_page("Gazivode reservoir supplies water to 400,000 people", RESERVOIR_PARAGRAPHS), "utf-8"
    )
    two_column_pdf(files["railway.pdf"])
    scanned_pdf(files["scanned.pdf"])
    word_document(files["missing.docx"])
    return files
