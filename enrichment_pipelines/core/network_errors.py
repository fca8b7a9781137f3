"""Transport failures in words a user reads in an outcome table: "connection refused", "TLS
certificate not valid for host", not the library text ("[SSL: CERTIFICATE_VERIFY_FAILED]
certificate verify failed: ...", "All connection attempts failed").

httpx wraps httpcore's error, which wraps anyio's, which wraps the socket's `OSError` (for a
connection, inside an exception group): the cause is read by walking that chain.
"""

from __future__ import annotations

import errno
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

# OpenSSL's X509_V_ERR_* codes (`ssl.SSLCertVerificationError.verify_code`) a user can act on.
_CERTIFICATE_PROBLEMS = {
    10: "TLS certificate expired",
    9: "TLS certificate not yet valid",
    18: "TLS certificate is self-signed",
    19: "TLS certificate chain ends in an untrusted (self-signed) root",
    20: "TLS certificate issued by an unknown authority",
    21: "TLS certificate issued by an unknown authority",
    23: "TLS certificate revoked",
    62: "TLS certificate not valid for host {host}",
    64: "TLS certificate not valid for host {host}",
}
_ERRNO_REASONS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset by the server",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "connection timed out",
    errno.EPIPE: "connection closed by the server",
}


@dataclass(frozen=True)
class TransportFailure:
    """Why a request got no answer, and whether trying again may help (a refused connection
    may be a restart; a certificate for the wrong host will not fix itself)."""

    reason: str
    transient: bool


def transport_failure(error: httpx.TransportError, host: str) -> TransportFailure:
    """The plain reason of a transport error raised by httpx on a request to `host`."""
    for cause in _causes(error):
        if isinstance(cause, ssl.SSLCertVerificationError):
            problem = _CERTIFICATE_PROBLEMS.get(cause.verify_code)
            if problem is None:
                return TransportFailure(f"TLS certificate not valid ({_plain(cause)})", False)
            return TransportFailure(problem.format(host=host), False)
        if isinstance(cause, ssl.SSLError):
            return TransportFailure(f"TLS handshake failed ({_plain(cause)})", False)
        if isinstance(cause, OSError) and cause.errno in _ERRNO_REASONS:
            return TransportFailure(_ERRNO_REASONS[cause.errno], True)
    if isinstance(error, httpx.RemoteProtocolError):
        return TransportFailure("the server closed the connection or answered malformed HTTP", True)
    if isinstance(error, httpx.ConnectError):
        return TransportFailure("could not connect", True)
    return TransportFailure(f"connection failed ({type(error).__name__})", True)


def _causes(error: BaseException) -> Iterator[BaseException]:
    """`error`, its causes and contexts, and the members of exception groups among them."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def _plain(error: ssl.SSLError) -> str:
    """OpenSSL's own words without the bracketed library prefix."""
    text = getattr(error, "verify_message", None) or error.reason or str(error)
    return str(text).replace("_", " ").lower()
