"""The HTTP load generator of the bench, run as its own process so that its work is not the
measured server's and its own cost can be reported.

    .venv/bin/python bench/loadgen.py SPEC.json   (prints the result as JSON on stdout)

SPEC: ``{"host": "127.0.0.1", "port": 8000, "connections": 16, "warm": [request, ...],
"phases": [{"name": "city", "requests": [request, ...]}, ...]}`` where a request is
``{"method": "GET", "target": "/api/v1/arrests?last_name=...", "headers": {...}, "body": "..."}``.

Every request is rendered to bytes before the clock starts; ``connections`` keep-alive
connections (plain asyncio streams, no HTTP library: a few tens of microseconds of processor time
per request) take requests from a shared queue, phase after phase. For each phase it reports the
wall time from the first request sent to the last answer read, its own CPU time
(``time.process_time``) over the phase, the status codes, latencies (median, p99) and the first
answer that was not 2xx. The warm-up requests are sent first and not reported.

SOAK (``"mode": "soak"``, bench/load.py): ``{"mode": "soak", "seconds": 60, "stagger": 0.5,
"clients": [{"kind": "partner.search", "host": ..., "port": ..., "requests": [request, ...]}, ...]}``.
Each client is a closed loop on a keep-alive connection of its own: it sends its requests in turn
(starting over when they run out) until the time is up, and reopens its connection when the
server closes it. It reports, per kind, every latency (ms), the statuses and the first few
answers that were not 2xx; and its own CPU time over the run.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any


def render(host: str, port: int, request: dict[str, Any]) -> bytes:
    body = request.get("body", "").encode()
    head = [f"{request['method']} {request['target']} HTTP/1.1", f"Host: {host}:{port}",
            f"Content-Length: {len(body)}"]  # fmt: skip
    head += [f"{name}: {value}" for name, value in request.get("headers", {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """The status, the body, and whether the server closes the connection after it."""
    line = await reader.readline()
    if not line:
        raise ConnectionResetError("the server closed the connection")
    status = int(line.split(b" ", 2)[1])
    length, chunked, closing = 0, False, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            closing = True
    if not chunked:
        return status, await reader.readexactly(length), closing
    parts = []
    while size := int((await reader.readline()).strip(), 16):
        parts.append(await reader.readexactly(size))
        await reader.readline()
    await reader.readline()
    return status, b"".join(parts), closing


async def _phase(host: str, port: int, connections: int, requests: list[bytes]) -> dict[str, Any]:
    queue = list(reversed(requests))
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    failure: list[str] = []
    streams = [await asyncio.open_connection(host, port) for _ in range(min(connections, len(requests)))]

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while queue:
            raw = queue.pop()
            sent = time.perf_counter()
            writer.write(raw)
            status, body, _ = await _response(reader)
            latencies.append(time.perf_counter() - sent)
            statuses[status] += 1
            if status >= 300 and not failure:
                failure.append(f"{status}: {body[:300].decode(errors='replace')}")

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(r, w) for r, w in streams))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    for _, writer in streams:
        writer.close()
    latencies.sort()
    return {
        "requests": len(requests),
        "wall_s": wall,
        "cpu_s": cpu,
        "statuses": {str(k): v for k, v in statuses.items()},
        "median_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000 if latencies else 0.0,
        "failure": failure[0] if failure else None,
    }


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    host, port, connections = spec["host"], spec["port"], spec["connections"]
    if spec.get("warm"):
        await _phase(host, port, connections, [render(host, port, r) for r in spec["warm"]])
    rendered = [(p["name"], [render(host, port, r) for r in p["requests"]]) for p in spec["phases"]]
    return {"phases": [{"name": name, **await _phase(host, port, connections, raw)} for name, raw in rendered]}


async def soak(spec: dict[str, Any]) -> dict[str, Any]:
    clients = [(c["kind"], c["host"], c["port"], [render(c["host"], c["port"], r) for r in c["requests"]])
               for c in spec["clients"]]  # fmt: skip
    latencies: dict[str, list[float]] = {kind: [] for kind, *_ in clients}
    statuses: dict[str, Counter[int]] = {kind: Counter() for kind in latencies}
    samples: list[str] = []
    loop = asyncio.get_running_loop()
    deadline = 0.0

    async def client(number: int, kind: str, host: str, port: int, raws: list[bytes]) -> None:
        await asyncio.sleep(spec.get("stagger", 0.5) * number / max(len(clients), 1))
        streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        turn = number
        while loop.time() < deadline:
            raw = raws[turn % len(raws)]
            turn += 1
            sent = loop.time()
            try:
                if streams is None:
                    streams = await asyncio.open_connection(host, port)
                streams[1].write(raw)
                status, body, closing = await _response(streams[0])
            except (OSError, asyncio.IncompleteReadError) as exc:
                status, body, closing = 0, f"{type(exc).__name__}: {exc}".encode(), True
            latencies[kind].append((loop.time() - sent) * 1000)
            statuses[kind][status] += 1
            if status not in (200, 201) and len(samples) < 5:
                samples.append(f"{kind} {status} {body[:200].decode(errors='replace')}")
            if closing and streams is not None:
                streams[1].close()
                streams = None
        if streams is not None:
            streams[1].close()

    cpu = time.process_time()
    started = loop.time()
    deadline = started + spec["seconds"]
    await asyncio.gather(*(client(n, *c) for n, c in enumerate(clients)))
    return {
        "seconds": loop.time() - started,
        "cpu_s": time.process_time() - cpu,
        "latencies_ms": latencies,
        "statuses": {kind: {str(k): v for k, v in counts.items()} for kind, counts in statuses.items()},
        "samples": samples,
    }


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    print(json.dumps(asyncio.run(soak(spec) if spec.get("mode") == "soak" else run(spec))))


if __name__ == "__main__":
    main()
