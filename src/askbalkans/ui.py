"""The chat page: answers first, then one card per cited article; follow-ups read the session's own answers.

Each reply opens with the quoted answer sentences and their citation chips ([n]: hover for the source,
click to open its card). Below, one collapsed card per cited article: its title, outlet, byline and
dateline where the article states them, how many sentences are quoted from it; opened, its passages,
each once, with every quoted sentence highlighted. Copying a reply gives plain text with its markers
and a list of sources. The session's `Answer`s drive follow-up questions (rendered HTML is never read),
and the browser keeps them, so a reload or a restart of the server keeps the conversation.

API endpoints (gradio_client): `/ask` (question -> the rendered reply; the conversation is kept per
client session) and `/answer` (question -> the whole answer as JSON). Past the server's limit of questions
waiting, a question is refused at once: the page says so in the conversation, the API raises a Gradio
error saying the assistant is busy.
"""

from __future__ import annotations

import html
import os
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from askbalkans.answer import Answer, Citation
from askbalkans.articles import ARTICLE_ROUTE, SOURCE_ROUTE
from askbalkans.errors import AskBalkansError

# No analytics, version checks or hub look-ups: the page runs offline. Set before gradio is imported.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# Gradio's queue keeps a record of its last events and, after each one, summarises them all with pandas
# for its /monitoring page (switched off here): about 10 ms a question at 10,000 records, for nothing.
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1")
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(2**62))

import gradio as gr  # noqa: E402  (after the environment above)

from askbalkans.server import LOADING, AnswerQueue, AssistantLoader, Busy  # noqa: E402

EXAMPLES = [
    "Who is the EU special representative for the Kosovo-Serbia dialogue?",
    "How many troops serve in KFOR?",
    "When did the attack in Banjska take place?",
    "What did Mark Rutte ask Kosovo and Serbia to do?",
]
# Replies kept in the browser for a reload (each a few kB).
SAVED_TURNS = 50
# The browser's copy of the conversation is only obfuscated by Gradio; a fixed key keeps it readable
# after a restart of the server (a random one, Gradio's default, would lose it).
BROWSER_STORAGE_KEY = "askbalkans-conversation"
BROWSER_STORAGE_SECRET = "askbalkans-conversation-v1"

FONT = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONT = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]

