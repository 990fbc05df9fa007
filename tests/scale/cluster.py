"""Real PARS processes for the scale-out tests: `pars serve --no-worker` nodes and `pars worker`
processes on one PostgreSQL database, a TCP proxy in front of NATS that a test can cut and
restore, a Server-Sent Events reader in a thread, and a tap on the notices NATS carries."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats
from nats.aio.msg import Msg

from tests.feed.receivers import free_port


@dataclass
class Node:
    """One process; ``log`` collects its stdout and stderr (structured log lines)."""

    process: subprocess.Popen[bytes]
    log: Path
    url: str | None = None
    nats_url: str | None = None
    restarts: int = 0

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_log(self, needle: str, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return True
            if self.process.poll() is not None:
                return False
            time.sleep(0.05)
        return False


@dataclass
class Cluster:
    """Starts processes with a shared environment; `close` kills whatever is still running."""

    env: dict[str, str]
    directory: Path
    nodes: list[Node] = field(default_factory=list)

    def _start(self, name: str, arguments: list[str], nats_url: str | None) -> Node:
        env = dict(self.env)
        if nats_url is None:
            env.pop("PARS_NATS_URL", None)
        else:
            env["PARS_NATS_URL"] = nats_url
        log = self.directory / f"{len(self.nodes)}-{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - our own CLI
                [sys.executable, "-m", "pars.cli", *arguments], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        node = Node(process, log)
        self.nodes.append(node)
        return node

    def serve(self, nats_url: str | None) -> Node:
        port = free_port()
        node = self._start("serve", ["serve", "--no-worker", "--port", str(port)], nats_url)
        node.url = f"http://127.0.0.1:{port}"
        node.nats_url = nats_url
        return node

    def _serve_again(self, node: Node) -> bool:
        """A port chosen free can be taken by another process (a second test run beside this
        one) before the server binds it: then the same node starts again on another port."""
        if node.url is None or node.restarts >= 3 or "address already in use" not in node.text():
            return False
        again = self.serve(node.nats_url)
        self.nodes.remove(again)
        node.process, node.log, node.url, node.restarts = again.process, again.log, again.url, node.restarts + 1
        return True

    def worker(self, nats_url: str | None) -> Node:
        return self._start("worker", ["worker", "--lease", "3s", "--poll", "1.0"], nats_url)

    def wait_ready(self, node: Node, timeout: float = 60.0) -> None:
        """A server answers /healthz; a worker has logged that it started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if node.process.poll() is not None:
                if self._serve_again(node):
                    continue
                raise AssertionError(f"{node.log.name} exited:\n{node.text()}")
            if node.url is None:
                if "feed worker started" in node.text():
                    return
            else:
                try:
                    if httpx.get(f"{node.url}/healthz", timeout=10).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        raise AssertionError(f"{node.log.name} not ready after {timeout}s:\n{node.text()}")

    def close(self) -> None:
        for node in self.nodes:
            if node.process.poll() is None:
                node.process.kill()
        for node in self.nodes:
            node.process.wait(10)


class Proxy:
    """Forwards TCP from a local port to ``target``. ``cut`` closes the port and every
    connection through it (as a network failure would); ``restore`` opens it again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> Proxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        listener.settimeout(0.1)  # a blocked accept() would not notice the close
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # cut
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    client.close()
                    upstream.close()
                    return
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        for end in sockets:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    restore = start


@dataclass(frozen=True)
class Arrival:
    at: float  # time.monotonic() when the frame was read
    sequence: str
    type: str
    event: dict[str, object]


class StreamReader:
    """Reads a partner's Server-Sent Events in a thread, recording each event as it arrives."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url, self.headers = url, headers
        self.arrivals: list[Arrival] = []
        self.open = threading.Event()
        self.error: httpx.HTTPError | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self, timeout: float = 60.0) -> StreamReader:
        self._thread.start()
        assert self.open.wait(timeout), "the event stream did not open"
        return self

    def _run(self) -> None:
        try:
            self._read()
        except httpx.HTTPError as exc:  # the node went away: an error only if it was not told to stop
            self.error = None if self._stop.is_set() else exc

    def _read(self) -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(30.0, read=None)) as http,
            http.stream("GET", f"{self.url}/api/v1/feed/stream", headers=self.headers) as response,
        ):
            assert response.status_code == 200
            frame: dict[str, str] = {}
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith("retry:"):
                    self.open.set()
                elif line == "":
                    if "id" in frame:
                        event = json.loads(frame["data"])
                        self.arrivals.append(Arrival(time.monotonic(), frame["id"], frame["event"], event))
                    frame = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    frame[name] = value

    def stop(self) -> None:
        self._stop.set()

    def subjects(self) -> list[str]:
        return [str(a.event["subject"]) for a in self.arrivals]

    def wait_for(self, subjects: set[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if subjects <= set(self.subjects()):
                return True
            time.sleep(0.01)
        return False


def environment(database_url: str, audit_key_file: Path, stream: str, subject: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "PARS_DATABASE_URL": database_url,
        "PARS_AUDIT_KEY_FILE": str(audit_key_file),
        "PARS_WEBHOOK_RETRY_SCHEDULE": "1s",
        "PARS_WEBHOOK_PRIVATE_TARGETS": "loopback",  # the test receivers listen on 127.0.0.1
        "PARS_WEBHOOK_DEADLINE_SECONDS": "1",  # so that the workers' short leases outlive every attempt
        "PARS_NATS_STREAM": stream,
        "PARS_NATS_SUBJECT": subject,
    }


class NatsTap:
    """Listens to a subject prefix on NATS (a plain subscription, beside the nodes' JetStream
    consumers) in a thread of its own, recording (suffix, body) of every notice."""

    def __init__(self, url: str, subject: str) -> None:
        self.url, self.subject = url, subject
        self.notices: list[tuple[str, dict[str, object]]] = []
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> NatsTap:
        self._thread.start()
        assert self._ready.wait(10), "could not subscribe to NATS"
        return self

    async def _run(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        client = await nats.connect(self.url, connect_timeout=2)

        async def record(message: Msg) -> None:
            self.notices.append((message.subject.rsplit(".", 1)[1], json.loads(message.data)))

        await client.subscribe(f"{self.subject}.>", cb=record)
        await client.flush()
        self._ready.set()
        await self._stop.wait()
        await client.close()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)
