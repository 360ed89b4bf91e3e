"""The SSRF guard and the pinned sender: internal addresses refused unless allowlisted, DNS
answers checked, the connection made to the checked address with the URL's Host and SNI."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from alerting.webhooks.sender import send
from alerting.webhooks.ssrf import UnsafeUrlError, check_url
from tests.support.receiver import running_receiver

REFUSED = [
    ("http://127.0.0.1", "loopback"),
    ("http://[::1]", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fd00:ec2::254]", "private"),
    ("http://10.0.0.1", "private"),
    ("http://192.168.1.10:8080/hook", "private"),
    ("http://100.64.0.1", "shared address space"),
    ("http://0.0.0.0", "unspecified"),
    ("http://224.0.0.1", "multicast"),
    ("http://[::ffff:127.0.0.1]", "loopback"),
    ("file:///etc/passwd", "scheme"),
    ("gopher://example.com", "scheme"),
    ("http://user:pw@example.com", "credentials"),
    ("http:///nohost", "no host"),
]


def resolver_for(answers: dict[str, list[str]], calls: list[str] | None = None) -> Any:
    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        if calls is not None:
            calls.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answers[host]]

    return resolve


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_internal_and_malformed_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeUrlError) as caught:
        check_url(url, [])
    assert reason in caught.value.reason
    assert [p.field for p in caught.value.problems] == ["url"]


def test_the_allowlist_takes_hosts_ips_and_cidrs() -> None:
    assert check_url("http://127.0.0.1:9000/x?a=1", ["127.0.0.1"]).path == "/x?a=1"
    assert check_url("http://10.1.2.3", ["10.0.0.0/8"]).address == "10.1.2.3"
    assert check_url("http://[::1]:81/", ["::1"]).host_header == "[::1]:81"
    named = resolver_for({"ci.internal": ["10.9.9.9"]})
    target = check_url("https://ci.internal/hook", ["CI.internal"], resolver=named)
    assert (target.address, target.port, target.host_header) == ("10.9.9.9", 443, "ci.internal")
    with pytest.raises(UnsafeUrlError):
        check_url("http://10.1.2.3", ["10.0.0.0/16", "ci.internal"])


def test_names_are_judged_by_every_address_they_resolve_to() -> None:
    resolve = resolver_for(
        {
            "public.example": ["93.184.215.14"],
            "metadata.example": ["169.254.169.254"],
            "mixed.example": ["93.184.215.14", "10.0.0.7"],
        }
    )
    assert check_url("http://public.example", [], resolver=resolve).address == "93.184.215.14"
    for host in ("metadata.example", "mixed.example"):
        with pytest.raises(UnsafeUrlError, match=r"refused \((link-local|private)"):
            check_url(f"http://{host}/", [], resolver=resolve)
    with pytest.raises(UnsafeUrlError, match="cannot be resolved"):
        check_url("http://nowhere.example/", [], resolver=resolve)


def test_the_sender_connects_to_the_checked_address_with_the_urls_host() -> None:
    calls: list[str] = []
    resolve = resolver_for({"receiver.test": ["127.0.0.1"]}, calls)
    with running_receiver() as receiver:
        port = receiver.server.server_address[1]
        target = check_url(f"http://receiver.test:{port}/in", ["receiver.test"], resolver=resolve)
        result = send(target, b"{}", {"X-Token": "t"}, 5.0)
    assert result.ok and result.error is None
    assert calls == ["receiver.test"]  # one lookup, by the check; the sender used its answer
    [request] = receiver.received
    assert request.path == "/in"
    assert request.headers["host"] == f"receiver.test:{port}"
    assert request.headers["x-token"] == "t"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "receiver.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_https_sends_the_urls_host_as_sni_and_verifies_the_certificate(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    seen: list[str | None] = []
    context.sni_callback = lambda _sock, name, _ctx: seen.append(name)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        connection, _ = listener.accept()
        # The client refuses our self-signed certificate, as it should: the handshake fails.
        with contextlib.suppress(ssl.SSLError, OSError):
            context.wrap_socket(connection, server_side=True).close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    resolve = resolver_for({"receiver.test": ["127.0.0.1"]})
    target = check_url(f"https://receiver.test:{port}/", ["receiver.test"], resolver=resolve)
    result = send(target, b"{}", {}, 5.0)
    thread.join(5)
    listener.close()
    assert seen == ["receiver.test"]
    assert result.status is None and "CERTIFICATE_VERIFY_FAILED" in (result.error or "")