# Colours chosen for a contrast of at least 4.5:1 on Gradio's light (#fff, #f4f4f5) and dark (#0b0f19,
# #18181b, #27272a) message backgrounds; the browser tests measure them. One selector per ".dark" rule:
# Gradio adds a copy of each rule scoped to its container (more specific than the rule), and takes ".dark"
# out of only the first selector of a list, so a second ".dark" selector loses to the light rule's copy.
CSS = f"""
body, gradio-app {{ font-family: {", ".join(f'"{f}"' if " " in f else f for f in FONT)}; }}
#askb-chat .askb-answer {{ line-height: 1.5; }}
#askb-chat .askb-lead {{ margin: 0 0 .35em; }}
#askb-chat .askb-span {{ font-weight: 700; }}
#askb-chat .askb-chip {{ font-size: .78em; text-decoration: none; padding: 0 .2em; border-radius: .3em;
  color: #1d4ed8; background: #e0e7ff; white-space: nowrap; }}
.dark #askb-chat .askb-chip {{ color: #dbeafe; background: #1e3a8a; }}
#askb-chat .askb-meta, #askb-chat .askb-notice {{ font-size: .85em; color: #3f3f46; margin: .2em 0; }}
.dark #askb-chat .askb-meta {{ color: #d4d4d8; }}
.dark #askb-chat .askb-notice {{ color: #d4d4d8; }}
#askb-chat .askb-notice {{ font-style: italic; }}
#askb-chat .askb-differ {{ font-weight: 600; margin: 0 0 .3em; }}
#askb-chat details.askb-card {{ border: 1px solid #a1a1aa; border-radius: .4em; margin: .3em 0; padding: .1em .5em; }}
#askb-chat details.askb-card summary {{ cursor: pointer; font-size: .9em; }}
#askb-chat details.askb-card blockquote {{ margin: .3em 0; padding-left: .5em; border-left: 3px solid #a1a1aa;
  font-size: .9em; }}
#askb-chat mark {{ background: #fde68a; color: #111827; padding: 0 .1em; }}
.dark #askb-chat mark {{ background: #854d0e; color: #fefce8; }}
#askb-chat .askb-plain {{ display: none; }}
#askb-chat .askb-links {{ font-size: .85em; margin: .3em 0; }}
#askb-chat .askb-read, #askb-chat .askb-original, #askb-chat .askb-suggest, #askb-reader a {{ color: #1d4ed8; }}
.dark #askb-chat .askb-read {{ color: #93c5fd; }}
.dark #askb-chat .askb-original {{ color: #93c5fd; }}
.dark #askb-chat .askb-suggest {{ color: #93c5fd; }}
.dark #askb-reader a {{ color: #93c5fd; }}
#askb-chat .askb-suggestions {{ margin: .5em 0 0; font-size: .9em; }}
#askb-chat .askb-suggest {{ display: inline-block; margin: .15em .3em .15em 0; padding: .1em .5em;
  border: 1px solid currentColor; border-radius: 1em; text-decoration: none; }}
#askb-reader {{ max-width: min(48em, 94vw); max-height: 88vh; padding: 0; border: 1px solid #a1a1aa;
  border-radius: .5em; color: #18181b; background: #fff; }}
.dark #askb-reader {{ color: #f4f4f5; background: #18181b; }}
#askb-reader::backdrop {{ background: rgb(0 0 0 / .55); }}
#askb-reader .askb-reader-head {{ position: sticky; top: 0; display: flex; gap: 1em; align-items: start;
  justify-content: space-between; padding: .8em 1em .4em; background: inherit; }}
#askb-reader h2 {{ font-size: 1.15em; margin: 0; }}
#askb-reader .askb-reader-meta {{ font-size: .85em; margin: 0 1em .5em; color: #3f3f46; }}
.dark #askb-reader .askb-reader-meta {{ color: #d4d4d8; }}
#askb-reader .askb-reader-text {{ padding: 0 1em 1em; line-height: 1.55; }}
#askb-reader mark {{ background: #fde68a; color: #111827; }}
.dark #askb-reader mark {{ background: #854d0e; color: #fefce8; }}
#askb-reader button {{ font: inherit; padding: .2em .8em; border: 1px solid #71717a; border-radius: .3em;
  color: inherit; background: transparent; cursor: pointer; }}
.askb-skip {{ position: fixed; left: .5em; top: -10em; z-index: 1000; padding: .4em .8em; border-radius: .3em;
  color: #fff; background: #1d4ed8; }}
.askb-skip:focus {{ top: .5em; }}
#askb-status {{ font-size: .9em; }}
#askb-input textarea::placeholder {{ color: #5c5c66; opacity: 1; }}
.dark #askb-input textarea::placeholder {{ color: #b4b4bd; }}
"""

