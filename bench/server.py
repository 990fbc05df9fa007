"""`pars serve` as a subprocess on a free port, for measurements over real sockets."""

from __future__ import annotations

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

import httpx

from pars.settings import Settings

PARS = Path(sys.executable).with_name("pars")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int


@contextmanager
def serve(settings: Settings, *, worker: bool = False, timeout: float = 60) -> Iterator[Server]:
    """`pars serve [--no-worker]` against the settings' database; stopped (SIGTERM) afterwards."""
    port = free_port()
    env = os.environ | {
        "PARS_DATABASE_URL": settings.database_url,
        "PARS_AUDIT_KEY_FILE": str(settings.audit_key_file),
    }
    if settings.admin_key:
        env["PARS_ADMIN_KEY"] = settings.admin_key
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
                raise RuntimeError(f"pars serve exited with {process.returncode}: {error[-2000:]}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("pars serve did not answer /healthz in time")
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
