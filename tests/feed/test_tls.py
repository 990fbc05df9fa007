"""https endpoints reached at a checked address: the sender connects to the address the private-
target check passed (never resolving the name a second time), yet TLS still speaks to the name:
SNI carries the host name and the certificate must be valid for it."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pars.feed.vocabulary import DeliveryError
from pars.feed.webhooks import Outgoing, Result, WebhookSender, new_secret
from pars.settings import PrivateTargets

PARTNER = "hooks.partner.test"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@dataclass
class Authority:
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    cert: x509.Certificate | None = None

    def __post_init__(self) -> None:
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder().subject_name(_name("PARS test authority")).issuer_name(_name("PARS test authority"))
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )  # fmt: skip

    def pem(self) -> str:
        assert self.cert is not None
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def issue(self, host: str, folder: Path) -> tuple[Path, Path]:
        """A server certificate for ``host``; returns (certificate, key) files."""
        assert self.cert is not None
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder().subject_name(_name(host)).issuer_name(self.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(self.key, hashes.SHA256())
        )  # fmt: skip
        cert_file, key_file = folder / f"{host}.crt", folder / f"{host}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return cert_file, key_file


@dataclass
class TlsReceiver:
    port: int
    server_names: list[str | None]
    hosts: list[str]


def _serve(cert: Path, key: Path) -> Iterator[TlsReceiver]:
    seen = TlsReceiver(0, [], [])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            seen.hosts.append(self.headers.get("host", ""))
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _socket, name, _context: seen.server_names.append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    seen.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def authority() -> Authority:
    return Authority()


def _send(authority: Authority, port: int, *, trusted: bool = True) -> Result:
    """One delivery to https://hooks.partner.test:<port>/, the name resolving to 127.0.0.1."""
    tls = ssl.create_default_context(cadata=authority.pem()) if trusted else None
    sender = WebhookSender(deadline=10.0, targets=PrivateTargets.LOOPBACK, resolve=lambda host: ["127.0.0.1"], tls=tls)
    url = f"https://{PARTNER}:{port}/hook"
    out = Outgoing(1, "token", uuid.uuid4(), url, new_secret(), uuid.uuid4(), 1, "pars.arrest.booked", 1, b"{}")
    try:
        return sender.send(out)
    finally:
        sender.close()


def test_https_to_a_checked_address_sends_the_host_name_and_checks_the_certificate_for_it(
    authority: Authority, tmp_path: Path
) -> None:
    for receiver in _serve(*authority.issue(PARTNER, tmp_path)):
        result = _send(authority, receiver.port)
        assert (result.status_code, result.error) == (204, None)
        assert receiver.server_names == [PARTNER]  # SNI: the name, not 127.0.0.1
        assert receiver.hosts == [f"{PARTNER}:{receiver.port}"]


def test_a_certificate_for_another_name_is_a_tls_error_and_nothing_is_sent(
    authority: Authority, tmp_path: Path
) -> None:
    for receiver in _serve(*authority.issue("elsewhere.test", tmp_path)):
        result = _send(authority, receiver.port)
        assert (result.status_code, result.error) == (None, DeliveryError.TLS_ERROR)
        assert receiver.hosts == []


def test_a_certificate_from_an_untrusted_authority_is_a_tls_error(authority: Authority, tmp_path: Path) -> None:
    for receiver in _serve(*authority.issue(PARTNER, tmp_path)):
        result = _send(authority, receiver.port, trusted=False)  # the system's authorities only
        assert (result.status_code, result.error) == (None, DeliveryError.TLS_ERROR)
        assert receiver.hosts == []
