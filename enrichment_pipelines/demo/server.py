"""A real HTTP server on loopback that serves many websites, each at its own address.

All of 127.0.0.0/8 is loopback on Linux, so site N lives at 127.0.1.N (then 127.0.2.N, ...):
politeness is per host, and each site looks like its own host to the crawler. One uvicorn
server listens on one port at every site address (a socket bound to 127.0.0.1 only answers
127.0.0.1), and picks the site from the local address a request arrived on.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import uvicorn

from enrichment_pipelines.demo.sites import Response


@dataclass(frozen=True)
class Request:
    address: str
    path: str
    headers: Mapping[str, str]  # lower-case names


# A page is a fixed response, or a function of the request (for 304s, 429-then-OK, ...).
Handler = Response | Callable[[Request], Response]
SiteMap = Mapping[str, Mapping[str, Handler]]  # address -> path -> handler
_NOT_FOUND = Response(404, b"<h1>Not Found</h1>")
_CHUNK = 64 * 1024


def site_address(index: int) -> str:
    """The loopback address of site `index` (0-based): 127.0.1.1, 127.0.1.2, ..."""
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


class LoopbackServer:
    """An ASGI app served by uvicorn from a daemon thread, on one free port of 127.0.0.1 (a
    subclass may bind other sockets).

    Use as a context manager or call start()/stop()."""

    port = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise NotImplementedError

    def _bind(self) -> list[socket.socket]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        return [sock]

    def start(self) -> Self:
        sockets = self._bind()
        config = uvicorn.Config(
            self._app,
            interface="asgi3",
            log_level="error",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=5,
            # A site's own headers only: "server: uvicorn" on every local site would read as
            # every company running Uvicorn.
            server_header=False,
            date_header=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": sockets}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the local {type(self).__name__} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class SiteServer(LoopbackServer):
    """Serve `sites` on loopback, each site at its own address, all on one port."""

    def __init__(self, sites: SiteMap, extra_addresses: tuple[str, ...] = ()) -> None:
        self.sites = sites
        self.addresses = tuple(dict.fromkeys([*sites, *extra_addresses]))

    def url(self, address: str, path: str = "") -> str:
        return f"http://{address}:{self.port}{path}"

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        host = scope["server"][0] if scope.get("server") else ""
        handler = self.sites.get(host, {}).get(scope["path"], _NOT_FOUND)
        if not isinstance(handler, Response):
            headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
            handler = handler(Request(host, scope["path"], headers))
        response = handler
        if response.delay_seconds:
            await asyncio.sleep(response.delay_seconds)
        headers = [(b"content-type", response.content_type.encode())]
        headers += [(k.encode(), v.encode()) for k, v in response.headers]
        if not response.chunked:
            headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if not response.chunked:
            await send({"type": "http.response.body", "body": response.body})
            return
        for start in range(0, len(response.body), _CHUNK):
            chunk = response.body[start : start + _CHUNK]
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    def _bind(self) -> list[socket.socket]:
        for _attempt in range(10):
            sockets: list[socket.socket] = []
            try:
                port = 0
                for address in self.addresses:
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    sockets.append(sock)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    sock.bind((address, port))
                    port = sock.getsockname()[1]
                    sock.listen(512)
                    sock.setblocking(False)
                self.port = port
                return sockets
            except OSError:
                for sock in sockets:
                    sock.close()
        raise RuntimeError("could not find a port free on every site address")
