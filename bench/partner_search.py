"""Partner search latency against the same search by a city user, one process, one database.

    .venv/bin/python bench/partner_search.py [--url sqlite:///...] [--runs 500]

Builds a demo world in a temporary database, then times the same name + birth-date search by the
demo's booking clerk and by the FBI agent (gate, scope filter, projection, disclosure audit), over
HTTP through the ASGI test client, alternating the two so machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import select

from pars.app import create_app
from pars.cli import initialise
from pars.db import make_engine, make_session_factory
from pars.demo.world import build_world
from pars.records.models import Arrest
from pars.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=None)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--arrests", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/bench.db"
        settings = Settings(database_url=url, audit_key_file=Path(tmp) / "audit.key")
        engine = make_engine(url)
        initialise(settings, engine)
        keys = build_world(settings, engine, arrests=args.arrests, keys_file=Path(tmp) / "keys.json", seed=1,
                           console=Console(quiet=True))  # fmt: skip
        with make_session_factory(engine)() as session:
            arrests = list(session.scalars(select(Arrest).where(Arrest.sealed.is_(False)).limit(200)))
            targets = [{"last_name": a.last_name, "dob": a.dob.isoformat()} for a in arrests]
        city = {"Authorization": f"Bearer {keys['ppd.booking']['api_key']}"}
        partner = {"Authorization": f"Bearer {keys['fbi.agent']['api_key']}", "PARS-Purpose": "criminal_investigation",
                   "PARS-Case-Reference": "BENCH-1"}  # fmt: skip
        timings: dict[str, list[float]] = {"city": [], "partner": []}
        with TestClient(create_app(settings, engine=engine)) as client:
            for i in range(args.runs):
                params = targets[i % len(targets)]
                for who, headers in (("city", city), ("partner", partner)):
                    started = time.perf_counter()
                    response = client.get("/api/v1/arrests", params=params, headers=headers)
                    timings[who].append(time.perf_counter() - started)
                    assert response.status_code == 200, response.text
        medians = {who: statistics.median(t) * 1000 for who, t in timings.items()}
        print(json.dumps({
            "database": engine.dialect.name, "runs": args.runs,
            "median_ms": {k: round(v, 2) for k, v in medians.items()},
            "partner_over_city": round(medians["partner"] / medians["city"], 2),
        }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
