"""The chat page in a real headless Chromium, used as a person uses it (Playwright, Debian's chromium)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from askbalkans import Assistant, Settings
from conftest import served_page

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CONTRAST_JS = (Path(__file__).parent / "contrast.js").read_text("utf-8")
ENVOY = "Who is the EU special representative for the Kosovo-Serbia dialogue?"
HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3)) **bold** "
    "![i](http://example.org/i.png)"
)


@pytest.fixture(scope="module")
def page_url(seeds_assistant) -> Iterator[str]:
    with served_page(lambda: seeds_assistant) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


class Session:
    """A person at the page: what they type, and what the page shows, says and does."""

    def __init__(self, browser: Browser, url: str, **context_options):
        self.context = browser.new_context(**{"viewport": {"width": 1366, "height": 900}, **context_options})
        self.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.goto(url)
        self.page.wait_for_function("document.querySelector('#askb-status')?.innerText.includes('Ready')")
        self.box = self.page.locator("#askb-input textarea")

    def ask(self, question: str) -> None:
        before = self.page.locator("#askb-chat .bot-row").count()
        self.box.click()
        self.box.type(question)
        self.box.press("Enter")
        self.page.wait_for_function(  # the reply is shown, and the page has done with it (scrolled, focused)
            f"document.querySelectorAll('#askb-chat .bot-row .askb-answer').length > {before}"
            f" && window.askbalkansReplies > {before}"
            " && document.activeElement === document.querySelector('#askb-input textarea')"
        )

    def reload(self) -> None:
        """Reload the page. The page being left logs the streams it had open as aborted: those are not
        errors of the page in use, and are dropped."""
        logged = len(self.errors)
        self.page.reload()
        self.page.wait_for_function("document.querySelector('#askb-status')?.innerText.includes('Ready')")
        time.sleep(0.5)
        del self.errors[logged:]

    def last_reply(self):
        return self.page.locator("#askb-chat .bot-row").last

    def contrast(self) -> dict:
        return self.page.evaluate(CONTRAST_JS, {"root": "body", "minRatio": 0})

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session(browser, page_url) -> Iterator[Session]:
    person = Session(browser, page_url)
    yield person
    assert not person.errors, person.errors
    assert not person.dialogs, person.dialogs
    assert all(url.startswith(page_url) or url.startswith("data:") for url in person.requests), person.requests
    person.close()


REPLY_AT_TOP = """() => {
    const rows = document.querySelectorAll('#askb-chat .bot-row');
    const lead = rows[rows.length - 1].querySelector('.askb-lead');
    const view = document.querySelector('#askb-chat .bubble-wrap').getBoundingClientRect();
    const box = lead.getBoundingClientRect();
    const bottom = Math.min(view.bottom, innerHeight);
    // Its first lines are on screen, inside the chat's visible area: readable without scrolling.
    return box.top >= Math.max(view.top, 0) - 1 && box.top + Math.min(box.height, 60) <= bottom;
}"""


def reply_is_at_the_top_of_the_view(session: Session) -> bool:
    """The start of the newest reply comes into the chat's visible area (within 5 s)."""
    try:
        session.page.wait_for_function(REPLY_AT_TOP, timeout=5000)
    except PlaywrightTimeout:
        return False
    return True


def test_a_question_and_its_follow_up_typed_as_a_person_would(session):
    session.ask(ENVOY)
    first = session.last_reply()
    assert "Peter Sorensen" in first.locator(".askb-lead").inner_text()
    assert first.locator(".askb-span").first.inner_text() == "Peter Sorensen"  # the answer itself, marked
    assert reply_is_at_the_top_of_the_view(session)
    session.ask("When did he visit Pristina?")
    follow_up = session.last_reply()
    assert "Read as: When did Peter Sorensen visit Pristina?" in follow_up.inner_text()
    assert "About a week later" in follow_up.locator(".askb-lead").inner_text()
    assert reply_is_at_the_top_of_the_view(session)
    assert session.page.evaluate("document.activeElement === document.querySelector('#askb-input textarea')")


def test_chips_open_their_source_card_and_cards_show_each_passage_once(session):
    session.ask("How many troops serve in KFOR?")
    reply = session.last_reply()
    assert "The sources differ" in reply.inner_text()
    cards = reply.locator("details.askb-card")
    assert cards.count() == len({c.get_attribute("href") for c in reply.locator("a.askb-chip").all()})
    assert all(not card.evaluate("card => card.open") for card in cards.all())  # collapsed to a line
    chip = reply.locator("a.askb-chip").last
    assert chip.get_attribute("title").startswith("[")  # hovering names the source
    chip.click()
    opened = reply.locator(chip.get_attribute("href"))
    assert opened.evaluate("card => card.open")
    assert opened.locator("mark").count() >= 1
    passages = [q.inner_text() for q in opened.locator("blockquote").all()]
    assert len(passages) == len(set(passages))


