"""Load: 200 concurrent partner and city clients for 60 seconds against two `pars serve` nodes on
one PostgreSQL, with NATS on; then an event stream on one node while bookings go through the other.

    .venv/bin/python bench/load.py [--url postgresql+psycopg://…/empty_db] [--clients 200]
        [--seconds 60] [--arrests 300] [--nats nats://127.0.0.1:4222] [--quick]

Without ``--url`` it creates (and afterwards drops) a PostgreSQL database of its own at
PARS_BENCH_POSTGRES_URL (default: the local server). The database gets the demo world (`pars init`
and `pars demo` through their functions: agencies, users and their keys as in demo-keys.json, the
FBI, ATF and ICE agreements, `--arrests` arrests with their history), FBI's agreement gets a new
version whose daily quota the run cannot reach (the quota is still checked on every request), and
a webhook receiver in this process takes the demo subscriptions' deliveries.

Each client is a closed loop over one kind of work on a keep-alive connection of its own, in
bench/loadgen.py (a process of its own, requests rendered beforehand), spread round-robin over the
two nodes as a load balancer would: partner searches (name and date of birth, case reference) and gets of records in
scope (FBI), and city work: bookings, searches and reads by the police, and the magistrate's
arraignment docket. Every answer but 200/201 is an error (there must be none). While the load
runs, the resident memory of each `pars serve` process tree is sampled (psutil).

Before the load, the stream: a partner's Server-Sent Events stream on node B while arrests are
booked one at a time on node A (20 a second): commit (the 201) to arrival, carried across nodes
by NATS.

For a SQLite URL the figures are for one node (SQLite is single-node) without the stream.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import psutil
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import Figure
from seed import database

from pars.cli import initialise
from pars.db import make_engine
from pars.demo.world import build_world
from pars.settings import Settings

NATS_URL = os.environ.get("PARS_BENCH_NATS_URL", "nats://127.0.0.1:4222")
PURPOSE = "criminal_investigation"
CASE = "FBI-PH-2026-0042"
MEMORY_TARGET_MB = 250.0
STREAM_TARGET_MS = 50.0
# Share of the clients doing each kind of work (partner work is most of a national exchange).
MIX = {
    "partner.search": 0.30,
    "partner.get": 0.20,
    "city.book": 0.10,
    "city.search": 0.15,
    "city.get": 0.15,
    "city.docket": 0.10,
}


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)  # the first few error answers, for the report


@dataclass(frozen=True)
class World:
    keys: dict[str, dict[str, Any]]
    names: list[tuple[str, str]]  # (last name, dob) of people FBI may find
    partner_ids: list[str]  # records in FBI's scope
    city_ids: list[str]


class Receiver:
    """Answers every webhook 204 (the demo subscriptions point here)."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class MemoryWatch:
    """Peak resident memory of each process tree (the process and its children), sampled."""

    def __init__(self, pids: list[int], every: float = 0.25) -> None:
        self.pids, self.every = pids, every
        self.peak_mb = dict.fromkeys(pids, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def sample(self) -> None:
        for pid in self.pids:
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(pid)
                total = root.memory_info().rss
                for child in root.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        total += child.memory_info().rss
                self.peak_mb[pid] = max(self.peak_mb[pid], total / 2**20)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)


@dataclass
class Node:
    process: subprocess.Popen[bytes]
    url: str
    log: Path


@contextlib.contextmanager
def nodes(settings: Settings, count: int, directory: Path, nats: str | None) -> Iterator[list[Node]]:
    """`count` `pars serve` processes (each with its worker thread, as deployed by default)."""
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "PARS_DATABASE_URL": settings.database_url,
        "PARS_AUDIT_KEY_FILE": str(settings.audit_key_file),
        "PARS_WEBHOOK_PRIVATE_TARGETS": "loopback",  # the receiver is in this process, on 127.0.0.1
        "PARS_NATS_STREAM": settings.nats_stream,
        "PARS_NATS_SUBJECT": settings.nats_subject,
    }
    if nats:
        env["PARS_NATS_URL"] = nats
    started: list[Node] = []
    try:
        for n in range(count):
            port = _free_port()
            log = directory / f"serve-{n}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(  # noqa: S603 - our own CLI
                    [sys.executable, "-m", "pars.cli", "serve", "--port", str(port)],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started.append(Node(process, f"http://127.0.0.1:{port}", log))
        for node in started:
            _wait_ready(node, nats is not None)
        yield started
    finally:
        for node in started:
            node.process.terminate()
        for node in started:
            try:
                node.process.wait(20)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait()


