"""The webhook receiver of the feed benches, in a process of its own.

    .venv/bin/python bench/receiver.py   (prints its port, then serves until stopped)

Every POST is an event (``{"type": ..., "subject": ...}``); the receiver notes, for each (path,
subject) of a ``pars.arrest.booked`` event, when it first arrived, by ``time.monotonic()``:
Linux's CLOCK_MONOTONIC, one clock for every process of the machine, so the booking process's
commit instants and these arrivals can be subtracted (``time.time()`` can step). ``GET
/_arrivals?since=N`` answers the arrivals after the first N, so the bench reads them as they come
without sharing a process, an interpreter lock or a core's time slices with the receiver.
`Arrivals` is the bench side.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

BOOKED = "pars.arrest.booked"


def serve() -> None:
    log: list[tuple[str, str, float]] = []
    seen: set[tuple[str, str]] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            arrived = time.monotonic()
            event = json.loads(body)
            if event.get("type") == BOOKED:
                key = (self.path, str(event["subject"]))
                with lock:
                    if key not in seen:
                        seen.add(key)
                        log.append((key[0], key[1], arrived))
            self._answer(204, b"")

        def do_GET(self) -> None:
            since = int(parse_qs(urlsplit(self.path).query).get("since", ["0"])[0])
            with lock:
                part = log[since:]
            self._answer(200, json.dumps(part).encode())

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


class Arrivals:
    """The bench's view of the receiver process: started here, read over HTTP."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - this very script
            [sys.executable, str(Path(__file__).resolve())], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.at: dict[tuple[str, str], float] = {}
        self._read = 0
        self._client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def refresh(self) -> None:
        for path, subject, arrived in self._client.get("/_arrivals", params={"since": self._read}).json():
            self.at[(path, subject)] = arrived
            self._read += 1

    def received(self, ids: list[str], paths: list[str]) -> int:
        self.refresh()
        return sum(1 for i in ids for p in paths if (p, i) in self.at)

    def times(self, ids: list[str], paths: list[str]) -> list[float]:
        self.refresh()
        return [self.at[(p, i)] for i in ids for p in paths if (p, i) in self.at]

    def close(self) -> None:
        self._client.close()
        self.process.terminate()
        self.process.wait(10)


if __name__ == "__main__":
    serve()
