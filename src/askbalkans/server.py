"""Serving the chat page: at once, locked down to what the page needs.

`serve` listens within a moment of starting: a small loading page answers while Gradio and the model
are imported (the slow part) and is then replaced by the real page on the same port. The page's
browser script polls until the real page is there, so a reader never sees "connection refused".

What the server exposes: the page, its API and nothing else. File uploads are refused (the page takes
none), only the configured hosts are answered (a DNS-rebinding page cannot reach it under another name),
cross-origin requests are refused unless their origin is configured, and the page makes no outbound
connection (no analytics, no hub, no fonts from a CDN). This module imports only the standard library,
so that the loading page is up before anything heavy is imported.
"""

from __future__ import annotations

import html
import logging
import socket
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from askbalkans.assistant import Assistant

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
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


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


def allowed_hosts(host: str, extra: Sequence[str] = ()) -> list[str]:
    """The Host headers answered: loopback names, the address served on (unless it is every address),
    and the configured ones (a team's host name behind a reverse proxy)."""
    hosts = list(LOOPBACK_HOSTS) + list(extra)
    if host not in ("0.0.0.0", "::", ""):
        hosts.append(host)
    return list(dict.fromkeys(hosts))


def create_app(loader: Any, host: str, port: int, extra_hosts: Sequence[str] = (), origins: Sequence[str] = ()) -> Any:
    """The FastAPI app serving the page and its API, and nothing more."""
    import gradio as gr
    from fastapi import FastAPI, Request
    from fastapi.responses import PlainTextResponse
    from starlette.middleware.cors import CORSMiddleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    from askbalkans.articles import add_article_routes
    from askbalkans.ui import CSS, HEAD, build_app, theme

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    add_article_routes(app, loader)  # the reader's article text and original files, before the page's routes

    @app.middleware("http")
    async def refuse_uploads(request: Request, call_next: Any) -> Any:
        if request.url.path.rstrip("/").endswith(BLOCKED_PATHS):
            return PlainTextResponse("This server takes no files.", status_code=403)
        return await call_next(request)

    # Gradio steps its own CORS handling aside when the app has this middleware: only `origins` (and the
    # page's own origin, which needs no CORS) may call the API from a browser.
    app.add_middleware(
        CORSMiddleware, allow_origins=list(origins), allow_credentials=False, allow_methods=["GET", "POST"]
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(host, extra_hosts))
    return gr.mount_gradio_app(
        app,
        build_app(loader).queue(default_concurrency_limit=4),
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
    **assistant_options: Any,
) -> None:
    """Serve the chat page (blocking); `assistant_options` go to `Assistant`."""
    placeholder = LoadingPage(host, port).start()
    log.warning("AskBalkans is starting on http://%s:%d/", host if ":" not in host else f"[{host}]", port)

    def assistant() -> Any:
        from askbalkans.assistant import Assistant

        loaded = Assistant(**{k: v for k, v in assistant_options.items() if v is not None})
        loaded.ask(WARM_UP_QUESTION)  # the first question's one-time costs, paid before a reader asks
        return loaded

    loader = AssistantLoader(assistant)  # the model and the index load meanwhile, in the background
    import uvicorn

    app = create_app(loader, host, port, extra_hosts, origins)  # imports Gradio: the slow part
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_keep_alive=5)
    server = uvicorn.Server(config)
    placeholder.stop()
    server.run()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on, for tests and benchmarks."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
