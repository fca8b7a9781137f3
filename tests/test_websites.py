from __future__ import annotations

import pytest

from enrichment_pipelines.core.websites import (
    ALL_NETWORKS,
    WebsiteError,
    normalise_website,
    refuse_private_resolution,
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
        ("http://10.0.0.5", "private"),
        ("http://192.168.1.1/admin", "private"),
        ("http://127.0.0.1:8080", "private"),
        ("http://169.254.169.254/latest/meta-data", "private"),
        ("http://[::1]/", "private"),
        ("localhost:3000", "private host name"),
        ("metadata.google.internal", "private host name"),
        ("intranet", "not a public domain name"),
        ("https://user:secret@example.com", "credentials"),
        ("exa mple.com", "contains spaces"),
        ("https://exa_mple-.com", "invalid host name"),
    ],
)
def test_refuses_websites_with_a_reason(raw: str | None, reason: str) -> None:
    with pytest.raises(WebsiteError, match=reason):
        normalise_website(raw)


def test_private_addresses_allowed_when_asked() -> None:
    assert (
        normalise_website("127.0.1.5:8080", allowed_networks=ALL_NETWORKS).url
        == "https://127.0.1.5:8080"
    )


def test_dns_resolution_to_loopback_is_refused() -> None:
    with pytest.raises(WebsiteError, match="non-public address"):
        refuse_private_resolution("localhost", 80, allowed_networks=())
    refuse_private_resolution("localhost", 80, allowed_networks=ALL_NETWORKS)