# In the page: the chips open their card; "Read the whole article" opens the reader; a suggested follow-up
# is asked; the copy button copies the plain text; screen readers read the plain text; "Skip to question"
# (the first Tab stop) and "/" focus the question box; after each reply the view shows its start and the
# question box has the focus again.
HEAD = """
<script>
(() => {
  // Gradio puts a message's buttons after its row: the row a copy button belongs to.
  const rowOf = (button) => {
    let row = button.closest('.message-buttons');
    while (row && !row.classList.contains('message-row')) { row = row.previousElementSibling; }
    return row;
  };
  const plainOf = (row) => {
    const plain = row.querySelector('.askb-plain');
    if (plain) { return plain.textContent; }
    const content = row.querySelector('.message-content');
    return content ? content.innerText : null;
  };
  const questionBox = () => document.querySelector('#askb-input textarea');
  const focusQuestion = () => { const box = questionBox(); if (box) { box.focus(); } };
  // A suggested follow-up is asked as if typed: into the box, then Send.
  const askNext = (question) => {
    const box = questionBox();
    if (!box) { return; }
    box.value = question;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    requestAnimationFrame(() => document.querySelector('#askb-input button.submit-button')?.click());
  };
  // The reader: a cited article, whole, in a dialog over the page; its text is set as text, never markup.
  const readerDialog = () => {
    let dialog = document.getElementById('askb-reader');
    if (dialog) { return dialog; }
    dialog = document.createElement('dialog');
    dialog.id = 'askb-reader';
    dialog.setAttribute('aria-labelledby', 'askb-reader-title');
    dialog.innerHTML = '<div class="askb-reader-head"><h2 id="askb-reader-title"></h2>'
      + '<button type="button" class="askb-reader-close">Close</button></div>'
      + '<p class="askb-reader-meta"></p><div class="askb-reader-text"></div>';
    dialog.querySelector('.askb-reader-close').addEventListener('click', () => dialog.close());
    document.body.appendChild(dialog);
    return dialog;
  };
  const openArticle = async (link) => {
    const dialog = readerDialog();
    const [title, meta, body] = ['h2', '.askb-reader-meta', '.askb-reader-text'].map((s) => dialog.querySelector(s));
    let article = null;
    try {
      const response = await fetch(link.href, {cache: 'no-store'});
      article = response.ok ? await response.json() : null;
    } catch (error) { /* shown below */ }
    body.replaceChildren();
    meta.replaceChildren();
    title.textContent = article ? article.title : 'The article could not be loaded.';
    if (article) {
      const facts = [article.outlet, article.byline && `by ${article.byline}`, article.dateline, article.date];
      meta.append(facts.filter(Boolean).join(' · '));
      if (/^https?:[/][/]/.test(article.url)) {
        const url = document.createElement('a');
        Object.assign(url, {href: article.url, target: '_blank', rel: 'noopener noreferrer'});
        url.textContent = new URL(article.url).hostname;
        meta.append(meta.textContent ? ' · ' : '', url);
      }
      for (const sentences of article.paragraphs) {
        const paragraph = document.createElement('p');
        sentences.forEach((sentence, number) => {
          if (number) { paragraph.append(' '); }
          if (!sentence.marked) { paragraph.append(sentence.text); return; }
          const mark = document.createElement('mark');
          mark.textContent = sentence.text;
          paragraph.append(mark);
        });
        body.append(paragraph);
      }
    }
    dialog.addEventListener('close', () => link.focus(), {once: true});
    dialog.showModal();
    dialog.querySelector('mark')?.scrollIntoView({block: 'center'});
  };
  // Skip to the question box: the first stop of Tab, and "/" from anywhere but a field.
  const addSkipLink = () => {
    if (document.querySelector('.askb-skip')) { return; }
    const skip = document.createElement('a');
    Object.assign(skip, {href: '#askb-input', className: 'askb-skip', textContent: 'Skip to question'});
    document.body.prepend(skip);
  };
  if (document.body) { addSkipLink(); } else { document.addEventListener('DOMContentLoaded', addSkipLink); }
  document.addEventListener('keydown', (event) => {
    const typing = event.target.closest && event.target.closest('input, textarea, select, [contenteditable]');
    if (event.key === '/' && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      focusQuestion();
    }
  });
  document.addEventListener('click', (event) => {
    if (event.target.closest('a.askb-skip')) { event.preventDefault(); focusQuestion(); return; }
    const next = event.target.closest('a.askb-suggest');
    if (next) { event.preventDefault(); askNext(next.textContent); return; }
    const read = event.target.closest('a.askb-read');
    if (read) { event.preventDefault(); openArticle(read); return; }
    const chip = event.target.closest('a.askb-chip');
    if (chip) {
      event.preventDefault();
      const card = document.getElementById(chip.getAttribute('href').slice(1));
      if (card) { card.open = true; card.scrollIntoView({block: 'nearest'}); }
      return;
    }
    const copy = event.target.closest('#askb-chat button[aria-label="Copy message"]');
    const row = copy && rowOf(copy);
    const text = row && plainOf(row);
    if (text !== null && text !== undefined) {
      event.preventDefault();
      event.stopImmediatePropagation();
      navigator.clipboard.writeText(text);
    }
  }, true);
  // Screen readers read a reply's plain text, not its markup.
  const label = () => document.querySelectorAll('#askb-chat .askb-answer').forEach((answer) => {
    const plain = answer.querySelector('.askb-plain');
    const holder = answer.closest('[aria-label]');
    if (plain && holder && holder.getAttribute('aria-label') !== plain.textContent) {
      holder.setAttribute('aria-label', plain.textContent);
    }
  });
  new MutationObserver(label).observe(document.documentElement, {childList: true, subtree: true});
  // After a reply: show its start, and give the question box the focus again.
  // The reply is rendered a moment after the event ends: wait for it (a new last row), then scroll.
  window.askbalkansShowReply = () => {
    const count = () => document.querySelectorAll('#askb-chat .message-row.bot-row .askb-answer').length;
    const before = window.askbalkansReplies || 0;
    const show = (tries) => {
      const rows = document.querySelectorAll('#askb-chat .message-row.bot-row');
      if (count() <= before && tries > 0) { requestAnimationFrame(() => show(tries - 1)); return; }
      window.askbalkansReplies = count();
      const last = rows[rows.length - 1];
      if (last) { last.scrollIntoView({block: 'start'}); }
      const box = document.querySelector('#askb-input textarea');
      if (box) { box.focus({preventScroll: true}); }
    };
    requestAnimationFrame(() => show(120));
  };
})();
</script>
"""
AFTER_REPLY_JS = "() => { window.askbalkansShowReply && window.askbalkansShowReply(); }"
CLEARED_JS = "() => { window.askbalkansReplies = 0; document.querySelector('#askb-input textarea')?.focus(); }"