def _free_port() -> int:
    import socket  # noqa: PLC0415 - only here

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(node: Node, nats: bool, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            raise RuntimeError(f"pars serve exited: {node.log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            ready = httpx.get(f"{node.url}/healthz", timeout=1).status_code == 200
            if ready and (not nats or "nats connected" in node.log.read_text(errors="replace")):
                return
        time.sleep(0.1)
    raise RuntimeError(f"pars serve not ready in {timeout}s: {node.log.read_text(errors='replace')[-2000:]}")


def prepare(settings: Settings, arrests: int, receiver_port: int, directory: Path) -> dict[str, dict[str, Any]]:
    """`pars init` and `pars demo`, through their functions."""
    engine = make_engine(settings.database_url)
    try:
        initialise(settings, engine)
        return build_world(
            settings,
            engine,
            arrests=arrests,
            keys_file=directory / "demo-keys.json",
            seed=2018,
            console=Console(quiet=True),
            receiver_port=receiver_port,
        )
    finally:
        engine.dispose()


def _headers(keys: dict[str, dict[str, Any]], handle: str, *, partner: bool = False) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {keys[handle]['api_key']}"}
    if partner:
        headers |= {"PARS-Purpose": PURPOSE, "PARS-Case-Reference": CASE}
    return headers


def raise_quota(url: str, keys: dict[str, dict[str, Any]]) -> None:
    """A new version of FBI's agreement, same terms, a daily quota the run cannot reach; DAO and
    FJD approve it, so it is in force from now."""
    with httpx.Client(base_url=url, timeout=30) as http:
        governance = _headers(keys, "city.governance")
        listed = http.get("/api/v1/agreements", params={"limit": 100}, headers=governance)
        listed.raise_for_status()
        fbi = next(a for a in listed.json()["items"] if a["agency"] == "FBI" and a["in_force"])
        current = next(v for v in fbi["versions"] if v["version"] == fbi["current_version"])
        terms = {
            key: current[key]
            for key in ("title", "document_ref", "expires_at", "purposes", "channels", "fields", "scope")
        }
        terms |= {
            "effective_from": datetime.now(UTC).isoformat(),
            "require_case_reference": current["require_case_reference"],
            "daily_query_limit": 10_000_000,
        }
        http.post(f"/api/v1/agreements/{fbi['id']}/versions", json=terms, headers=governance).raise_for_status()
        for handle in ("dao.governance", "fjd.governance"):
            vote = http.post(
                f"/api/v1/agreements/{fbi['id']}/votes", json={"vote": "yes"}, headers=_headers(keys, handle)
            )
            vote.raise_for_status()


def gather_world(url: str, keys: dict[str, dict[str, Any]]) -> World:
    """Names and ids to ask for: what the city sees, and which of it FBI may find."""
    city = _headers(keys, "ppd.booking")
    partner = _headers(keys, "fbi.agent", partner=True)
    names: list[tuple[str, str]] = []
    partner_ids: list[str] = []
    city_ids: list[str] = []
    with httpx.Client(base_url=url, timeout=30) as http:
        cursor = None
        while len(city_ids) < 500:
            params: dict[str, Any] = {"limit": 100} | ({"cursor": cursor} if cursor else {})
            page = http.get("/api/v1/arrests", params=params, headers=city)
            page.raise_for_status()
            body = page.json()
            for item in body["items"]:
                city_ids.append(item["id"])
                name = (item.get("person") or {}).get("name") or {}
                if name.get("last") and item["person"].get("dob"):
                    names.append((name["last"], item["person"]["dob"]))
            cursor = body["next_cursor"]
            if not cursor:
                break
        for last, dob in names[:60]:
            found = http.get("/api/v1/arrests", params={"last_name": last, "dob": dob}, headers=partner)
            found.raise_for_status()
            partner_ids += [item["id"] for item in found.json()["items"]]
    visible = {(last, dob) for last, dob in names}
    if not partner_ids or not city_ids:
        raise RuntimeError("the demo world has no records to ask for: use more --arrests")
    return World(keys, sorted(visible), partner_ids, city_ids)


def booking_body(rng: random.Random) -> dict[str, Any]:
    arrested = datetime.now(UTC) - timedelta(minutes=rng.randint(5, 600))
    n = rng.randrange(10**8)
    return {
        "person": {
            "name": {"first": "Load", "middle": None, "last": f"Person{n:08d}", "suffix": None},
            "dob": f"19{rng.randint(50, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            "sex": "F",
        },
        "arrest": {
            "arrested_at": arrested.isoformat(),
            "district": "24",
            "incident_number": f"26{n:08d}",
            "arresting_agency": "PPD",
            "arresting_officer": "4471",
        },
        "charges": [{"statute": "18 § 2701 §§ A1", "grade": "M2"}],
    }


def _get(path: str, params: dict[str, str] | None, headers: dict[str, str]) -> dict[str, Any]:
    target = f"{path}?{urlencode(params)}" if params else path
    return {"method": "GET", "target": target, "headers": headers}


def requests_for(world: World, kind: str, rng: random.Random, count: int) -> list[dict[str, Any]]:
    """``count`` requests of one kind for one client, rendered by bench/loadgen.py before the clock
    starts (bookings all different, so none is refused as a repeat)."""
    keys = world.keys
    partner = _headers(keys, "fbi.agent", partner=True)
    police = _headers(keys, "ppd.booking")
    magistrate = _headers(keys, "fjd.magistrate")
    make: dict[str, Callable[[], dict[str, Any]]] = {
        "partner.search": lambda: _get(
            "/api/v1/arrests", dict(zip(("last_name", "dob"), rng.choice(world.names), strict=True)), partner
        ),
        "partner.get": lambda: _get(f"/api/v1/arrests/{rng.choice(world.partner_ids)}", None, partner),
        "city.book": lambda: {
            "method": "POST",
            "target": "/api/v1/arrests",
            "body": json.dumps(booking_body(rng)),
            "headers": police | {"Content-Type": "application/json"},
        },
        "city.search": lambda: _get("/api/v1/arrests", {"last_name": rng.choice(world.names)[0]}, police),
        "city.get": lambda: _get(f"/api/v1/arrests/{rng.choice(world.city_ids)}", None, police),
        "city.docket": lambda: _get("/api/v1/dockets/arraignment", None, magistrate),
    }
    return [make[kind]() for _ in range(count)]


def run_load(urls: list[str], world: World, *, clients: int, seconds: float) -> tuple[Tally, float, float]:
    """The clients, in bench/loadgen.py (a process of its own, outside the nodes and this one),
    spread round-robin over the nodes as a load balancer would; returns the tally, the run's
    length and the load generator's CPU seconds."""
    kinds = [kind for kind, share in MIX.items() for _ in range(max(1, round(share * clients)))][:clients]
    while len(kinds) < clients:
        kinds.append("partner.search")
    spec_clients = []
    for number, kind in enumerate(kinds):
        node = urlsplit(urls[number % len(urls)])
        rng = random.Random(number)  # noqa: S311 - load, not secrets
        count = 600 if kind == "city.book" else 50
        spec_clients.append({"kind": kind, "host": node.hostname, "port": node.port,
                             "requests": requests_for(world, kind, rng, count)})  # fmt: skip
    spec = {"mode": "soak", "seconds": seconds, "stagger": 0.5, "clients": spec_clients}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(spec, handle)
    try:
        done = subprocess.run(  # noqa: S603 - our own script
            [sys.executable, str(Path(__file__).resolve().parent / "loadgen.py"), handle.name],
            capture_output=True, check=False, text=True,
        )  # fmt: skip
    finally:
        Path(handle.name).unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed: {done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    tally = Tally()
    for kind, values in result["latencies_ms"].items():
        tally.latencies[kind] = values
        tally.errors[kind] = sum(n for status, n in result["statuses"][kind].items() if status not in ("200", "201"))
    tally.samples = result["samples"]
    return tally, result["seconds"], result["cpu_s"]


def stream_latency(source: str, viewer: str, keys: dict[str, dict[str, Any]], events: int) -> list[float]:
    """Bookings on ``source`` one at a time; FBI's event stream on ``viewer``: ms from each 201
    to its event's arrival."""
    answered: dict[str, float] = {}
    arrived: dict[str, float] = {}
    opened = threading.Event()
    done = threading.Event()

    def read() -> None:
        headers = _headers(keys, "fbi.agent") | {"PARS-Purpose": PURPOSE}
        with (
            contextlib.suppress(httpx.HTTPError),
            httpx.Client(timeout=httpx.Timeout(10.0, read=None)) as http,
            http.stream("GET", f"{viewer}/api/v1/feed/stream", headers=headers) as response,
        ):
            for line in response.iter_lines():
                if line.startswith("retry:"):
                    opened.set()
                elif line.startswith("data: "):
                    event = json.loads(line[6:])
                    if event["type"] == "pars.arrest.booked":
                        arrived.setdefault(event["subject"], time.monotonic())
                if done.is_set():
                    return

    threading.Thread(target=read, daemon=True).start()
    if not opened.wait(10):
        raise RuntimeError("the event stream did not open")
    rng = random.Random(7)  # noqa: S311 - load, not secrets
    police = _headers(keys, "ppd.booking")
    with httpx.Client(base_url=source, timeout=30) as http:
        for _ in range(events):
            response = http.post("/api/v1/arrests", json=booking_body(rng), headers=police)
            response.raise_for_status()
            answered[response.json()["id"]] = time.monotonic()
            time.sleep(0.05)  # 20 bookings a second
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(set(answered) & set(arrived)) < len(answered):
        time.sleep(0.05)
    done.set()
    return sorted(max(0.0, arrived[i] - answered[i]) * 1000 for i in answered if i in arrived) + [
        float("inf") for i in answered if i not in arrived
    ]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def _delete_stream(url: str, name: str) -> None:
    import nats  # noqa: PLC0415 - only for the clean-up

    client = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=1)
    try:
        with contextlib.suppress(Exception):
            await client.jetstream().delete_stream(name)
    finally:
        await client.close()


def _nats_reachable(url: str) -> bool:
    import socket  # noqa: PLC0415 - only here

    host, port = url.removeprefix("nats://").rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError:
        return False
    return True


def measure(
    url: str,
    *,
    clients: int,
    seconds: float,
    arrests: int,
    nats: str | None,
    logs: Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """The whole run; returns the report as a dict. ``logs``: keep the nodes' logs there."""
    sqlite = url.startswith("sqlite")
    token = uuid.uuid4().hex[:10]
    with tempfile.TemporaryDirectory() as tmp:
        directory = logs or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        settings = Settings(
            database_url=url,
            audit_key_file=directory / "audit.key",
            nats_stream=f"PARS_LOAD_{token}",
            nats_subject=f"pars-load.{token}",
        )
        receiver = Receiver()
        try:
            progress(f"load: building the demo world ({arrests} arrests)")
            keys = prepare(settings, arrests, receiver.port, directory)
            nats_url = None if sqlite else nats
            with nodes(settings, 1 if sqlite else 2, directory, nats_url) as running:
                raise_quota(running[0].url, keys)
                world = gather_world(running[0].url, keys)
                # The stream first, on quiet nodes: the latency of the path itself, not of a backlog.
                stream: list[float] = []
                if len(running) > 1:
                    progress("load: event stream across nodes")
                    stream = stream_latency(running[0].url, running[1].url, keys, 40 if seconds < 30 else 200)
                watch = MemoryWatch([node.process.pid for node in running])
                watch.sample()
                idle = dict(watch.peak_mb)
                progress(f"load: {clients} clients for {seconds:g} s")
                # The clients run in bench/loadgen.py, outside the nodes and this process; their
                # processor time is reported beside the figures.
                with watch:
                    tally, elapsed, generator_cpu = run_load(
                        [node.url for node in running], world, clients=clients, seconds=seconds
                    )
        finally:
            receiver.close()
            if nats and not sqlite:
                with contextlib.suppress(Exception):
                    asyncio.run(_delete_stream(nats, settings.nats_stream))
    total = sum(len(v) for v in tally.latencies.values())
    every = [ms for values in tally.latencies.values() for ms in values]
    return {
        "database": "sqlite" if sqlite else "postgresql",
        "nodes": 1 if sqlite else 2,
        "nats": bool(nats) and not sqlite,
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": total,
        "requests_per_s": round(total / elapsed, 1),
        "load_generator_cpu_ms_per_request": round(generator_cpu / max(total, 1) * 1000, 3),
        "errors": sum(tally.errors.values()),
        "error_samples": tally.samples,
        "latency_ms": {
            "all": _summary(every),
            **{
                kind: _summary(values) | {"errors": tally.errors.get(kind, 0)}
                for kind, values in tally.latencies.items()
            },
        },
        "memory_mb": {"idle": [round(idle[p], 1) for p in idle], "peak": [round(v, 1) for v in watch.peak_mb.values()]},
        "stream_ms": _summary(stream) if stream else None,
        "stream_lost": sum(1 for v in stream if v == float("inf")),
    }


def _summary(values: list[float]) -> dict[str, float]:
    finite = [v for v in values if v != float("inf")]
    return {
        "count": len(values),
        "p50": round(percentile(finite, 0.50), 1),
        "p95": round(percentile(finite, 0.95), 1),
        "p99": round(percentile(finite, 0.99), 1),
        "max": round(max(finite, default=0.0), 1),
    }


def figures(url: str, *, quick: bool = False, progress: Callable[[str], None] | None = None) -> list[Figure]:
    """For `make bench`: ``url`` names a fresh, empty database."""
    nats = NATS_URL if _nats_reachable(NATS_URL) else None
    clients, seconds, arrests = (20, 5.0, 60) if quick else (200, 60.0, 300)
    report = measure(
        url, clients=clients, seconds=seconds, arrests=arrests, nats=nats, progress=progress or (lambda _: None)
    )
    return to_figures(report)


def to_figures(report: dict[str, Any]) -> list[Figure]:
    database, clients = report["database"], report["clients"]
    where = f"{clients} clients, {report['nodes']} node{'s' if report['nodes'] > 1 else ''}"
    note = "" if report["nats"] or database == "sqlite" else "NATS not reachable: nodes ran without it"
    if database == "sqlite":
        note = "SQLite is single-node: one `pars serve`"
    latency = report["latency_ms"]
    result = [
        Figure("load", f"requests/s, {where}", report["requests_per_s"], "/s", database, note=note,
               extra={"requests": report["requests"], "seconds": report["seconds"],
                      "load_generator_cpu_ms_per_request": report["load_generator_cpu_ms_per_request"]}),
        Figure("load", f"errors, {where}", report["errors"], "requests", database, target=0, better="lower",
               extra={"samples": report["error_samples"]}),
        Figure("load", f"p50 latency, {where}", latency["all"]["p50"], "ms", database),
        Figure("load", f"p95 latency, {where}", latency["all"]["p95"], "ms", database),
        Figure("load", f"p99 latency, {where}", latency["all"]["p99"], "ms", database,
               extra={kind: values for kind, values in latency.items() if kind != "all"}),
    ]  # fmt: skip
    for n, peak in enumerate(report["memory_mb"]["peak"]):
        result.append(
            Figure("memory", f"peak RSS of `pars serve` node {n + 1} during the load", peak, "MB", database,
                   target=MEMORY_TARGET_MB, better="lower", extra={"idle_mb": report["memory_mb"]["idle"][n]})
        )  # fmt: skip
    stream = report["stream_ms"]
    if stream:
        result.append(
            Figure("load", "commit on node A → partner's event stream on node B, p99", stream["p99"], "ms", database,
                   target=STREAM_TARGET_MS, better="lower", note="over NATS" if report["nats"] else "polling only",
                   extra=stream | {"lost": report["stream_lost"]})
        )  # fmt: skip
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an empty database (default: a new PostgreSQL database, dropped afterwards)")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--arrests", type=int, default=300, help="demo arrests to build before the load")
    parser.add_argument("--nats", default=NATS_URL, help="NATS URL; 'none' to run the nodes without it")
    parser.add_argument("--quick", action="store_true", help="20 clients for 5 seconds")
    parser.add_argument("--logs", type=Path, help="keep the nodes' logs in this directory")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.seconds, args.arrests = 20, 5.0, 60
    nats = None if args.nats == "none" else args.nats
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(database("postgresql", Path(tempfile.gettempdir())))
        report = measure(
            url, clients=args.clients, seconds=args.seconds, arrests=args.arrests, nats=nats, logs=args.logs
        )
    print(json.dumps(report, indent=2))
    for figure in to_figures(report):
        met = "" if figure.met is None else (" (met)" if figure.met else " (NOT met)")
        target = "" if figure.target is None else f", target {figure.target:g}"
        print(f"{figure.area:7} {figure.name}: {figure.value:g} {figure.unit}{target}{met}")


if __name__ == "__main__":
    main()
