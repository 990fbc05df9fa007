"""`pars demo --receiver`: a small webhook receiver on 127.0.0.1, standing in for the partners'
systems, that verifies each delivery's Standard Webhooks signature and prints the event.

The demo subscriptions point at ``http://127.0.0.1:<port>/<agency>``. The receiver reads their
secrets from the database (it is a local demonstration tool; a real partner keeps the secret it
was shown when it subscribed) and looks again when a path or a signature is new to it, so
subscriptions made while it runs work too.
"""

from __future__ import annotations

import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

from cloudevents.core.bindings.http import HTTPMessage, from_structured
from cloudevents.core.formats.json import JSONFormat
from rich.console import Console
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook, WebhookVerificationError

from pars.feed.models import Subscription
from pars.feed.vocabulary import SubscriptionStatus
from pars.settings import Settings

STYLES = {"pars.arrest.withdrawn": "bold red", "pars.release_notice": "bold magenta"}


class Secrets:
    """path → (agency, secret) of the active subscriptions pointing at this receiver."""

    def __init__(self, engine: Engine, port: int) -> None:
        self._engine, self._port = engine, port
        self._by_path: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        prefix = f"http://127.0.0.1:{self._port}/"
        with Session(self._engine) as session:
            rows = session.execute(
                select(Subscription.url, Subscription.agency, Subscription.secret).where(
                    Subscription.status == SubscriptionStatus.ACTIVE, Subscription.url.startswith(prefix)
                )
            ).all()
        with self._lock:
            self._by_path = {"/" + url[len(prefix) :]: (agency, secret) for url, agency, secret in rows}

    def get(self, path: str) -> tuple[str, str] | None:
        with self._lock:
            return self._by_path.get(path)

    def agencies(self) -> list[str]:
        with self._lock:
            return sorted({agency for agency, _ in self._by_path.values()})


def summary(data: dict[str, Any]) -> str:
    """A line about the record as the partner received it: what its agreement let through."""
    parts = [data.get("tracking_number") or "", data.get("status") or ""]
    name = (data.get("person") or {}).get("name")
    if name:
        parts.append(" ".join(p for p in (name.get("first"), name.get("last")) if p))
    charges = data.get("charges")
    if charges:
        parts.append("; ".join(f"{c['statute']} ({c['grade']})" for c in charges[:3]))
    if "released_at" in data:
        parts.append(f"released {data['released_at']}")
    return "  ".join(p for p in parts if p)


def make_handler(secrets: Secrets, console: Console, zone: ZoneInfo) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {key.lower(): value for key, value in self.headers.items()}
            found = secrets.get(self.path)
            if found is None:
                secrets.reload()
                found = secrets.get(self.path)
            if found is None:
                console.print(f"[yellow]no subscription for {self.path}[/yellow]")
                self._answer(404)
                return
            agency, secret = found
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError as exc:
                console.print(f"[red]{agency}: signature check failed ({exc}); event refused[/red]")
                self._answer(401)
                return
            event = from_structured(HTTPMessage(headers=headers, body=body), JSONFormat())
            data = event.get_data()
            at = datetime.now(zone).strftime("%H:%M:%S")
            style = STYLES.get(event.get_type(), "bold green")
            console.print(
                f"[dim]{at}[/dim] [bold]{agency}[/bold] [{style}]{event.get_type()}[/{style}] "
                f"seq {int(event.get_extension('sequence'))}  signature ok  webhook-id {headers['webhook-id']}"
            )
            if isinstance(data, dict):
                console.print(f"    {summary(data)}", highlight=False)
                console.print(f"    [dim]fields: {', '.join(sorted(data))}[/dim]", highlight=False)
            self._answer(204)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def run_receiver(settings: Settings, engine: Engine, *, port: int, console: Console) -> None:
    """Until Ctrl-C."""
    secrets = Secrets(engine, port)
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(secrets, console, settings.zone))
    console.print(
        f"Webhook receiver on http://127.0.0.1:{port}/ for "
        f"{', '.join(secrets.agencies()) or 'no subscription yet'}. "
        "Book an arrest and watch its events arrive (Ctrl-C stops)."
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("Receiver stopped.")
    finally:
        server.server_close()
