"""`pars serve` as the bench runs it, plus one bench-only route: the ceiling of a write request.

    PARS_DATABASE_URL=... PARS_AUDIT_KEY_FILE=... .venv/bin/python bench/bench_server.py --port 8000 [--worker]

The application, its engine, its middleware and uvicorn are set up exactly as `pars serve` sets
them up (`pars.cli.serve`: `create_app(settings)`, the worker attached or not, NATS attached,
`uvicorn.run(..., log_level="warning")`); the database must be initialised already. Added to it:
``POST /bench/insert``, a synchronous route (as PARS's own routes, so it runs in the same thread
pool) that inserts the request body as one row of a bench-only table and commits, through the
application's own session factory (same engine, pool and database settings). No production route
is touched and no production build has this one: it exists only in this script.
"""

from __future__ import annotations

import argparse
import uuid

import uvicorn
from fastapi import FastAPI, Request, Response
from sqlalchemy import Column, MetaData, String, Table, Text, insert
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from pars import worker as worker_module
from pars.app import create_app
from pars.feed import bus as nats_bus
from pars.settings import Settings

BENCH_METADATA = MetaData()
BENCH_INSERTS = Table(
    "bench_inserts", BENCH_METADATA, Column("id", String(36), primary_key=True), Column("body", Text, nullable=False)
)


def add_ceiling_route(application: FastAPI) -> None:
    BENCH_METADATA.create_all(application.state.engine)
    factory: sessionmaker[Session] = application.state.session_factory

    def bench_insert(body: bytes) -> Response:
        with factory() as session:
            session.execute(insert(BENCH_INSERTS).values(id=str(uuid.uuid4()), body=body.decode()))
            session.commit()
        return Response(status_code=201)

    async def route(request: Request) -> Response:
        # The body is read in the event loop and the write runs in the thread pool, as a PARS
        # route with a JSON body and a synchronous handler does.
        body = await request.body()
        return await run_in_threadpool(bench_insert, body)

    application.add_api_route("/bench/insert", route, methods=["POST"], include_in_schema=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--worker", action="store_true")
    args = parser.parse_args()
    settings = Settings()
    application = create_app(settings)
    add_ceiling_route(application)
    if args.worker:
        worker_module.attach(application, settings)
    nats_bus.attach(application, settings, wake_worker=args.worker)
    uvicorn.run(application, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
