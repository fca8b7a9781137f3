"""The part of ChartMogul's REST API (https://dev.chartmogul.com) the connector uses, over
httpx: customers listed page by page, a customer's custom attributes added, updated, removed
and read, and customer notes written and listed.

Why not the official `chartmogul` package: it has no supported way to set the API address (the
tests need a local server), its retries are mounted for https only and retry every method, POST
included (a note could be written twice), and errors come back as raw bytes.

- HTTP Basic auth with the API key as user name; the key is never logged or put in a message.
- At most `requests_per_second` requests start per second (ChartMogul allows 40).
- 429 and 5xx are retried, waiting as `Retry-After` says or with exponential backoff. A request
  that may have been carried out (a 5xx other than 503, or a time-out, on a POST) is not sent
  again blindly: `ChartMogulUnsure` tells the caller to read the state back first.
- 401/403: `ChartMogulAuthError` (nothing else can work); any other 4xx: `ChartMogulRecordError`,
  the error of the one record it was about.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from enrichment_pipelines.core.config import ChartMogulConfig, env_var
from enrichment_pipelines.core.errors import EnrichError
from enrichment_pipelines.core.network_errors import transport_failure
from enrichment_pipelines.core.retry import backoff_seconds, retry_after_seconds

USER_AGENT = "enrichment-pipelines/0.1 (ChartMogul connector)"
PAGE_SIZE = 200  # customers per page, ChartMogul's largest
_BACKOFF_SECONDS = 0.5
_MAX_RETRY_AFTER_SECONDS = 120.0
# Statuses after which a request certainly was not carried out: another attempt is safe.
_NOT_DONE = frozenset({429, 503})
_RETRIED = frozenset({429, 500, 502, 503, 504})


class ChartMogulError(EnrichError):
    """A request ChartMogul did not carry out; the message says what it answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ChartMogulAuthError(ChartMogulError):
    """The API key is missing or refused: no request can succeed."""


class ChartMogulRecordError(ChartMogulError):
    """A 4xx about one record (say a 422 for a value ChartMogul refuses): that record's error."""


class ChartMogulUnavailable(ChartMogulError):
    """Still failing (429, 5xx, network) after the retries."""


class ChartMogulUnsure(ChartMogulUnavailable):
    """A write that may or may not have been carried out: read the state back before sending
    it again."""


