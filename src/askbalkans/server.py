"""Serving the chat page: at once, locked down to what the page needs.

`serve` listens within a moment of starting: a small loading page answers while Gradio and the model
are imported (the slow part) and is then replaced by the real page on the same port. The page's
browser script polls until the real page is there, so a reader never sees "connection refused".

What the server exposes: the page, its API and nothing else. File uploads are refused (the page takes
none), the API schemas are not served, a request body over `max_request_bytes` is refused before it is
read, only the configured hosts are answered (a DNS-rebinding page cannot reach it under another name),
cross-origin requests are refused unless their origin is configured, and the page makes no outbound
connection (no analytics, no hub, no fonts from a CDN). This module imports only the standard library,
so that the loading page is up before anything heavy is imported.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from askbalkans.assistant import Assistant
    from askbalkans.config import Settings

Result = TypeVar("Result")

log = logging.getLogger(__name__)

LOADING = "Loading the model and the index… the first start builds the index and can take a minute."
LOADING_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AskBalkans is starting</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;margin:3em auto;max-width:36em;padding:0 1em;color:#18181b;
background:#fff}@media (prefers-color-scheme:dark){body{color:#f4f4f5;background:#18181b}}</style></head>
<body><h1>AskBalkans</h1><p role="status">Starting: loading the page, then the model and the index.
This page reloads by itself when the assistant is ready to take questions.</p>
<script>
(async () => {
  for (;;) {
    await new Promise((done) => setTimeout(done, 500));
    try {
      const response = await fetch(location.href, {cache: "no-store"});
      if (response.ok && !response.headers.get("X-AskBalkans-Loading")) { location.reload(); return; }
    } catch (error) { /* between the two servers: try again */ }
  }
})();
</script></body></html>
"""
WARM_UP_QUESTION = "How many troops serve in KFOR?"
# Paths of Gradio's that the page does not use and that would let anyone store files on the server.
BLOCKED_PATHS = ("/upload", "/gradio_api/upload", "/gradio_api/upload_progress")
# The API schemas (FastAPI's and Gradio's): neither the page nor gradio_client reads them (they read
# /config and /gradio_api/info), so they are not served.
UNSERVED_PATHS = ("/openapi.json", "/gradio_api/openapi.json")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
# Of a request refused as too large, at most this much more is read (and dropped) before the answer.
_DRAINED_BYTES = 64_000_000
_DRAIN_SECONDS = 2.0
BUSY = (
    "The assistant is busy: {waiting} questions are being answered or waiting. Yours was not answered; "
    "please ask it again in a moment."
)


class AssistantLoader:
    """Loads the Assistant in the background; `get` waits for it."""

    def __init__(self, factory: Callable[[], Assistant]):
        self._ready = threading.Event()
        self._assistant: Assistant | None = None
        self._error: Exception | None = None
        threading.Thread(target=self._load, args=(factory,), name="askbalkans-loader", daemon=True).start()

    def _load(self, factory: Callable[[], Assistant]) -> None:
        try:
            self._assistant = factory()
        except Exception as error:  # shown on the page instead of a dead spinner
            log.exception("loading the assistant failed")
            self._error = error
        self._ready.set()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def get(self) -> Assistant:
        self._ready.wait()
        if self._assistant is None:
            raise RuntimeError(f"the assistant could not start: {self._error}") from self._error
        return self._assistant

    def status(self) -> str:
        if not self.ready:
            return LOADING
        assistant = self._assistant
        if assistant is None:
            return f"The assistant could not start: {html.escape(str(self._error))}"
        skipped = "".join(
            f" Skipped {html.escape(s.path.name)}: {html.escape(s.reason)}." for s in assistant.corpus.skipped
        )
        return f"Ready: {html.escape(assistant.status)}.{skipped}"


class LoadingPage:
    """A placeholder HTTP server on the page's port: every request gets the loading page (503)."""

    def __init__(self, host: str, port: int):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self.send_response(503)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Retry-After", "1")
                self.send_header("X-AskBalkans-Loading", "1")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(LOADING_PAGE)

            do_HEAD = do_GET  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="askbalkans-loading", daemon=True)

    def start(self) -> LoadingPage:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Busy(Exception):
    """A question refused because `AnswerQueue.max_waiting` questions are being answered or waiting."""


class AnswerQueue:
    """Answers questions in `threads` threads, and refuses one more past `max_waiting` questions being
    answered or waiting: "busy" at once, rather than a wait that grows with the crowd."""

    def __init__(self, threads: int, max_waiting: int):
        self.max_waiting = max_waiting
        self._waiting = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="askbalkans-answer")

    async def run(self, function: Callable[[], Result]) -> Result:
        """`function()`, run in one of the threads; `Busy` if too many questions are there already."""
        with self._lock:
            if self._waiting >= self.max_waiting:
                raise Busy(BUSY.format(waiting=self._waiting))
            self._waiting += 1
        future = self._pool.submit(function)
        future.add_done_callback(self._release)  # when the work ends, even if the request was dropped
        return await asyncio.wrap_future(future)

    def _release(self, _: Future[Any]) -> None:
        with self._lock:
            self._waiting -= 1