def test_copy_gives_plain_text_with_markers_and_sources(session):
    session.ask(ENVOY)
    reply = session.last_reply()
    reply.hover()
    session.page.locator('#askb-chat button[aria-label="Copy message"]').last.click()
    copied = session.page.evaluate("navigator.clipboard.readText()")
    assert "Peter Sorensen" in copied and "[1]" in copied and "Sources:" in copied
    assert "<" not in copied and "&#x27;" not in copied and "&amp;" not in copied
    # On lines: the answer, then a blank line, "Sources:" and one source a line.
    lines = copied.split("\n")
    cited = reply.locator("a.askb-chip").count()
    assert "Peter Sorensen" in lines[0] and lines[-cited - 2 :][:2] == ["", "Sources:"]
    assert [line[: len(f"[{n}]")] for n, line in enumerate(lines[-cited:], 1)] == [
        f"[{n}]" for n in range(1, cited + 1)
    ]
    label = reply.locator("[data-testid=bot]").get_attribute("aria-label")
    assert label == copied  # screen readers get the same text, not tags


def test_hostile_text_in_a_question_renders_inert(session):
    session.ask(HOSTILE)
    bubble = session.page.locator("#askb-chat .user-row").last
    assert "<script>alert(1)</script>" in bubble.inner_text()  # shown as typed
    assert session.page.locator("#askb-chat img").count() == 0
    assert session.page.locator("#askb-chat script").count() == 0
    assert session.page.locator('#askb-chat a[href^="javascript"]').count() == 0
    assert session.page.locator("#askb-chat .user-row strong, #askb-chat .user-row b").count() == 0


def test_hostile_text_in_an_article_renders_inert(browser, corpus_copy, tmp_path, embedder):
    (corpus_copy / "evil.txt").write_text(
        "KFOR attack report <script>alert('x')</script>\n\n"
        "The Zubin Potok checkpoint <img src=x onerror=alert(1)> was **attacked** by 40 armed men in 2031, "
        "see [details](javascript:alert(2)).\n",
        "utf-8",
    )
    assistant = Assistant(corpus_dir=corpus_copy, index_dir=tmp_path / "index", embedder=embedder)
    with served_page(lambda: assistant) as url:
        person = Session(browser, url)
        person.ask("How many armed men attacked the Zubin Potok checkpoint?")
        reply = person.last_reply()
        assert "<img src=x onerror=alert(1)>" in reply.inner_text()
        reply.locator("a.askb-chip").first.click()
        assert person.page.locator("#askb-chat img, #askb-chat script").count() == 0
        assert person.page.locator('#askb-chat a[href^="javascript"]').count() == 0
        reply.locator("a.askb-read").first.click()  # the whole article, in the reader
        expect(person.page.locator("#askb-reader")).to_contain_text("<img src=x onerror=alert(1)>")
        assert (
            person.page.locator("#askb-reader img, #askb-reader script, #askb-reader a[href^=javascript]").count() == 0
        )
        assert not person.dialogs and not person.errors
        person.close()


# What a reply can hold, as they appear in the contrast audit's selectors: each must be measured.
REPLY_PARTS = (
    "askb-notice",  # "Read as: …", a question cut to the limit
    "askb-differ",
    "askb-span",  # the answer itself, bold
    "askb-chip",
    "summary",  # a card's line: title, outlet, facts
    "askb-meta",  # confidence, the card's facts
    "blockquote",  # a card's passages ...
    "mark",  # ... and its highlights
    "askb-read",
    "askb-original",
    "askb-suggest",
    "button",
)
READER_PARTS = ("h2", "askb-reader-meta", "askb-reader-text", "mark", "button")


def covered(result: dict, parts: tuple[str, ...]) -> set[str]:
    return {part for part in parts if any(part in item["selector"] for item in result["items"])}


