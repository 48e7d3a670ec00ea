"""Minimal HTTP plumbing for the sandbox: routing, requests, responses, a threaded server.

Kept on the standard library so the sandbox has no web framework between the wire and the formats it must
reproduce byte for byte (status codes, header names, trailing slashes, streamed CSV).
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.server.clock import SandboxClock


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # named groups of the matched route

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        """All values of a repeated query key, also splitting comma lists (the real APIs accept both)."""
        out: list[str] = []
        for value in self.query.get(name, []):
            out.extend(part for part in value.split(",") if part)
        return out


@dataclass
class Response:
    status: int
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    truncate: bool = False  # fault injection: declare the full length, send half, drop the connection


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return Response(status, body, {"Content-Type": "application/json;charset=UTF-8", **(headers or {})})


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    name: str
    handler: Handler


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, pattern: str, name: str, handler: Handler) -> None:
        self._routes.append(Route(method.upper(), re.compile(pattern + r"\Z"), name, handler))

    def route(self, method: str, pattern: str, name: str) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.add(method, pattern, name, fn)
            return fn

        return deco

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, params, path_known): path_known tells 405 from 404."""
        path_known = False
        for route in self._routes:
            m = route.pattern.match(path)
            if m:
                path_known = True
                if route.method == method:
                    return route, m.groupdict(), True
        return None, {}, path_known


@dataclass(frozen=True)
class RequestRecord:
    """One served request, for tests and benchmarks that assert on what a client actually sent."""

    at: float  # sandbox clock, epoch seconds
    server: str
    method: str
    path: str
    target: str
    route: str
    status: int
    headers: dict[str, str]


class RequestLog:
    def __init__(self, max_records: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._counts: dict[str, int] = {}
        self._max = max_records

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            key = f"{record.server}:{record.route}"
            self._counts[key] = self._counts.get(key, 0) + 1
            if len(self._records) < self._max:
                self._records.append(record)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def records(self, server: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self._records if server is None or r.server == server]

    def reset(self) -> None:
        with self._lock:
            self._records.clear()
            self._counts.clear()


Middleware = Callable[[Request, Route, Handler], Response]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return  # the request log replaces stderr chatter

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header tells the sandbox clock, as a real org's tells its own: clients bound windows by it."""
        return format_datetime(self.server.clock.now(), usegmt=True)

    def _dispatch(self) -> None:
        srv = self.server
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        if len(self.path) > srv.max_target_length:
            response = Response(414, b"<h1>414 Request-URI Too Large</h1>", {"Content-Type": "text/html"})
            route_name = "uri_too_long"
        else:
            route, params, known = srv.router.match(self.command, split.path)
            if route is None:
                response = srv.not_found(request, known)
                route_name = "unmatched"
            else:
                request.params = params
                route_name = route.name
                try:
                    response = (
                        srv.middleware(request, route, route.handler) if srv.middleware else route.handler(request)
                    )
                except Exception as exc:  # a sandbox bug must surface as a 500, not a dead socket
                    response = srv.internal_error(request, exc)
        srv.log.add(
            RequestRecord(
                at=srv.clock.now().timestamp(),
                server=srv.label,
                method=self.command,
                path=split.path,
                target=self.path,
                route=route_name,
                status=response.status,
                headers=dict(response.headers),
            )
        )
        # Logged before the reply goes out: a client that has its answer can always find it in the log.
        self._send(response)

    def _send(self, response: Response) -> None:
        headers = dict(response.headers)
        body = response.body
        if isinstance(body, (bytes, bytearray)):
            payload = bytes(body)
            self.send_response(response.status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            if response.truncate:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command == "HEAD":
                return
            if response.truncate:
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(payload)
            return
        # Streamed body: chunked transfer so large CSV pages never sit whole in memory.
        self.send_response(response.status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in body:
            if chunk:
                self.wfile.write(f"{len(chunk):X}\r\n".encode() + chunk + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _dispatch


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        label: str,
        address: tuple[str, int],
        router: Router,
        clock: SandboxClock,
        log: RequestLog,
        *,
        not_found: Callable[[Request, bool], Response],
        internal_error: Callable[[Request, Exception], Response],
        middleware: Middleware | None = None,
        max_target_length: int = 16_384,
    ) -> None:
        self.label = label
        self.router = router
        self.clock = clock
        self.log = log
        self.not_found = not_found
        self.internal_error = internal_error
        self.middleware = middleware
        self.max_target_length = max_target_length
        super().__init__(address, _Handler)

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sandbox-{self.label}", daemon=True
        )
        thread.start()
        return thread


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def iter_lines(lines: Iterator[str], chunk_bytes: int = 256 * 1024) -> Iterator[bytes]:
    """Group text lines into byte chunks of roughly ``chunk_bytes`` for a streamed response."""
    buf: list[str] = []
    size = 0
    for line in lines:
        buf.append(line)
        size += len(line)
        if size >= chunk_bytes:
            yield "".join(buf).encode("utf-8")
            buf, size = [], 0
    if buf:
        yield "".join(buf).encode("utf-8")