class RequestGate:
    """What a request meets first (plain ASGI, so that streamed replies pass through untouched): uploads
    refused (403), the API schemas not served (404), and a body larger than `max_bytes` refused (413)
    before any of it is read: by its Content-Length, or, sent in chunks, as soon as it passes the limit."""

    def __init__(self, app: Any, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"].rstrip("/")
        if path.endswith(BLOCKED_PATHS):
            return await _plain(scope, receive, send, 403, "This server takes no files.")
        if path in UNSERVED_PATHS:
            return await _plain(scope, receive, send, 404, "Not Found")
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > self.max_bytes:
                return await self._too_large(scope, receive, send)
            return await self.app(scope, receive, send)
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        messages, size = [], 0
        while True:  # a body without a length: read it up to the limit, then hand it on
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return await self._too_large(scope, receive, send)
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> Any:
            return messages.pop(0) if messages else await receive()

        return await self.app(scope, replay, send)

    async def _too_large(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # The rest of the body is read and dropped first (within bounds): a server that answers and closes
        # while the client still sends makes the client's socket reset, and the 413 is lost to it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_drop_body(receive, _DRAINED_BYTES), _DRAIN_SECONDS)
        await _plain(
            scope,
            receive,
            send,
            413,
            f"Request too large: this server takes requests of up to {self.max_bytes:,} bytes "
            "(ASKBALKANS_MAX_REQUEST_BYTES); a question is read up to its first few hundred characters anyway.",
        )


async def _drop_body(receive: Any, limit: int) -> None:
    dropped = 0
    while dropped <= limit:
        message = await receive()
        dropped += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            return


async def _plain(scope: dict[str, Any], receive: Any, send: Any, status: int, text: str) -> None:
    from starlette.responses import PlainTextResponse

    await PlainTextResponse(text, status_code=status, headers={"Connection": "close"})(scope, receive, send)


def allowed_hosts(host: str, extra: Sequence[str] = ()) -> list[str]:
    """The Host headers answered: loopback names, the address served on (unless it is every address),
    and the configured ones (a team's host name behind a reverse proxy)."""
    hosts = list(LOOPBACK_HOSTS) + list(extra)
    if host not in ("0.0.0.0", "::", ""):
        hosts.append(host)
    return list(dict.fromkeys(hosts))


def create_app(
    loader: Any,
    host: str,
    port: int,
    extra_hosts: Sequence[str] = (),
    origins: Sequence[str] = (),
    settings: Settings | None = None,
) -> Any:
    """The FastAPI app serving the page and its API, and nothing more (`settings`: the serving limits,
    default `Settings.from_env()`)."""
    import gradio as gr
    from fastapi import FastAPI
    from starlette.middleware.cors import CORSMiddleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    from askbalkans.articles import add_article_routes
    from askbalkans.config import Settings
    from askbalkans.ui import CSS, HEAD, build_app, theme

    settings = settings or Settings.from_env()
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    add_article_routes(app, loader)  # the reader's article text and original files, before the page's routes
    # Gradio steps its own CORS handling aside when the app has this middleware: only `origins` (and the
    # page's own origin, which needs no CORS) may call the API from a browser.
    app.add_middleware(
        CORSMiddleware, allow_origins=list(origins), allow_credentials=False, allow_methods=["GET", "POST"]
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(host, extra_hosts))
    app.add_middleware(RequestGate, max_bytes=settings.max_request_bytes)  # the outermost: before any work
    questions = AnswerQueue(settings.answer_threads, settings.max_waiting_questions)
    return gr.mount_gradio_app(
        app,
        # Questions do not wait in Gradio's queue (AnswerQueue bounds them, with its own message); the
        # page's other events, a few milliseconds each, run 4 at a time. Past max_size events in its queue
        # (a burst arriving faster than it hands them on), Gradio refuses one more with a 503 "busy".
        build_app(loader, questions).queue(default_concurrency_limit=4, max_size=4 * settings.max_waiting_questions),
        path="",
        server_name=host,
        server_port=port,
        footer_links=[],
        run_history=False,
        max_file_size=1,  # bytes: no upload is accepted even if a path slipped through
        enable_monitoring=False,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        theme=theme(),
        css=CSS,
        head=HEAD,
    )


def serve(
    host: str = "127.0.0.1",
    port: int = 7860,
    extra_hosts: Sequence[str] = (),
    origins: Sequence[str] = (),
    settings: Settings | None = None,
    **assistant_options: Any,
) -> None:
    """Serve the chat page (blocking); `assistant_options` go to `Assistant`, `settings` to both."""
    placeholder = LoadingPage(host, port).start()
    log.warning("AskBalkans is starting on http://%s:%d/", host if ":" not in host else f"[{host}]", port)

    def assistant() -> Any:
        from askbalkans.assistant import Assistant

        loaded = Assistant(settings=settings, **{k: v for k, v in assistant_options.items() if v is not None})
        loaded.ask(WARM_UP_QUESTION)  # the first question's one-time costs, paid before a reader asks
        return loaded

    loader = AssistantLoader(assistant)  # the model and the index load meanwhile, in the background
    import uvicorn

    app = create_app(loader, host, port, extra_hosts, origins, settings)  # imports Gradio: the slow part
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_keep_alive=5)
    server = uvicorn.Server(config)
    placeholder.stop()
    server.run()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on, for tests and benchmarks."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
