"""A local server that speaks the OpenAI chat completions API, for tests and the demo.

No real model can be reached from here, so this one answers like a careful model would: it
reads the page excerpts the extractor sent and answers from them with the offline rules (the
`answer` callable can be replaced, e.g. by a model that obeys instructions planted in a page).
It can refuse JSON schemas or JSON mode as some servers do, and `script` queues replies for
the next requests: 429s with Retry-After, 500s, slow replies, replies trickled a byte at a
time, silence, malformed or cut-off content. Every request it received is kept in `requests`;
`disconnects` counts the requests whose client hung up before the reply was complete.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from enrichment_pipelines.core.crawl import Page
from enrichment_pipelines.core.datapoints import DATA_POINT_KEYS
from enrichment_pipelines.core.extractors.llm import estimate_tokens
from enrichment_pipelines.core.extractors.rules import RulesExtractor
from enrichment_pipelines.demo.server import LoopbackServer

Answer = Callable[[dict[str, Any]], dict[str, Any]]  # request body -> reply JSON object


@dataclass
class LLMReply:
    """One scripted reply. `content` None means the server's own answer."""

    status: int = 200
    content: str | None = None
    error: str = "scripted error"
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0
    finish_reason: str = "stop"
    # Send the status and headers at once, then the body one byte every `trickle_seconds`.
    trickle_seconds: float = 0.0
    # Send nothing at all until the client hangs up (at most `silent_seconds`).
    silent_seconds: float = 0.0


def requested_keys(body: dict[str, Any]) -> list[str]:
    format_ = body.get("response_format") or {}
    schema = (format_.get("json_schema") or {}).get("schema") or {}
    return list(schema.get("properties") or DATA_POINT_KEYS)


def rules_answer(body: dict[str, Any]) -> dict[str, Any]:
    """Answer from the excerpts in the request with the offline rules: a stand-in model."""
    document = json.loads(body["messages"][-1]["content"])
    pages = [
        Page(
            url=entry["url"],
            fetched_at=datetime.now(UTC),
            final_url=entry["url"],
            title=entry.get("title") or None,
            meta={"description": entry["description"]} if entry.get("description") else {},
            text=entry.get("text", ""),
            kind=entry.get("kind", "home"),
        )
        for entry in document.get("pages", [])
    ]
    keys = requested_keys(body)
    # A model reads the whole excerpt whatever it is asked: its reading of one field (the
    # market, say) does not depend on being asked for another (the industry).
    found = RulesExtractor().extract(document.get("website", ""), pages, DATA_POINT_KEYS)
    reply: dict[str, Any] = {}
    for key in keys:
        evidence = found.evidence.get(key)
        reply[key] = {
            "value": found.data.get(key),
            "quote": evidence.quote if evidence else None,
            "url": evidence.url if evidence else None,
            "confidence": found.confidence.get(key, 0.0),
        }
    for key, value in document.get("known_facts", {}).items():
        if key in reply and reply[key]["value"] is None:
            reply[key]["value"] = value
    return reply


class LocalLLMServer(LoopbackServer):
    """An OpenAI-compatible endpoint on 127.0.0.1; `url` is its base URL (…/v1)."""

    def __init__(
        self,
        answer: Answer = rules_answer,
        *,
        json_schema: bool = True,
        json_mode: bool = True,
    ) -> None:
        self.answer = answer
        self.json_schema = json_schema
        self.json_mode = json_mode
        self.script: list[LLMReply] = []
        self.requests: list[dict[str, Any]] = []
        self.disconnects = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"].rstrip("/") != "/v1/chat/completions" or scope["method"] != "POST":
            await _send_json(send, 404, _error("not found", "invalid_request_error"))
            return
        try:
            body = json.loads(raw)
        except ValueError:
            await _send_json(send, 400, _error("request body is not JSON", "invalid_request_error"))
            return
        self.requests.append(body)
        reply = self.script.pop(0) if self.script else LLMReply()
        if reply.silent_seconds:
            if await _hung_up(receive, reply.silent_seconds):
                self.disconnects += 1
            return
        if reply.delay_seconds:
            await asyncio.sleep(reply.delay_seconds)
        if reply.status != 200:
            await _send_json(send, reply.status, _error(reply.error, "api_error"), reply.headers)
            return
        format_type = (body.get("response_format") or {}).get("type")
        if (format_type == "json_schema" and not self.json_schema) or (
            format_type == "json_object" and not self.json_mode
        ):
            message = f"response_format {format_type!r} is not supported by this model"
            error = _error(message, "invalid_request_error", param="response_format")
            await _send_json(send, 400, error)
            return
        content = reply.content
        if content is None:
            content = json.dumps(self.answer(body), ensure_ascii=False)
            if format_type is None:  # no JSON mode: answer as chatty models do
                content = f"Here are the facts I found:\n```json\n{content}\n```"
        prompt = "".join(str(m.get("content", "")) for m in body.get("messages", []))
        usage = {
            "prompt_tokens": estimate_tokens(prompt),
            "completion_tokens": estimate_tokens(content),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        completion = {
            "id": f"chatcmpl-local-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "local"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": usage,
        }
        if reply.trickle_seconds:
            if not await _trickle(send, receive, completion, reply.trickle_seconds):
                self.disconnects += 1
            return
        await _send_json(send, 200, completion)


async def _hung_up(receive: Any, seconds: float) -> bool:
    """Wait up to `seconds` for the client to hang up; whether it did."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(disconnected(), seconds)
    except TimeoutError:
        return False
    return True


async def _trickle(
    send: Any, receive: Any, document: dict[str, Any], interval_seconds: float
) -> bool:
    """Send `document` as JSON one byte every `interval_seconds`; False when the client hung
    up first."""
    body = json.dumps(document).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    for index in range(len(body)):
        await send({"type": "http.response.body", "body": body[index : index + 1],
                    "more_body": index < len(body) - 1})  # fmt: skip
        if index < len(body) - 1 and await _hung_up(receive, interval_seconds):
            return False
    return True


def _error(message: str, kind: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": None}}


async def _send_json(
    send: Any, status: int, document: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    body = json.dumps(document).encode()
    raw_headers = [(b"content-type", b"application/json")]
    raw_headers += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    raw_headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