class ChartMogulClient:
    """A ChartMogul API session; use as a context manager (or `close()` it)."""

    def __init__(
        self,
        config: ChartMogulConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not config.api_key:
            raise ChartMogulAuthError(
                f"no ChartMogul API key: set {env_var(ChartMogulConfig, 'api_key')} (ChartMogul: "
                "Profile > API keys)"
            )
        self.config = config
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=config.api_base.rstrip("/"),
            auth=httpx.BasicAuth(config.api_key, ""),
            timeout=config.timeout_seconds,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        self._pace = threading.Lock()
        self._next_start = 0.0
        self.requests = 0  # sent, retries included

    def __enter__(self) -> ChartMogulClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # Customers --------------------------------------------------------------------------------

    def customers(self, data_source_uuid: str | None = None) -> Iterator[dict[str, Any]]:
        """Every customer (of one data source, if given), following the cursor page by page."""
        filters = {"data_source_uuid": data_source_uuid} if data_source_uuid else {}
        return self._entries("/v1/customers", filters)

    # Custom attributes ------------------------------------------------------------------------

    def custom_attributes(self, customer_uuid: str) -> dict[str, Any]:
        """The customer's custom attributes by key."""
        answer = self._request("GET", f"/v1/customers/{customer_uuid}/attributes")
        return dict(answer.get("custom") or {})

    def add_custom_attributes(self, customer_uuid: str, attributes: list[dict[str, Any]]) -> None:
        """Add attributes the customer does not have: `{"type", "key", "value", "source"}`."""
        self._request(
            "POST", f"/v1/customers/{customer_uuid}/attributes/custom", body={"custom": attributes}
        )

    def update_custom_attributes(self, customer_uuid: str, values: dict[str, Any]) -> None:
        """Set the values of attributes the customer has."""
        self._request(
            "PUT", f"/v1/customers/{customer_uuid}/attributes/custom", body={"custom": values}
        )

    def remove_custom_attributes(self, customer_uuid: str, keys: list[str]) -> None:
        self._request(
            "DELETE", f"/v1/customers/{customer_uuid}/attributes/custom", body={"custom": keys}
        )

    # Notes ------------------------------------------------------------------------------------

    def notes(self, customer_uuid: str) -> Iterator[dict[str, Any]]:
        return self._entries("/v1/customer_notes", {"customer_uuid": customer_uuid})

    def add_note(self, customer_uuid: str, text: str) -> None:
        self._request(
            "POST",
            "/v1/customer_notes",
            body={"customer_uuid": customer_uuid, "type": "note", "text": text},
        )

    def _entries(self, path: str, filters: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Every entry of a listing, page by page, following `cursor` while `has_more`."""
        params: dict[str, Any] = {**filters, "per_page": PAGE_SIZE}
        while True:
            page = self._request("GET", path, params=params)
            yield from page.get("entries") or []
            if not page.get("has_more") or not page.get("cursor"):
                return
            params["cursor"] = page["cursor"]

    # The one way requests are sent ------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: object | None = None,
    ) -> dict[str, Any]:
        content = None if body is None else json.dumps(body)
        headers = {} if body is None else {"Content-Type": "application/json"}
        where = f"{method} {path}"
        for attempt in range(1, self.config.max_retries + 2):
            last = attempt > self.config.max_retries
            self._wait_turn()
            self.requests += 1
            try:
                response = self._http.request(
                    method, path, params=params, content=content, headers=headers
                )
            except httpx.TransportError as error:
                reason = transport_failure(error, self._http.base_url.host).reason
                if method == "POST":  # it may have arrived: the caller reads back first
                    raise ChartMogulUnsure(f"{where}: {reason}") from error
                if last:
                    raise ChartMogulUnavailable(f"{where}: {reason}") from error
                self._sleep(backoff_seconds(attempt, _BACKOFF_SECONDS))
                continue
            status = response.status_code
            if status < 400:
                return _json_object(response)
            message = f"{where}: HTTP {status}: {_error_message(response)}"
            if status in (401, 403):
                raise ChartMogulAuthError(message, status)
            if status not in _RETRIED:
                raise ChartMogulRecordError(message, status)
            if method == "POST" and status not in _NOT_DONE:
                raise ChartMogulUnsure(message, status)
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            if last or (retry_after or 0) > _MAX_RETRY_AFTER_SECONDS:
                raise ChartMogulUnavailable(message, status)
            self._sleep(backoff_seconds(attempt, _BACKOFF_SECONDS, retry_after))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait_turn(self) -> None:
        """Keep to `requests_per_second` (a client-side limit: ChartMogul answers 429 past 40)."""
        interval = 1.0 / self.config.requests_per_second if self.config.requests_per_second else 0
        with self._pace:
            now = time.monotonic()
            start = max(now, self._next_start)
            self._next_start = start + interval
        if start > now:
            self._sleep(start - now)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        document = response.json()
    except ValueError as error:
        raise ChartMogulError(
            f"{response.request.method} {response.request.url.path}: the answer is not JSON"
        ) from error
    return document if isinstance(document, dict) else {"entries": document}


def _error_message(response: httpx.Response) -> str:
    """What ChartMogul said, from any of its error shapes: `{"errors": {field: text}}`,
    `{"error": text}`, `{"message": text}`."""
    try:
        document = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(document, dict):
        errors = document.get("errors")
        if isinstance(errors, dict) and errors:
            return "; ".join(f"{field}: {text}" for field, text in errors.items())
        for key in ("error", "message"):
            if document.get(key):
                return str(document[key])
    return json.dumps(document)[:200]