# --- rendering ----------------------------------------------------------------------------------


def render_answer(answer: Answer, turn: int = 0, suggestions: Sequence[str] = ()) -> str:
    """The reply as HTML: the answer first, then a card per cited article, then the suggested follow-up
    questions; every piece of article or user text is escaped. `turn` keeps the ids of this reply's cards
    apart from other replies'."""
    citations = {c.marker: c for c in answer.citations}
    article_of = {c.marker: c.doc_id for c in answer.citations}
    card_ids = {doc_id: f"askb-{turn}-{number}" for number, doc_id in enumerate(dict.fromkeys(article_of.values()))}
    parts = ['<div class="askb-answer">']
    if answer.sources_differ:
        parts.append('<p class="askb-differ">The sources differ; each is quoted.</p>')
    sentences = []
    for quote in answer.quotes:
        chips = "".join(_chip(citations[m], card_ids[article_of[m]]) for m in quote.markers)
        sentences.append(f"{_with_answer_span(quote.text, quote.answer_span)}{chips}")
    parts.append(f'<p class="askb-lead">{" ".join(sentences) or html.escape(answer.text)}</p>')
    parts += [f'<p class="askb-notice">{html.escape(notice)}</p>' for notice in answer.notices]
    if answer.citations:
        parts.append(f'<p class="askb-meta">Confidence {answer.confidence:.2f}</p>')
        parts += [_card(doc_id, card_ids[doc_id], answer) for doc_id in card_ids]
    if suggestions:
        asks = " ".join(f'<a class="askb-suggest" href="#askb-input">{html.escape(q)}</a>' for q in suggestions)
        parts.append(f'<p class="askb-suggestions"><span class="askb-meta">Ask next:</span> {asks}</p>')
    # The plain text keeps its line breaks (as character references: the markup's own are dropped below).
    plain = html.escape(plain_answer(answer)).replace("\n", "&#10;")
    parts.append(f'<div class="askb-plain">{plain}</div>')
    parts.append("</div>")
    return "".join(parts).replace("\n", " ")


def _chip(citation: Citation, card_id: str) -> str:
    tip = html.escape(f"[{citation.marker}] {citation.title}", quote=True)
    label = html.escape(f"source {citation.marker}: {citation.title}", quote=True)
    return (
        f'<sup><a class="askb-chip" href="#{card_id}" title="{tip}" aria-label="{label}">[{citation.marker}]</a></sup>'
    )


def _with_answer_span(text: str, span: tuple[int, int] | None) -> str:
    if not span:
        return html.escape(text)
    start, end = span
    found = f'<span class="askb-span">{html.escape(text[start:end])}</span>'
    return f"{html.escape(text[:start])}{found}{html.escape(text[end:])}"


def _card(doc_id: str, card_id: str, answer: Answer) -> str:
    """One cited article: a line when collapsed; its passages, each once, quoted sentences highlighted."""
    own = [c for c in answer.citations if c.doc_id == doc_id]
    first = own[0]
    byline = f"by {first.byline}" if first.byline else ""
    facts = " · ".join(f for f in (first.outlet, byline, first.dateline, first.date) if f)
    markers = "".join(f"[{c.marker}]" for c in own)
    quoted = len({c.sentence for c in own})
    # Only a web address is linked ("javascript:" and the like are not).
    link = (
        f' <a class="askb-meta" href="{html.escape(first.url)}" target="_blank" rel="noopener noreferrer">'
        f"{html.escape(urlsplit(first.url).hostname or first.url)}</a>"
        if urlsplit(first.url).scheme in ("http", "https")
        else ""
    )
    summary = (
        f"<b>{html.escape(first.title)}</b>"
        + (f' <span class="askb-meta">{html.escape(facts)}</span>' if facts else "")
        + link
        + f' <span class="askb-meta">{quoted} sentence{"s" if quoted > 1 else ""} quoted {markers}</span>'
    )
    passages = []
    for passage in dict.fromkeys(c.passage for c in own):
        highlighted = html.escape(passage)
        for sentence in {c.sentence for c in own if c.sentence in passage}:
            escaped = html.escape(sentence)
            highlighted = highlighted.replace(escaped, f"<mark>{escaped}</mark>", 1)
        passages.append(f"<blockquote>{highlighted}</blockquote>")
    return (
        f'<details class="askb-card" id="{card_id}"><summary>{summary}</summary>{"".join(passages)}'
        f"{_article_links(own)}</details>"
    )


