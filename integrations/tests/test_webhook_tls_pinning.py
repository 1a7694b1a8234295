"""HTTPS through the address pin: we connect to the checked IP, TLS still checks the name."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from integrations import webhook_http
from integrations.tests.factories import WebhookAllowedHostFactory
from integrations.webhook_http import DeliveryError, post_json

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

pytestmark = pytest.mark.django_db


def _cert(subject: str, key, issuer_name, issuer_key, *, ca: bool, san: str | None):
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Kefu test CA")])
    ca_cert = _cert("Kefu test CA", ca_key, ca_name, ca_key, ca=True, san=None)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert("hooks.pinned.test", key, ca_name, ca_key, ca=False, san="hooks.pinned.test")
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (tmp_path / "leaf.pem").write_bytes(cert.public_bytes(pem))
    (tmp_path / "leaf.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append({"host": self.headers["Host"]})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(webhook_http, "VERIFY_TLS", str(tmp_path / "ca.pem"))
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


def resolver_to_loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


def test_https_to_a_pinned_address_verifies_the_certificate_for_the_name(tls_receiver):
    port, seen = tls_receiver
    WebhookAllowedHostFactory.create(host="hooks.pinned.test")
    result = post_json(
        f"https://hooks.pinned.test:{port}/in",
        body=b"{}",
        headers={"Content-Type": "application/json"},
        resolver=resolver_to_loopback,
    )
    assert result.status_code == 200
    assert seen == [{"host": f"hooks.pinned.test:{port}"}]


def test_a_certificate_for_another_name_is_refused(tls_receiver):
    port, seen = tls_receiver
    WebhookAllowedHostFactory.create(host="evil.test")
    with pytest.raises(DeliveryError):
        post_json(
            f"https://evil.test:{port}/in",
            body=b"{}",
            headers={},
            resolver=resolver_to_loopback,
        )
    assert seen == []
