"""DNS rebinding: the crawler connects to the address the SSRF guard checked, nothing else.

A name with a zero TTL can answer an allowed address to the guard's lookup and another address
to the connection's. These tests play such a name (the system resolver is replaced, so they
hold whichever code does the lookups) against real loopback servers: only 127.0.1.0/24 is
allowed, the name first answers 127.0.1.77 and then 127.0.2.77, where another site listens.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from enrichment_pipelines.core.crawl import CrawlOptions, crawl_sites
from enrichment_pipelines.core.websites import parse_networks
from enrichment_pipelines.demo.server import Request, SiteServer
from enrichment_pipelines.demo.sites import Response

CHECKED = "127.0.1.77"  # inside the allowed range: what the guard is shown
OTHER = "127.0.2.77"  # outside it: where a rebinding name would send the connection
TLS_SITE = "127.0.1.78"

OPTIONS = CrawlOptions(
    allowed_networks=parse_networks("127.0.1.0/24"),
    request_timeout_seconds=2.0,
    per_host_delay_seconds=0.0,
    backoff_seconds=0.05,
    retries=0,
)
HOME = (
    "<html><head><title>{name}</title></head><body><h1>{name}</h1><p>We build things.</p>"
    "<a href='/about'>About us</a></body></html>"
)
_real_getaddrinfo = socket.getaddrinfo


@dataclass
class Seen:
    """The requests one address received: (path, Host header)."""

    requests: list[tuple[str, str | None]] = field(default_factory=list)

    def serving(self, response: Response) -> Callable[[Request], Response]:
        def handler(request: Request) -> Response:
            self.requests.append((request.path, request.headers.get("host")))
            return response

        return handler


def _site(seen: Seen, name: str, *headers: tuple[str, str]) -> dict[str, Any]:
    page = Response(200, HOME.format(name=name).encode(), headers=headers)
    robots = Response(200, b"User-agent: *\nAllow: /\n", "text/plain", headers=headers)
    return {
        "/robots.txt": seen.serving(robots),
        "/": seen.serving(page),
        "/about": seen.serving(page),
    }


@dataclass
class Servers:
    port: int
    checked: Seen
    other: Seen
    closing_port: int  # the same two sites, but every response closes its connection
    closing_checked: Seen
    closing_other: Seen


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    checked, other = Seen(), Seen()
    keep = SiteServer({CHECKED: _site(checked, "Checked"), OTHER: _site(other, "Other")})
    closing_checked, closing_other = Seen(), Seen()
    close = ("Connection", "close")
    closing = SiteServer(
        {
            CHECKED: _site(closing_checked, "Checked", close),
            OTHER: _site(closing_other, "Other", close),
        }
    )
    with keep, closing:
        yield Servers(keep.port, checked, other, closing.port, closing_checked, closing_other)


class Rebinding:
    """The system resolver, except that `name` answers `first` once and `then` afterwards."""

    def __init__(self, name: str, first: str, then: str) -> None:
        self.name, self.first, self.then = name, first, then
        self.lookups = 0

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        text = host.decode() if isinstance(host, bytes) else host
        if text != self.name:
            return _real_getaddrinfo(host, port, *args, **kwargs)
        self.lookups += 1
        address = self.first if self.lookups == 1 else self.then
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0)))]


def test_connection_goes_to_the_checked_address(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebinding = Rebinding("rebind.test", CHECKED, OTHER)
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = f"http://rebind.test:{servers.port}"
    [crawl] = crawl_sites([url], OPTIONS)
    assert servers.other.requests == []  # never reached: it was not the address checked
    assert crawl.status == "ok", crawl.reason
    assert [path for path, _ in servers.checked.requests] == ["/robots.txt", "/", "/about"]
    # The server sees the site's name, not the address it was reached on.
    assert {host for _, host in servers.checked.requests} == {f"rebind.test:{servers.port}"}
    assert rebinding.lookups == 1  # one look-up, for the one connection (kept alive)


def test_a_new_connection_is_checked_again(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every response closes its connection, so each request looks the name up again: the
    second answer is outside the allowed range and the request is refused, not sent there."""
    rebinding = Rebinding("rebind-close.test", CHECKED, OTHER)
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = f"http://rebind-close.test:{servers.closing_port}"
    [crawl] = crawl_sites([url], OPTIONS)
    assert servers.closing_other.requests == []
    assert servers.closing_checked.requests == [
        ("/robots.txt", f"rebind-close.test:{servers.closing_port}")
    ]
    assert crawl.reason == (
        "home page: refused: rebind-close.test resolves to private address 127.0.2.77; "
        "set ENRICH_ALLOW_PRIVATE_NETWORKS to allow it"
    )


