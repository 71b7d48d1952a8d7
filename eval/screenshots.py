"""Screenshots of the chat page for the README: desktop and phone, light and dark, with a sources-differ answer.

    .venv/bin/python eval/screenshots.py [--out docs/screenshots]

Serves the page over the seeds on a free loopback port, asks two questions in headless Chromium (Debian's
`chromium`, through Playwright), opens a source card, and saves one PNG per viewport and theme.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from askbalkans.config import PROJECT_ROOT

VIEWS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
QUESTIONS = ["Who is the EU special representative for the Kosovo-Serbia dialogue?", "How many troops serve in KFOR?"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    import uvicorn
    from playwright.sync_api import sync_playwright

    from askbalkans import Assistant
    from askbalkans.server import AssistantLoader, create_app, free_port

    with tempfile.TemporaryDirectory() as index_dir:
        assistant = Assistant(index_dir=index_dir)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(AssistantLoader(lambda: assistant), "127.0.0.1", port), port=port, log_level="error"
            )
        )
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        args.out.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            for view, viewport in VIEWS.items():
                for theme in ("light", "dark"):
                    page = browser.new_page(viewport=viewport, is_mobile=view == "phone")
                    page.goto(f"http://127.0.0.1:{port}/?__theme={theme}")
                    page.wait_for_function("document.querySelector('#askb-status')?.innerText.includes('Ready')")
                    box = page.locator("#askb-input textarea")
                    for number, question in enumerate(QUESTIONS, 1):
                        box.fill(question)
                        box.press("Enter")
                        page.wait_for_function(
                            f"document.querySelectorAll('#askb-chat .bot-row .askb-answer').length >= {number}"
                        )
                    time.sleep(0.8)  # the view settles on the new reply
                    if view == "desktop":  # a source card, opened from its chip
                        page.locator("#askb-chat .bot-row").last.locator("a.askb-chip").first.click()
                        time.sleep(0.3)
                    path = args.out / f"{view}-{theme}.png"
                    page.screenshot(path=str(path))
                    print(path)
                    page.close()
            browser.close()
        server.should_exit = True


if __name__ == "__main__":
    main()