def _article_links(own: list[Citation]) -> str:
    """Read the whole article in the page (its quoted sentences highlighted); download its original file."""
    first = own[0]
    marks = ",".join(f"{c.start}-{c.end}" for c in own)
    read = f"{ARTICLE_ROUTE.lstrip('/')}?{urlencode({'doc': first.doc_id, 'marks': marks})}"
    links = [f'<a class="askb-read" href="{html.escape(read)}">Read the whole article</a>']
    if first.source:
        original = f"{SOURCE_ROUTE.lstrip('/')}?{urlencode({'doc': first.doc_id})}"
        links.append(
            f'<a class="askb-original" href="{html.escape(original)}" download>'
            f"Original file ({html.escape(first.source)})</a>"
        )
    return f'<p class="askb-links">{" · ".join(links)}</p>'


def plain_answer(answer: Answer) -> str:
    """The reply as plain text: the answer with its [n] markers, then the list of sources."""
    lines = [answer.text, *answer.notices]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for citation in answer.citations:
            facts = ", ".join(
                f for f in (citation.outlet, citation.byline, citation.dateline, citation.date, citation.url) if f
            )
            lines.append(f"[{citation.marker}] {citation.title}" + (f" ({facts})" if facts else ""))
    return "\n".join(lines)


def user_bubble(question: str) -> str:
    """The user's own text, shown as it was typed: no markup, links or images are rendered from it."""
    return html.escape(question)


# --- the page -----------------------------------------------------------------------------------


def busy_reply(message: str) -> str:
    return f'<div class="askb-answer"><p class="askb-notice askb-busy" role="alert">{html.escape(message)}</p></div>'


