"""Where webhooks may go (PARS_WEBHOOK_PRIVATE_TARGETS, CONTRACT §1 and §9): checked when a
subscription is made and again on every send, after resolution (DNS rebinding); the deliveries
list shows a category, never what a receiver answered."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pars.app import create_app
from pars.audit.chain import CheckpointPolicy
from pars.audit.models import AuditEntry
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.feed.models import Subscription, WebhookAttempt, WebhookJob
from pars.feed.targets import allowed
from pars.feed.webhooks import Outgoing, WebhookSender, new_secret
from pars.feed.worker import FeedWorker, WorkerOptions
from pars.settings import PrivateTargets, Settings
from pars.work import unit_of_work
from tests.conftest import User
from tests.feed.conftest import PUBLIC_ADDRESS, SCHEDULE, FakeDNS
from tests.feed.receivers import Receiver

Make = Callable[..., dict[str, Any]]

# Networks a webhook must never reach under `deny` (and, but for loopback, under `loopback`).
FORBIDDEN_NETWORKS = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
    "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
]  # fmt: skip


def _inside(network: str) -> st.SearchStrategy[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    net = ipaddress.ip_network(network)
    return st.integers(0, net.num_addresses - 1).map(lambda offset: net[offset])


@given(st.sampled_from(FORBIDDEN_NETWORKS).flatmap(_inside))
def test_no_private_address_and_no_ipv6_form_of_one_is_allowed_under_deny(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    assert not allowed(address, PrivateTargets.DENY)
    if isinstance(address, ipaddress.IPv4Address):
        mapped = ipaddress.IPv6Address(f"::ffff:{address}")
        assert not allowed(mapped, PrivateTargets.DENY)
        nat64 = ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(address))
        assert not allowed(nat64, PrivateTargets.DENY)
    # `loopback` lets loopback through, nothing else.
    assert allowed(address, PrivateTargets.LOOPBACK) == address.is_loopback
    assert allowed(address, PrivateTargets.ALLOW)


def test_public_addresses_are_allowed_and_mapped_loopback_is_loopback() -> None:
    for text in ("93.184.215.14", "8.8.8.8", "2606:4700::1111"):
        assert allowed(ipaddress.ip_address(text), PrivateTargets.DENY)
    assert allowed(ipaddress.ip_address("::ffff:127.0.0.1"), PrivateTargets.LOOPBACK)
    assert not allowed(ipaddress.ip_address("::ffff:127.0.0.1"), PrivateTargets.DENY)


@pytest.fixture
def deny_client(db: Engine, settings: Settings, clock: FrozenClock, dns: FakeDNS) -> Iterator[TestClient]:
    """The application with the default setting, `deny`."""
    app = create_app(
        settings.model_copy(update={"webhook_private_targets": PrivateTargets.DENY}), clock=clock, engine=db
    )
    app.state.webhook_resolver = dns
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5432/",
        "http://localhost:4222/",
        "http://[::1]:8080/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/",
        "https://[::ffff:10.0.0.1]/",
        "https://[::ffff:169.254.169.254]/",
        "https://[fe80::1]/",
        "https://224.0.0.1/",
        "https://0.0.0.0/",
        "https://metadata.internal.example/",  # a name that resolves to 169.254.169.254
        "https://split.example/",  # a name with one public and one private address
    ],
)
def test_under_deny_a_private_target_is_refused_at_subscription(
    deny_client: TestClient, agreement: Make, fbi: User, dns: FakeDNS, session: Session, url: str
) -> None:
    agreement()
    dns.names["metadata.internal.example"] = ["169.254.169.254"]
    dns.names["split.example"] = [PUBLIC_ADDRESS, "10.1.2.3"]
    body = {"url": url, "purpose": "criminal_investigation"}
    response = deny_client.post("/api/v1/subscriptions", json=body, headers=fbi.headers)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"][0]["field"] == "url"
    assert "address" in problem["errors"][0]["message"] or "https://" in problem["errors"][0]["message"]
    session.expire_all()
    assert session.scalars(select(Subscription)).all() == []  # nothing made
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "feed.subscribe")).all() == []


def test_under_deny_a_public_https_target_is_accepted_and_an_unresolvable_one_refused(
    deny_client: TestClient, agreement: Make, fbi: User
) -> None:
    agreement()
    ok = {"url": "https://hooks.fbi.example.gov/pars", "purpose": "criminal_investigation"}
    assert deny_client.post("/api/v1/subscriptions", json=ok, headers=fbi.headers).status_code == 201
    missing = {"url": "https://no-such-host.invalid/", "purpose": "criminal_investigation"}
    response = deny_client.post("/api/v1/subscriptions", json=missing, headers=fbi.headers)
    assert response.status_code == 422 and "resolve" in response.json()["errors"][0]["message"]


def test_under_loopback_loopback_is_accepted_and_private_still_refused(
    client: TestClient, agreement: Make, fbi: User
) -> None:
    agreement()
    for url, status in (("http://127.0.0.1:9000/fbi", 201), ("http://localhost:9000/fbi", 201),
                        ("https://10.0.0.1/", 422), ("https://169.254.169.254/", 422)):  # fmt: skip
        body = {"url": url, "purpose": "criminal_investigation"}
        assert client.post("/api/v1/subscriptions", json=body, headers=fbi.headers).status_code == status, url


def test_a_name_that_rebinds_to_a_private_address_is_not_sent_to(
    client: TestClient,
    db: Engine,
    clock: FrozenClock,
    settings: Settings,
    agreement: Make,
    fbi: User,
    book: Make,
    subscribe: Make,
    dns: FakeDNS,
    receiver: Receiver,
    session: Session,
    policy: CheckpointPolicy,
) -> None:
    """Public at subscription, 127.0.0.1 at send time: recorded as forbidden_target, not sent."""
    agreement()
    dns.names["rebind.example"] = [PUBLIC_ADDRESS]
    subscription = subscribe(fbi, f"https://rebind.example:{receiver.port}/hook")
    book()
    dns.names["rebind.example"] = ["127.0.0.1"]  # the partner's DNS now points at this host
    options = WorkerOptions(schedule=SCHEDULE, zone=settings.zone, deadline=1.0, targets=PrivateTargets.DENY)
    worker = FeedWorker(make_session_factory(db), clock, options, checkpoints=policy,
                        sender=WebhookSender(deadline=1.0, targets=PrivateTargets.DENY, resolve=dns))  # fmt: skip
    try:
        worker.drain()
    finally:
        worker.sender.close()
    assert receiver.received == []  # not even a connection that sent a request
    listed = client.get(f"/api/v1/subscriptions/{subscription['id']}/deliveries", headers=fbi.headers).json()
    (attempt,) = listed["items"]
    assert attempt["error"] == "forbidden_target" and attempt["status_code"] is None
    session.expire_all()
    assert session.scalars(select(WebhookJob.status)).one() == "pending"  # retried: the name may be fixed


def test_the_sender_connects_to_the_checked_address_keeping_the_host_name(receiver: Receiver) -> None:
    """The connection goes to the address the check passed; the Host header names the host."""
    lookups: list[str] = []

    def resolve(host: str) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    sender = WebhookSender(deadline=2.0, targets=PrivateTargets.LOOPBACK, resolve=resolve)
    try:
        url = f"http://partner.test:{receiver.port}/hook"
        out = Outgoing(1, "token", uuid.uuid4(), url, new_secret(), uuid.uuid4(), 1, "pars.arrest.booked", 1, b"{}")
        result = sender.send(out)
    finally:
        sender.close()
    assert result.status_code == 204 and result.error is None
    assert lookups == ["partner.test"]  # resolved once, by the check
    (received,) = receiver.received
    assert received.headers["host"] == f"partner.test:{receiver.port}"


def test_the_deliveries_list_shows_categories_not_stored_text(
    client: TestClient,
    agreement: Make,
    fbi: User,
    subscribe: Make,
    db: Engine,
    clock: FrozenClock,
    book: Make,
    worker: FeedWorker,
    policy: CheckpointPolicy,
) -> None:
    """Attempts recorded before the categories held exception text that could quote a receiver
    (a NATS server's INFO line); the list shows only the category."""
    agreement()
    subscription = subscribe(fbi, "https://hooks.fbi.example.gov/pars")
    book()
    worker.fan_out()  # a job to hang the attempt rows on; never sent
    legacy = {
        'BadStatusLine: INFO {"server_id":"NCXYZ","version":"2.10.1"}': (None, "connection_error"),
        "HTTP 500": (500, "http_status"),
        "timeout: ReadTimeout": (None, "timeout"),
        "ConnectionRefusedError: [Errno 111] Connection refused": (None, "connection_refused"),
        "SSLCertVerificationError: certificate verify failed": (None, "tls_error"),
    }
    with unit_of_work(make_session_factory(db), clock, policy=policy) as session:
        job = session.scalars(select(WebhookJob)).one()
        for n, (text, (code, _)) in enumerate(legacy.items(), start=1):
            session.add(WebhookAttempt(
                job_id=job.id, subscription_id=job.subscription_id, event_id=uuid.uuid4(), sequence=1,
                type="pars.arrest.booked", attempt=n, at=clock.now() + timedelta(seconds=n), succeeded=False,
                status_code=code, latency_ms=3, error=text,
            ))  # fmt: skip
    response = client.get(f"/api/v1/subscriptions/{subscription['id']}/deliveries", headers=fbi.headers)
    assert response.status_code == 200
    shown = {item["attempt"]: item["error"] for item in response.json()["items"]}
    assert shown == {n: category for n, (_, (_, category)) in enumerate(legacy.items(), start=1)}
    assert "INFO" not in response.text and "server_id" not in response.text and "Errno" not in response.text