@pytest.mark.parametrize("view", ["desktop", "phone"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_all_text_has_a_contrast_of_at_least_4_5_to_1(browser, page_url, theme, view):
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True} if view == "phone" else {}
    person = Session(browser, f"{page_url}?__theme={theme}", **phone)
    try:
        person.ask(ENVOY)
        person.ask("When did he visit Pristina?")  # read as a follow-up
        person.ask("Some context first. " * 30 + "How many troops serve in KFOR?")  # cut, and the sources differ
        reply = person.last_reply()
        expect(reply.locator("a.askb-suggest").first).to_be_visible()
        reply.locator("a.askb-chip").first.click()  # an open card, with highlights
        result = person.contrast()
        failing = [item for item in result["items"] if item["ratio"] < item["required"]]
        assert not failing, failing
        assert covered(result, REPLY_PARTS) == set(REPLY_PARTS)
        assert "Read as" in " ".join(item["text"] for item in result["items"])
        reply.locator("a.askb-read").first.click()  # the whole article, over the page
        person.page.wait_for_selector("#askb-reader[open] mark")
        in_reader = person.page.evaluate(CONTRAST_JS, {"root": "#askb-reader", "minRatio": 0})
        assert not [item for item in in_reader["items"] if item["ratio"] < item["required"]], in_reader["items"]
        assert covered(in_reader, READER_PARTS) == set(READER_PARTS)
        assert person.page.evaluate("document.body.classList.contains('dark')") == (theme == "dark")
    finally:
        person.close()


def test_one_font_family_throughout(session):
    session.ask(ENVOY)
    families = session.page.evaluate(
        """() => [...new Set([...document.querySelectorAll('body *')].filter(e => e.innerText && e.offsetParent)
              .map(e => getComputedStyle(e).fontFamily.split(',')[0].trim()))]"""
    )
    assert len([f for f in families if "mono" not in f.lower()]) == 1, families


def test_on_a_phone_the_answer_starts_in_view(browser, page_url):
    person = Session(browser, page_url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        person.ask(ENVOY)
        person.ask("How many troops serve in KFOR?")
        assert reply_is_at_the_top_of_the_view(person)
        lead = person.last_reply().locator(".askb-lead").bounding_box()
        assert lead["x"] >= 0 and lead["x"] + lead["width"] <= 390
    finally:
        person.close()


def test_the_send_button_is_named_and_empty_submits_are_ignored(session):
    expect(session.page.get_by_role("button", name="Send", exact=True)).to_have_count(1)
    session.box.click()
    session.box.type("   ")
    session.box.press("Enter")
    time.sleep(0.5)
    assert session.page.locator("#askb-chat .user-row").count() == 0


def test_the_conversation_survives_a_reload(session):
    session.ask(ENVOY)
    session.reload()
    session.page.wait_for_selector("#askb-chat .bot-row .askb-answer")
    assert "Peter Sorensen" in session.last_reply().inner_text()
    session.ask("When did he visit Pristina?")  # the follow-up still knows who "he" is
    assert "Read as: When did Peter Sorensen visit Pristina?" in session.last_reply().inner_text()


def test_the_one_clear_control_clears_the_view_the_follow_up_context_and_the_saved_copy(session):
    session.ask(ENVOY)
    clear = session.page.locator("#askb-chat").get_by_role("button", name="Clear", exact=True)
    expect(clear).to_have_count(1)
    expect(session.page.get_by_role("button", name="Clear conversation")).to_have_count(0)  # one control

    def clear_the_conversation() -> None:
        session.page.evaluate("document.activeElement.blur()")
        clear.click()
        session.page.wait_for_function(  # done: the view is empty and the question box has the focus again
            "document.querySelectorAll('#askb-chat .bot-row').length === 0"
            " && document.activeElement === document.querySelector('#askb-input textarea')"
        )

    clear_the_conversation()
    session.ask("When did he visit Pristina?")  # "he" no longer points to anyone
    assert "Read as" not in session.last_reply().inner_text()
    clear_the_conversation()
    session.reload()
    assert session.page.locator("#askb-chat .user-row, #askb-chat .bot-row").count() == 0


def focused(page: Page) -> str:
    return page.evaluate(
        "(() => { const e = document.activeElement; return e.matches('#askb-input textarea') ? 'question box'"
        " : `${e.tagName.toLowerCase()}.${e.className}: ${e.textContent.trim().slice(0, 60)}`; })()"
    )


@pytest.mark.parametrize("view", ["desktop", "phone"])
def test_the_keyboard_reaches_the_question_box_without_walking_the_conversation(browser, page_url, view):
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True} if view == "phone" else {}
    person = Session(browser, page_url, **phone)
    try:
        person.ask(ENVOY)
        person.ask("How many troops serve in KFOR?")
        expect(person.last_reply().locator("a.askb-suggest").first).to_be_visible()
        # From the box, Tab passes Send and the examples, then (round the page's end) comes to a visible
        # "Skip to question", the page's first stop, before any chip or card; Enter goes back to the box.
        person.box.focus()
        stops: list[str] = []
        while len(stops) < 12 and stops[-1:] != ["a.askb-skip: Skip to question"]:
            person.page.keyboard.press("Tab")
            stops.append(focused(person.page))
        assert stops[-1] == "a.askb-skip: Skip to question", "\n".join(stops)
        assert not [stop for stop in stops if "askb-" in stop and "askb-skip" not in stop], stops
        # (Round the end, headless Chromium has the page itself out of focus: focus the link as a page would.)
        person.page.locator("a.askb-skip").focus()
        skip = person.page.locator("a.askb-skip").bounding_box()
        width = person.page.viewport_size["width"]
        assert skip["y"] >= 0 and skip["width"] > 1 and skip["x"] + skip["width"] <= width
        person.page.keyboard.press("Enter")
        assert focused(person.page) == "question box"
        # From inside the conversation, "/" goes back to the box (and types nothing there).
        person.last_reply().locator("details.askb-card summary").first.focus()
        person.page.keyboard.press("/")
        assert focused(person.page) == "question box" and person.box.input_value() == ""
        # From the box, the newest reply's suggested follow-ups are a few Shift+Tabs away, not past every card.
        stops = []
        for _ in range(3):
            person.page.keyboard.press("Shift+Tab")
            stops.append(focused(person.page))
        assert any(stop.startswith("a.askb-suggest") for stop in stops), stops
    finally:
        person.close()


def test_a_source_card_opens_the_whole_article_with_the_quoted_sentences_highlighted(session):
    page_url = session.page.url
    session.ask("When did the attack in Banjska take place?")
    reply = session.last_reply()
    reply.locator("a.askb-chip").first.click()
    card = reply.locator(reply.locator("a.askb-chip").first.get_attribute("href"))
    title = card.locator("summary b").inner_text()
    quoted = {m.inner_text() for m in card.locator("mark").all()}
    link = card.locator("a.askb-read")
    link.focus()
    session.page.keyboard.press("Enter")  # from the keyboard, as a click
    reader = session.page.locator("#askb-reader")
    expect(reader).to_have_attribute("open", "")
    expect(reader.locator("h2")).to_have_text(title)
    marked = {m.inner_text() for m in reader.locator("mark").all()}
    assert quoted <= marked or all(any(q in m for m in marked) for q in quoted)
    text = reader.locator(".askb-reader-text").inner_text()
    assert len(text) > sum(len(q.inner_text()) for q in card.locator("blockquote").all())  # the whole article
    assert reader.locator(".askb-reader-text p").count() >= 1
    assert session.page.url == page_url  # still on the page
    session.page.keyboard.press("Escape")
    expect(reader).not_to_have_attribute("open", "")
    assert focused(session.page).startswith("a.askb-read")  # back where the reader was opened
    original = card.locator("a.askb-original")
    assert original.get_attribute("download") is not None and ".txt" in original.inner_text()


def test_suggested_follow_ups_are_answered_when_clicked(session):
    session.ask(ENVOY)
    reply = session.last_reply()
    suggestions = reply.locator("a.askb-suggest")
    expect(suggestions.first).to_be_visible()  # a moment after the answer: each is asked first
    assert 2 <= suggestions.count() <= 3
    asked = [s.inner_text() for s in suggestions.all()]
    assert all(q.endswith("?") and "Sorensen" not in q for q in asked), asked  # not what the answer says
    before = session.page.locator("#askb-chat .bot-row .askb-answer").count()
    suggestions.first.click()
    session.page.wait_for_function(
        f"document.querySelectorAll('#askb-chat .bot-row .askb-answer').length > {before}"
        " && document.activeElement === document.querySelector('#askb-input textarea')"
    )
    assert session.page.locator("#askb-chat .user-row").last.inner_text() == asked[0]
    assert "Not found in the corpus" not in session.last_reply().inner_text()
    assert session.last_reply().locator("a.askb-chip").count() >= 1


def test_past_the_waiting_limit_the_page_says_the_assistant_is_busy(browser, seeds_assistant):
    """One question waits (the assistant is still loading) and the limit is one: a question typed on the
    page is answered at once with a busy notice, and stays in its bubble."""
    loaded = threading.Event()

    def slow_start() -> Assistant:
        loaded.wait(timeout=120)
        return seeds_assistant

    with served_page(slow_start, Settings(max_waiting_questions=1)) as url:
        waiting = Client(url, verbose=False).submit("How many troops serve in KFOR?", api_name="/answer")
        page = browser.new_page()
        try:
            page.goto(url)
            box = page.locator("#askb-input textarea")
            box.fill(ENVOY)
            box.press("Enter")
            notice = page.locator("#askb-chat .askb-busy")
            expect(notice).to_contain_text("The assistant is busy: 1 questions are being answered or waiting")
            expect(page.locator("#askb-chat .user-row").last).to_contain_text(ENVOY)
        finally:
            loaded.set()
            page.close()
        assert "KFOR" in waiting.result(timeout=60)["text"]