def build_app(loader: AssistantLoader, questions: AnswerQueue) -> gr.Blocks:
    """The page; its questions are answered through `questions` (which says "busy" past its limit)."""

    async def ask_question(
        question: str, answers: list[Answer], with_follow_ups: bool
    ) -> AsyncIterator[tuple[str, list[Answer]]]:
        """The reply to `question` and the conversation after it; raises `Busy`. `with_follow_ups`: with
        the follow-up questions worth asking, each checked by asking it (within `suggestion_budget_s`), in
        the same reply: a second one would come while a new question may be on its way, and overwrite it."""
        if not loader.ready:
            yield LOADING, answers

        def answered() -> tuple[Answer, list[str]]:
            assistant = loader.get()
            answer = assistant.ask(question, history=answers)
            if not with_follow_ups:
                return answer, []
            from askbalkans.suggestions import suggest  # with the index libraries, loaded by now

            settings = assistant.settings
            asked = [a.question for a in answers]
            return answer, suggest(assistant, answer, asked, settings.suggestions, settings.suggestion_budget_s)

        try:
            answer, follow_ups = await questions.run(answered)
        except (RuntimeError, AskBalkansError) as error:  # the assistant could not start, or its store failed
            yield f'<p class="askb-notice" role="alert">{html.escape(str(error))}</p>', answers
            return
        yield render_answer(answer, len(answers), follow_ups), [*answers, answer]

    async def ask_api(question: str, answers: list[Answer]) -> AsyncIterator[tuple[str, list[Answer]]]:
        try:
            async for reply in ask_question(question, answers, with_follow_ups=False):
                yield reply
        except Busy as busy:  # gradio_client raises it as an AppError with this message
            raise gr.Error(str(busy), print_exception=False) from None

    def submit(message: str, chat: list[dict]) -> tuple[Any, Any, Any]:
        question = (message or "").strip()
        if not question:  # an empty or blank submit is ignored
            return gr.skip(), gr.skip(), gr.skip()
        return "", [*chat, {"role": "user", "content": user_bubble(question)}], question

    async def respond(question: str, chat: list[dict], answers: list[Answer]) -> AsyncIterator[tuple[Any, Any, Any]]:
        try:
            async for reply, answered in ask_question(question, answers, with_follow_ups=True):
                saved = [a.to_dict() for a in answered][-SAVED_TURNS:]
                yield [*chat, {"role": "assistant", "content": reply}], answered, saved
        except Busy as busy:  # said in the conversation; the question stays in its bubble, to send again
            yield [*chat, {"role": "assistant", "content": busy_reply(str(busy))}], answers, gr.skip()

    def restore(saved: list[dict]) -> tuple[list[dict], list[Answer]]:
        try:
            answers = [Answer.from_dict(item) for item in saved or []]
        except (KeyError, TypeError, ValueError):  # saved by another version: start afresh
            return [], []
        chat = []
        for turn, answer in enumerate(answers):
            chat += [
                {"role": "user", "content": user_bubble(answer.question)},
                {"role": "assistant", "content": render_answer(answer, turn)},
            ]
        return chat, answers

    async def answer_json(question: str) -> dict:
        """The whole answer to `question` as JSON (text, quotes, citations, confidence, abstained, ...)."""
        try:
            answer = await questions.run(lambda: loader.get().ask(question))
        except Busy as busy:
            raise gr.Error(str(busy), print_exception=False) from None
        return answer.to_dict()

    with gr.Blocks(title="AskBalkans", analytics_enabled=False) as app:
        gr.Markdown(
            "# AskBalkans\nAsk about the Kosovo–Serbia dialogue. Every answer is quoted from the articles, "
            "with a citation for each sentence; when the articles do not say, the assistant says so."
        )
        status = gr.Markdown(loader.status(), elem_id="askb-status")
        chatbot = gr.Chatbot(
            elem_id="askb-chat",
            label="Conversation",
            show_label=False,  # a floating label would cover the first words of the view
            height="62vh",
            min_height=320,
            render_markdown=False,
            sanitize_html=True,
            latex_delimiters=[],
            autoscroll=False,
            buttons=["copy"],
            feedback_options=None,
            placeholder="Ask a question below; answers are quoted from the articles, with their sources.",
        )
        textbox = gr.Textbox(
            elem_id="askb-input",
            label="Your question",
            placeholder="For example: How many troops serve in KFOR?",
            submit_btn="Send",
            autofocus=True,
            max_lines=6,
        )
        gr.Examples(EXAMPLES, inputs=[textbox], label="Examples")
        answers = gr.State([])
        pending = gr.State("")
        saved = gr.BrowserState([], storage_key=BROWSER_STORAGE_KEY, secret=BROWSER_STORAGE_SECRET)

        textbox.submit(
            submit, [textbox, chatbot], [textbox, chatbot, pending], queue=False, api_visibility="private"
        ).then(
            respond,
            [pending, chatbot, answers],
            [chatbot, answers, saved],
            api_visibility="private",
            concurrency_limit=None,
        ).then(None, None, None, js=AFTER_REPLY_JS, api_visibility="private")
        # The chat's own clear button (its trash icon) is the one clear control: it empties the view, the
        # turns follow-ups are read against, and the browser's copy a reload would bring back.
        # The browser's copy goes at once, not only when the server's answer comes (a reload may be quicker).
        chatbot.clear(
            lambda: ([], [], [], ""),
            None,
            [chatbot, answers, saved, textbox],
            js=f"() => {{ localStorage.removeItem('{BROWSER_STORAGE_KEY}'); }}",
            queue=False,
            api_visibility="private",
        ).then(None, None, None, js=CLEARED_JS, api_visibility="private")
        app.load(restore, [saved], [chatbot, answers], api_visibility="private").then(
            None,
            None,
            None,
            js=AFTER_REPLY_JS,
            api_visibility="private",  # counts the restored replies
        )

        # The API: the same conversation per client session, without the page's components.
        api_question = gr.Textbox(visible=False)
        api_reply = gr.HTML(visible=False)
        api_question.submit(
            ask_api,
            [api_question, answers],
            [api_reply, answers],
            api_name="ask",
            api_description="Answer a question, with the session's conversation as context; returns the reply as HTML.",
            concurrency_limit=None,
        )
        gr.api(answer_json, api_name="answer", concurrency_limit=None)

        timer = gr.Timer(1.0, active=not loader.ready)
        timer.tick(
            lambda: (loader.status(), gr.Timer(active=not loader.ready)),
            None,
            [status, timer],
            api_visibility="private",
        )
        app.load(loader.status, None, status, api_visibility="private")
    return app


def theme() -> gr.themes.Base:
    return gr.themes.Default(font=FONT, font_mono=MONO_FONT)
