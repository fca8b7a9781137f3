from __future__ import annotations

import ipaddress

import pytest

from enrichment_pipelines.core.websites import (
    ALL_NETWORKS,
    WebsiteError,
    checked_addresses,
    normalise_website,
    parse_networks,
    private_host_problem,
)


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        ("example.com", "https://example.com"),
        ("  Example.COM/ ", "https://example.com"),
        ("http://example.com", "http://example.com"),
        ("https://www.example.com/en/", "https://www.example.com/en"),
        ("//example.com", "https://example.com"),
        ("example.com:8443", "https://example.com:8443"),
        ("https://example.com:443/", "https://example.com"),
        ("https://example.com/?utm=x#top", "https://example.com"),
        ("bücher.de", "https://xn--bcher-kva.de"),
    ],
)
def test_normalises_websites(raw: str, url: str) -> None:
    assert normalise_website(raw).url == url


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "no website"),
        ("   ", "no website"),
        ("javascript:alert(1)", "unsupported URL scheme 'javascript'"),
        ("ftp://files.example.com", "unsupported URL scheme 'ftp'"),
        ("mailto:sales@example.com", "unsupported URL scheme 'mailto'"),
        ("https://user:secret@example.com", "credentials"),
        ("exa mple.com", "contains spaces"),
        ("https://exa_mple-.com", "invalid host name"),
        # A numeric last label that is not an address is no host name either.
        ("http://1.2.3.4.5/", "invalid host name"),
        ("http://example.123/", "invalid host name"),
        ("http://0x7g.1/", "invalid host name"),
        ("http://09.1/", "invalid host name"),
        ("http://256.1.1.1/", "invalid host name"),
        ("https://example.com/" + "a" * 5000, "too long: 5020 characters, at most 2048"),
    ],
)
def test_refuses_websites_with_a_reason(raw: str | None, reason: str) -> None:
    with pytest.raises(WebsiteError, match=reason):
        normalise_website(raw)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("http://10.0.0.5", "10.0.0.5 is a private"),
        ("http://192.168.1.1/admin", "192.168.1.1 is a private"),
        ("http://127.0.0.1:8080", "127.0.0.1 is a private"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a private"),
        ("http://[::1]/", "::1 is a private"),
        ("localhost:3000", "localhost is a private host name"),
        ("metadata.google.internal", "metadata.google.internal is a private host name"),
        ("intranet", "intranet is not a public domain name"),
        # Shorthand IPv4 forms the resolver reads as addresses (all are 127.0.0.1).
        ("http://127.1/", "127.0.0.1 is a private"),
        ("http://2130706433/", "127.0.0.1 is a private"),
        ("http://0x7f.1/", "127.0.0.1 is a private"),
        ("http://0177.0.0.1/", "127.0.0.1 is a private"),
        ("http://0x7F000001/", "127.0.0.1 is a private"),
        ("http://127.0.0.1./", "127.0.0.1 is a private"),
        ("http://0xa9.254.169.254/latest", "169.254.169.254 is a private"),
    ],
)
def test_private_hosts_are_usable_addresses_named_with_the_setting_that_allows_them(
    raw: str, problem: str
) -> None:
    """A private address is a usable web address (the import keeps it); whether it may be
    fetched is the allow-list's say at fetch time, and the warning names that setting."""
    host = normalise_website(raw).host
    found = private_host_problem(host, ())
    assert found is not None and found.startswith(problem)
    assert found.endswith("set ENRICH_ALLOW_PRIVATE_NETWORKS to allow it")
    assert private_host_problem(host, ALL_NETWORKS) is None


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        ("http://0x7f.1:8080/", "http://127.0.0.1:8080"),
        ("http://2130706433/", "http://127.0.0.1"),
        ("0177.0.1.5", "https://127.0.1.5"),
        ("http://134744072/", "http://8.8.8.8"),
    ],
)
def test_shorthand_addresses_are_written_out(raw: str, url: str) -> None:
    assert normalise_website(raw).url == url


def test_urls_up_to_2048_characters_are_accepted() -> None:
    raw = "https://example.com/" + "p" * (2048 - len("https://example.com/"))
    assert normalise_website(raw).url == raw


def test_dns_resolution_to_loopback_is_refused_unless_allowed() -> None:
    with pytest.raises(WebsiteError, match="localhost resolves to private address"):
        checked_addresses("localhost", 80, allowed_networks=())
    assert checked_addresses("localhost", 80, allowed_networks=ALL_NETWORKS)


def test_checked_addresses_resolves_once_and_checks_every_address() -> None:
    lookups: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append((host, port))
        return {"one.test": ["127.0.1.5"], "two.test": ["127.0.1.5", "10.0.0.1"]}[host]

    allowed = parse_networks("127.0.1.0/24")
    addresses = checked_addresses("one.test", 80, allowed_networks=allowed, resolve=resolve)
    assert addresses == [ipaddress.ip_address("127.0.1.5")]
    with pytest.raises(
        WebsiteError, match=r"two\.test resolves to private address 10\.0\.0\.1; set ENRICH_ALLOW"
    ):
        checked_addresses("two.test", 80, allowed_networks=allowed, resolve=resolve)
    assert checked_addresses("127.0.1.9", 80, allowed_networks=allowed, resolve=resolve) == [
        ipaddress.ip_address("127.0.1.9")
    ]
    assert lookups == [("one.test", 80), ("two.test", 80)]  # an address is not looked up
