"""Website normalisation and the SSRF guard.

`example.com` becomes `https://example.com`; anything that is not a plain web address on the
public internet is refused with a reason a person can act on. Private, loopback, link-local and
metadata addresses are refused unless private networks are explicitly allowed (local sites,
tests: `ENRICH_ALLOW_PRIVATE_NETWORKS=1`, or a list of CIDR ranges to allow only those).

Whether an address is allowed depends on configuration at the time of the fetch, not at the
import: `normalise_website` only reads the address, `private_host_problem` tells the import
what to warn about, and `checked_addresses` is what refuses, when the crawler connects.

Hosts are read the way the system resolver reads them, so that what the import accepts is what
the crawler would connect to: shorthand IPv4 forms (`127.1`, `2130706433`, `0x7f.1`,
`0177.0.0.1`) are written out as the address they stand for and checked as such.
`checked_addresses` is the guard at fetch time: it resolves a name once and returns the
addresses it checked, which are the only ones the crawler connects to.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from enrichment_pipelines.core.config import CrawlConfig, env_var
from enrichment_pipelines.core.errors import EnrichError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses it resolves to; blocking (the crawler calls it from a thread).
Resolver = Callable[[str, int], Sequence[str]]
MAX_URL_LENGTH = 2048  # what browsers and most servers accept; longer is not a home page
ALL_NETWORKS: tuple[Network, ...] = (
    ipaddress.ip_network("0.0.0.0/0"),
    ipaddress.ip_network("::/0"),
)

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):(.*)$", re.DOTALL)
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9\-_]{1,63}(?<!-)$")
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa")
# An IPv4 part as inet_aton and browsers read it: decimal, octal (leading 0) or hex (0x).
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")
# Every refusal of a private address says what would allow it.
_ALLOW_HINT = f"set {env_var(CrawlConfig, 'allowed_private_networks')} to allow it"


class WebsiteError(EnrichError, ValueError):
    """A website that cannot be enriched; the message is the reason shown on the record."""


@dataclass(frozen=True)
class Website:
    url: str
    host: str

    @property
    def domain(self) -> str:
        """The host without a leading `www.`: what "the same company site" means."""
        return self.host.removeprefix("www.")


def parse_networks(spec: str) -> tuple[Network, ...]:
    """`ENRICH_ALLOW_PRIVATE_NETWORKS`: "1" allows every address, "" or "0" none, and a comma
    separated list of CIDR ranges (e.g. "10.20.0.0/16,127.0.1.0/24") allows just those."""
    text = spec.strip().lower()
    if text in ("", "0", "false", "no"):
        return ()
    if text in ("1", "true", "yes"):
        return ALL_NETWORKS
    networks = []
    for part in text.split(","):
        try:
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError as error:
            raise WebsiteError(
                f"ENRICH_ALLOW_PRIVATE_NETWORKS: {part.strip()!r} is not 1, 0 or a CIDR range"
            ) from error
    return tuple(networks)


def is_public_address(address: Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not address.is_multicast


def is_allowed_address(address: Address, allowed: Sequence[Network]) -> bool:
    """Public, or inside one of the explicitly allowed networks."""
    return is_public_address(address) or any(
        address.version == network.version and address in network for network in allowed
    )


def normalise_website(raw: str | None) -> Website:
    """Return the canonical URL of a customer's website or raise `WebsiteError` with the reason
    it is not a usable web address. A private address is usable here: whether it may be
    fetched is decided at fetch time (`checked_addresses`)."""
    text = (raw or "").strip()
    if not text:
        raise WebsiteError("no website")
    if len(text) > MAX_URL_LENGTH:
        raise WebsiteError(_too_long(text))
    if any(ch.isspace() for ch in text):
        raise WebsiteError(f"website {text!r} contains spaces")
    if text.startswith("//"):
        text = "https:" + text
    scheme_match = _SCHEME.match(text)
    # "example.com:8080" parses like a scheme; a scheme is only a scheme if what follows is
    # not a bare port number.
    if scheme_match and not re.fullmatch(r"\d+(/.*)?", scheme_match.group(2)):
        scheme = scheme_match.group(1).lower()
        if scheme not in ("http", "https"):
            raise WebsiteError(f"unsupported URL scheme {scheme!r} (only http and https)")
    else:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.username or parts.password:
        raise WebsiteError("website URL must not contain credentials")
    try:
        port = parts.port
    except ValueError as error:
        raise WebsiteError(f"website {raw!r} has an invalid port") from error
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebsiteError(f"website {raw!r} has no host name")
    host = _canonical_host(host, raw or "")
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None and (parts.scheme, port) not in (("http", 80), ("https", 443)):
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/")
    url = urlunsplit((parts.scheme.lower(), netloc, path, "", ""))
    if len(url) > MAX_URL_LENGTH:  # IDNA can lengthen a host
        raise WebsiteError(_too_long(url))
    return Website(url=url, host=host)


def _too_long(url: str) -> str:
    return f"website URL is too long: {len(url)} characters, at most {MAX_URL_LENGTH}"


def _canonical_host(host: str, raw: str) -> str:
    host = host.lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        # No top-level domain is a number: the resolver reads this as an IPv4 address.
        address = _shorthand_ipv4(host)
        if address is None:
            raise WebsiteError(f"website {raw!r} has an invalid host name")
        return str(address)
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise WebsiteError(f"website {raw!r} has an invalid host name") from error
    if not all(_HOST_LABEL.match(label) for label in ascii_host.split(".")):
        raise WebsiteError(f"website {raw!r} has an invalid host name")
    return ascii_host


def _shorthand_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """`host` read as inet_aton(3) and the WHATWG URL standard read IPv4: one to four parts,
    each decimal, octal (leading 0) or hex (0x); the last fills the remaining bytes. None
    when it is not such an address."""
    parts = host.split(".")
    if len(parts) > 4 or not all(_NUMERIC_LABEL.match(part) for part in parts):
        return None
    numbers = []
    for part in parts:
        if part.startswith("0x"):
            numbers.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if not set(part) <= set("01234567"):
                return None
            numbers.append(int(part, 8))
        else:
            numbers.append(int(part))
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def private_host_problem(host: str, allowed: Sequence[Network]) -> str | None:
    """Why fetching `host` would be refused, read from the name alone (no DNS look-up), or
    None. The import warns with it; the crawler refuses at fetch time, after resolving."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if allowed:
            return None  # a private name may resolve into an allowed network
        if host == "localhost" or host.endswith(_PRIVATE_SUFFIXES):
            return f"{host} is a private host name; {_ALLOW_HINT}"
        if "." not in host:
            return f"{host} is not a public domain name; {_ALLOW_HINT}"
        return None
    if is_allowed_address(address, allowed):
        return None
    return f"{host} is a private, loopback or link-local address; {_ALLOW_HINT}"


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for `host`, in its order of preference."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise WebsiteError(f"DNS lookup failed for {host}") from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_addresses(
    host: str,
    port: int,
    *,
    allowed_networks: Sequence[Network],
    resolve: Resolver = resolve_host,
) -> list[Address]:
    """Resolve `host` once and return its addresses, refusing it (`WebsiteError`) when any of
    them is not public or allowed. An address literal is checked without a look-up.

    The crawler connects only to the addresses returned here, so a name that answers
    differently to a second look-up (DNS rebinding) cannot lead it anywhere unchecked.
    """
    try:
        addresses: list[Address] = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(address) for address in resolve(host, port)]
        except ValueError as error:
            raise WebsiteError(f"DNS lookup failed for {host}: {error}") from error
    if not addresses:
        raise WebsiteError(f"DNS lookup failed for {host}")
    for address in addresses:
        if not is_allowed_address(address, allowed_networks):
            if str(address) == host:
                raise WebsiteError(f"{host} is a private address; {_ALLOW_HINT}")
            raise WebsiteError(f"{host} resolves to private address {address}; {_ALLOW_HINT}")
    return addresses
