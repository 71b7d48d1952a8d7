"""How well each extractor reads real-looking article files (tests/documents.py), and pypdf against
pdfplumber on the two-column PDF: the measurement behind the choice of libraries.

    .venv/bin/python eval/extraction_check.py

Printed per file and library: the share of the source paragraphs found whole in the text, whether they
come in reading order, the words of page chrome (menus, banners, running headers, page numbers) left in,
and the milliseconds to extract (best of 5).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from askbalkans.config import PROJECT_ROOT
from askbalkans.extractors import extractor_for

sys.path.insert(0, str(PROJECT_ROOT / "tests"))
from documents import MISSING_PARAGRAPHS, RAILWAY_PARAGRAPHS, RESERVOIR_PARAGRAPHS, make_documents  # noqa: E402

CHROME = {
    "reservoir.html": ("cookies", "Subscribe", "Related articles", "Marko", "All rights reserved", "Privacy"),
    "railway.pdf": ("Balkan Transport Review", "Page 1 of", "Page 2 of", "Page 3 of"),
    "missing.docx": (),
}
SOURCE = {
    "reservoir.html": RESERVOIR_PARAGRAPHS,
    "railway.pdf": list(dict.fromkeys(RAILWAY_PARAGRAPHS)),
    "missing.docx": MISSING_PARAGRAPHS,
}


def pdfplumber_text(data: bytes) -> str:
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def ours(suffix: str) -> Callable[[bytes], str]:
    extractor = extractor_for(suffix)
    assert extractor is not None
    return lambda data: extractor.extract(data).text


def measure(name: str, library: str, extract: Callable[[bytes], str], data: bytes) -> None:
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        text = extract(data)
        timings.append(time.perf_counter() - start)
    flat = " ".join(text.split())
    positions = [flat.find(" ".join(p.split())) for p in SOURCE[name]]
    found = [p for p in positions if p >= 0]
    chrome = sum(flat.count(c) for c in CHROME[name])
    print(
        f"{name:15} {library:24} paragraphs whole {len(found)}/{len(positions)}  "
        f"in order {'yes' if found == sorted(found) else 'no ':3}  chrome left {chrome}  "
        f"{1000 * min(timings):6.1f} ms"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        files = make_documents(Path(folder))
        for name in ("reservoir.html", "railway.pdf", "missing.docx"):
            data = files[name].read_bytes()
            library = {".html": "trafilatura", ".pdf": "pypdf (+ our line joining)", ".docx": "python-docx"}
            measure(name, library[files[name].suffix], ours(files[name].suffix), data)
            if name == "railway.pdf":
                measure(name, "pdfplumber extract_text", pdfplumber_text, data)
        try:
            extractor_for(".pdf").extract(files["scanned.pdf"].read_bytes())  # type: ignore[union-attr]
            print("scanned.pdf     read as text: WRONG")
        except Exception as error:
            print(f"scanned.pdf     refused: {error}")


if __name__ == "__main__":
    main()
