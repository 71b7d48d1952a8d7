"""A Milvus Lite server as a real process on a loopback port, for tests, benchmarks and trying the Milvus
store on one machine (`python -m milvus_lite server`, from the `milvus-lite` package)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from askbalkans.server import free_port

START_SECONDS = 120


class MilvusLiteServer:
    """`with MilvusLiteServer(folder) as uri:` a server on a free loopback port, stopped (its whole process
    group) on exit. Ready when it answers a real call, not merely when its port is open. `port`: a given
    port (a server started again where one was killed), else a free one."""

    def __init__(self, folder: Path, port: int | None = None):
        self.folder = Path(folder)
        self.port = port or free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        from pymilvus import MilvusClient, MilvusException

        self.folder.mkdir(parents=True, exist_ok=True)
        log = self.folder / "server.log"
        with open(log, "wb") as output:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "milvus_lite", "server", "--host", "127.0.0.1", "--port", str(self.port),
                 "--data-dir", str(self.folder / "data")],
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + START_SECONDS
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"milvus-lite exited: {log.read_text()[-2000:]}")
            try:
                probe = MilvusClient(uri=self.uri, timeout=2, dedicated=True)
                probe.list_collections()
                probe.close()
                return self.uri
            except MilvusException:
                if time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise
                time.sleep(0.2)

    def pause(self) -> None:
        """Freeze the server (SIGSTOP to its process group), as a machine too busy to run it would."""
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server run again."""
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGCONT)

    def kill(self) -> None:
        """Stop the server at once, as a crash would (SIGKILL to its process group)."""
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        process = self._process
        # SIGINT closes its database cleanly; a process that ignores it gets SIGTERM, then SIGKILL.
        for stop, wait in ((signal.SIGINT, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            if process is None or process.poll() is not None:
                return
            try:
                os.killpg(process.pid, stop)
                process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                return
