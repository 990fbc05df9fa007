"""The measured server as a subprocess on a free port, and the load generator as another.

`serve` starts `pars serve`, or bench/bench_server.py (the same set-up plus the bench-only
``POST /bench/insert`` ceiling route) with ``ceiling=True``. `drive` runs bench/loadgen.py in its
own process against it: the load generator's processor time is its own and reported, not the
server's, and not the bench process's either.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil

from pars.settings import Settings

PARS = Path(sys.executable).with_name("pars")
HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system processor time the server process has used so far."""
        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)


@contextmanager
def serve(settings: Settings, *, worker: bool = False, ceiling: bool = False, timeout: float = 60) -> Iterator[Server]:
    """`pars serve [--no-worker]` (or bench/bench_server.py with `ceiling`) against the
    settings' database; stopped (SIGTERM) afterwards."""
    port = free_port()
    env = os.environ | {
        "PARS_DATABASE_URL": settings.database_url,
        "PARS_AUDIT_KEY_FILE": str(settings.audit_key_file),
    }
    if settings.admin_key:
        env["PARS_ADMIN_KEY"] = settings.admin_key
    if ceiling:
        command = [sys.executable, str(HERE / "bench_server.py"), "--host", "127.0.0.1", "--port", str(port)]
        if worker:
            command.append("--worker")
    else:
        command = [str(PARS), "serve", "--host", "127.0.0.1", "--port", str(port)]
        if not worker:
            command.append("--no-worker")
    # The server's output goes to a file: a pipe nobody reads would fill and stall the server.
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                log.seek(0)
                error = log.read().decode(errors="replace")
                raise RuntimeError(f"the server exited with {process.returncode}: {error[-2000:]}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer /healthz in time")
            time.sleep(0.1)
        yield Server(base_url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def drive(
    server: Server,
    phases: list[tuple[str, list[dict[str, Any]]]],
    *,
    connections: int,
    warm: list[dict[str, Any]] | None = None,
    refused_ok: bool = False,
) -> list[dict[str, Any]]:
    """Runs bench/loadgen.py against `server`, phase after phase; per phase its wall time, the
    load generator's CPU time, the server's CPU time over the whole run (``server_cpu_s``, the
    same for every phase of one call), statuses and latencies. Raises on any non-2xx answer, but
    with `refused_ok` on a 503 (the server's "busy, retry shortly"), which the caller counts."""
    parts = urlsplit(server.base_url)
    spec = {"host": parts.hostname, "port": parts.port, "connections": connections, "warm": warm or [],
            "phases": [{"name": name, "requests": requests} for name, requests in phases]}  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(spec, handle)
    try:
        before = server.cpu_seconds()
        done = subprocess.run(  # noqa: S603 - our own script
            [sys.executable, str(HERE / "loadgen.py"), handle.name], capture_output=True, check=False, text=True
        )
        server_cpu = server.cpu_seconds() - before
    finally:
        Path(handle.name).unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed: {done.stderr[-2000:]}")
    results: list[dict[str, Any]] = json.loads(done.stdout)["phases"]
    for result in results:
        refused_only = set(result["statuses"]) <= {"200", "201", "204", "503"}
        if result["failure"] and not (refused_ok and refused_only):
            raise RuntimeError(f"phase {result['name']}: an answer was not 2xx: {result['failure']}")
        result["server_cpu_s"] = server_cpu
    return results
