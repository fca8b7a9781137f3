"""A local server that speaks the part of ChartMogul's REST API the connector uses, for tests:
customers listed with cursor paging (and a data source filter), a customer's custom attributes
(GET, POST to add, PUT to update, DELETE to remove, typed and checked as ChartMogul does:
String at most 255 characters, a POST of an existing key or a PUT of a missing one refused with
422), and customer notes (POST, GET with paging). HTTP Basic auth with the API key as user name;
anything else is 401.

What goes wrong on purpose: `script` answers the next requests of a method with the statuses
queued for it (a 429 with `Retry-After`), before looking at them; `refuse` answers every write
about one customer with 422; `hang_after_write` applies that write (counted from 1) and then
never answers until `release()`, as a server whose answer was lost while the client was killed.
`writes` keeps every write it applied.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from enrichment_pipelines.demo.server import LoopbackServer

TYPES = {
    "String": (str,),
    "Integer": (int,),
    "Decimal": (int, float),
    "Boolean": (bool,),
    "Timestamp": (str,),
}


@dataclass
class Write:
    method: str
    customer_uuid: str
    body: Any


@dataclass
class FakeChartMogul(LoopbackServer):
    api_key: str = "cm-test-key"
    customers: list[dict[str, Any]] = field(default_factory=list)
    attributes: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # uuid -> key
    notes: list[dict[str, Any]] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=dict)  # method -> statuses to answer
    retry_after: str = "1"
    refuse: dict[str, str] = field(default_factory=dict)  # customer uuid -> 422 message
    hang_after_write: int | None = None
    page_size_cap: int = 200
    requests: list[tuple[str, str]] = field(default_factory=list)
    _released: threading.Event = field(default_factory=threading.Event)
    _note_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def release(self) -> None:
        self._released.set()

    def add_customer(self, uuid: str, **fields: Any) -> None:
        self.customers.append({"uuid": uuid, "id": len(self.customers) + 1, **fields})

    def writes_to(self, uuid: str) -> list[Write]:
        return [write for write in self.writes if write.customer_uuid == uuid]

    def notes_of(self, uuid: str) -> list[dict[str, Any]]:
        return [note for note in self.notes if note["customer_uuid"] == uuid]

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        refusal = self._refusal(scope) if scope["type"] == "http" else None
        await (refusal or self._routes)(scope, receive, send)

    def __post_init__(self) -> None:
        self._routes = Starlette(
            routes=[
                Route("/v1/customers", self._list_customers, methods=["GET"]),
                Route("/v1/customers/{uuid}/attributes", self._get_attributes, methods=["GET"]),
                Route(
                    "/v1/customers/{uuid}/attributes/custom",
                    self._custom_attributes,
                    methods=["POST", "PUT", "DELETE"],
                ),
                Route("/v1/customer_notes", self._list_notes, methods=["GET"]),
                Route("/v1/customer_notes", self._add_note, methods=["POST"]),
            ]
        )

    def _refusal(self, scope: dict[str, Any]) -> Response | None:
        """401 without the key; a scripted status still to answer."""
        method = scope["method"]
        self.requests.append((method, scope["path"]))
        headers = dict(scope["headers"])
        expected = base64.b64encode(f"{self.api_key}:".encode()).decode()
        if headers.get(b"authorization", b"").decode() != f"Basic {expected}":
            return JSONResponse({"code": 401, "message": "No valid API key provided"}, 401)
        if self.script.get(method):
            status = self.script[method].pop(0)
            if status == 429:
                message = "Your request rate has exceeded our rate limit."
                headers = {"Retry-After": self.retry_after}
                return JSONResponse({"code": 429, "message": message}, 429, headers=headers)
            return JSONResponse({"code": status, "message": "scripted failure"}, status)
        return None

    # Customers --------------------------------------------------------------------------------

    async def _list_customers(self, request: Request) -> Response:
        source = request.query_params.get("data_source_uuid")
        listed = [c for c in self.customers if source in (None, c.get("data_source_uuid"))]
        return self._page(request, listed, default_size=50)

    def _page(self, request: Request, entries: list[Any], default_size: int) -> Response:
        """One page of `entries`: the cursor is the offset, as text."""
        per_page = min(int(request.query_params.get("per_page", default_size)), self.page_size_cap)
        start = int(request.query_params.get("cursor") or 0)
        more = start + per_page < len(entries)
        return JSONResponse(
            {
                "entries": entries[start : start + per_page],
                "has_more": more,
                "cursor": str(start + per_page) if more else None,
            }
        )

    def _customer(self, uuid: str) -> bool:
        return any(customer["uuid"] == uuid for customer in self.customers)

    # Attributes -------------------------------------------------------------------------------

    async def _get_attributes(self, request: Request) -> Response:
        uuid = request.path_params["uuid"]
        if not self._customer(uuid):
            return JSONResponse({"error": "Customer not found"}, 404)
        custom = {key: item["value"] for key, item in self.attributes.get(uuid, {}).items()}
        return JSONResponse({"tags": [], "stripe": {}, "clearbit": {}, "custom": custom})

    async def _custom_attributes(self, request: Request) -> Response:
        uuid = request.path_params["uuid"]
        if not self._customer(uuid):
            return JSONResponse({"error": "Customer not found"}, 404)
        if uuid in self.refuse:
            return JSONResponse({"errors": {"custom": self.refuse[uuid]}}, 422)
        body = json.loads(await request.body())
        held = self.attributes.setdefault(uuid, {})
        if request.method == "POST":
            for item in body["custom"]:
                problem = _invalid(item)
                if problem:
                    return JSONResponse({"errors": {item.get("key", "key"): problem}}, 422)
                if item["key"] in held:
                    return JSONResponse({"errors": {item["key"]: "has already been taken"}}, 422)
            for item in body["custom"]:
                held[item["key"]] = {"type": item["type"], "value": item["value"]}
        elif request.method == "PUT":
            for key, value in body["custom"].items():
                if key not in held:
                    message = "Attribute must first be created using the POST call."
                    return JSONResponse({"errors": {key: message}}, 422)
                problem = _invalid({"type": held[key]["type"], "key": key, "value": value})
                if problem:
                    return JSONResponse({"errors": {key: problem}}, 422)
            for key, value in body["custom"].items():
                held[key]["value"] = value
        else:
            for key in body["custom"]:
                held.pop(key, None)
        return await self._written(request.method, uuid, body, {"custom": {
            key: item["value"] for key, item in held.items()}})  # fmt: skip

    # Notes ------------------------------------------------------------------------------------

    async def _list_notes(self, request: Request) -> Response:
        uuid = request.query_params.get("customer_uuid")
        return self._page(request, self.notes_of(uuid or ""), default_size=20)

    async def _add_note(self, request: Request) -> Response:
        body = json.loads(await request.body())
        uuid = body.get("customer_uuid", "")
        if not self._customer(uuid):
            return JSONResponse({"error": "Customer not found"}, 404)
        if uuid in self.refuse:
            return JSONResponse({"errors": {"text": self.refuse[uuid]}}, 422)
        note = {
            "uuid": f"note_{next(self._note_ids)}",
            "customer_uuid": uuid,
            "type": body.get("type"),
            "text": body.get("text"),
        }
        self.notes.append(note)
        return await self._written("POST", uuid, body, note, status=201)

    async def _written(
        self, method: str, uuid: str, body: Any, answer: dict[str, Any], status: int = 200
    ) -> Response:
        self.writes.append(Write(method, uuid, body))
        if len(self.writes) == self.hang_after_write:
            while not self._released.is_set():  # applied, and the answer never comes
                await asyncio.sleep(0.05)
        return JSONResponse(answer, status)


def _invalid(item: dict[str, Any]) -> str | None:
    kind, value = item.get("type"), item.get("value")
    if kind not in TYPES:
        return f"unknown type {kind!r}"
    if value is not None and (
        not isinstance(value, TYPES[kind]) or (kind != "Boolean" and isinstance(value, bool))
    ):
        return f"is not a valid {kind}"
    if kind == "String" and isinstance(value, str) and len(value) > 255:
        return "is too long (maximum is 255 characters)"
    return None