def test_the_resolver_can_be_given_and_every_address_is_checked(servers: Servers) -> None:
    answers = {
        "one.test": [CHECKED],
        "mixed.test": [CHECKED, OTHER],  # one address outside the allowed range is enough
        "fallback.test": ["127.0.1.79", CHECKED],  # nothing listens on the first
    }
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return answers[host]

    options = replace(OPTIONS, resolve=resolve)
    one, mixed, fallback = crawl_sites(
        [f"http://{name}:{servers.port}" for name in answers], options
    )
    assert one.status == "ok", one.reason
    assert mixed.reason == (
        "home page: refused: mixed.test resolves to private address 127.0.2.77; "
        "set ENRICH_ALLOW_PRIVATE_NETWORKS to allow it"
    )
    assert fallback.status == "ok", fallback.reason  # the next checked address is tried
    assert sorted(set(asked)) == [(name, servers.port) for name in sorted(answers)]
    assert servers.other.requests == []


def test_ip_literals_are_not_looked_up(servers: Servers, monkeypatch: pytest.MonkeyPatch) -> None:
    """An address is checked as it is: no look-up, and no hop to a thread (see the README's
    "Benchmarks": that hop cost the crawl a measurable share of its throughput)."""

    def resolve(host: str, port: int) -> list[str]:
        raise AssertionError(f"{host} looked up")

    def to_thread(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an IP literal went through a thread")

    monkeypatch.setattr(asyncio, "to_thread", to_thread)
    options = replace(OPTIONS, resolve=resolve)
    ok, refused = crawl_sites(
        [f"http://{CHECKED}:{servers.port}", f"http://{OTHER}:{servers.port}"], options
    )
    assert ok.status == "ok", ok.reason
    assert (
        refused.reason == "home page: refused: 127.0.2.77 is a private address; "
        "set ENRICH_ALLOW_PRIVATE_NETWORKS to allow it"
    )


# --- TLS: the socket goes to the checked address, the handshake is for the name ------------


def _certificates(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for `name`: (CA file, cert file, key file)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "enrichment test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_file.write_bytes(ca.public_bytes(pem))
    cert_file.write_bytes(leaf.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_file, cert_file, key_file


class TLSServer:
    """HTTPS on one loopback address: records the server name (SNI) of every handshake and
    the path and Host header of every request; every response closes its connection."""

    def __init__(self, address: str, cert_file: Path, key_file: Path) -> None:
        self.server_names: list[str | None] = []
        self.requests: list[tuple[str, str | None]] = []
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert_file, key_file)
        self.context.sni_callback = lambda _sock, name, _ctx: self.server_names.append(name)
        self.listener = socket.create_server((address, 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        try:
            with self.context.wrap_socket(connection, server_side=True) as tls:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = tls.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                request_line, *lines = data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
                headers = dict(line.split(":", 1) for line in lines)
                headers = {name.lower(): value.strip() for name, value in headers.items()}
                path = request_line.split()[1]
                self.requests.append((path, headers.get("host")))
                status, body = (
                    ("404 Not Found", b"")
                    if path == "/robots.txt"
                    else ("200 OK", HOME.format(name="Secure").encode())
                )
                tls.sendall(
                    f"HTTP/1.1 {status}\r\nContent-Type: text/html\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
        except (OSError, ssl.SSLError):
            return  # a handshake the client refused (wrong name): nothing to answer

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TLSServer, Path]]:
    ca_file, cert_file, key_file = _certificates(tmp_path_factory.mktemp("tls"), "secure.test")
    server = TLSServer(TLS_SITE, cert_file, key_file)
    yield server, ca_file
    server.close()


def test_https_keeps_the_name_for_sni_host_and_certificate(
    tls_server: tuple[TLSServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket goes to the checked address; the TLS server name, the certificate check
    and the Host header are for the site's name. A certificate for another name fails."""
    server, ca_file = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # the crawler's context trusts the test CA
    names = {"secure.test": TLS_SITE, "impostor.test": TLS_SITE}

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        text = host.decode() if isinstance(host, bytes) else host
        if text not in names:
            return _real_getaddrinfo(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[text], int(port or 0)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    secure, impostor = crawl_sites(
        [f"https://secure.test:{server.port}", f"https://impostor.test:{server.port}"], OPTIONS
    )
    assert secure.status == "ok", secure.reason
    assert set(server.requests) >= {("/", f"secure.test:{server.port}")}
    assert {host for _, host in server.requests} == {f"secure.test:{server.port}"}
    assert set(server.server_names) == {"secure.test", "impostor.test"}
    assert impostor.status == "failed"
    # Checked against the name, and said in plain words (not OpenSSL's), without retries.
    assert impostor.reason == "home page: TLS certificate not valid for host impostor.test"
