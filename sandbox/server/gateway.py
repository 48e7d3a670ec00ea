"""The CRMs' public hostnames, answered by the sandbox: an HTTP ``CONNECT`` proxy for connectors that cannot be
pointed at another host.

Other people's connectors (tap-hubspot, airbyte-source-hubspot, tap-salesforce) hard-code
``https://api.hubapi.com`` and ``https://login.salesforce.com``. They all speak through ``requests``, which honours
``HTTPS_PROXY``: with this gateway as the proxy, a peer runs unmodified and its requests reach the sandbox. The
sandbox's certificate also names these hosts, so TLS is verified end to end against the sandbox CA.

- Salesforce hosts are tunnelled as raw bytes to the sandbox's HTTPS port (its certificate covers them).
- ``api.hubapi.com`` is TLS-terminated here and relayed as plain HTTP to the sandbox's HubSpot port.
- Any other host is refused with 403: nothing run against the sandbox may reach the internet by accident.
"""

from __future__ import annotations

import select
import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass

SALESFORCE_HOSTS = ("login.salesforce.com", "test.salesforce.com")
HUBSPOT_HOSTS = ("api.hubapi.com",)
PUBLIC_HOSTS = (*SALESFORCE_HOSTS, *HUBSPOT_HOSTS)
_MAX_HEADER = 16_384
_IDLE_SECONDS = 300.0


@dataclass(frozen=True)
class Upstream:
    address: tuple[str, int]
    terminate_tls: bool  # True: decrypt here and relay plain HTTP; False: tunnel the client's TLS as is


class _Handler(socketserver.BaseRequestHandler):
    server: PublicHostGateway

    def handle(self) -> None:
        client: socket.socket = self.request
        head = _read_head(client)
        if head is None:
            return
        parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(parts) != 3 or parts[0].upper() != "CONNECT":
            client.sendall(_status(405, "only CONNECT tunnels to the CRMs' public hosts are served"))
            return
        host = parts[1].rsplit(":", 1)[0].lower()
        upstream = self.server.routes.get(host)
        if upstream is None:
            client.sendall(_status(403, f"{host} is not a host the sandbox answers for"))
            return
        try:
            target = socket.create_connection(upstream.address, timeout=10)
        except OSError:
            client.sendall(_status(502, "sandbox port unreachable"))
            return
        with target:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if upstream.terminate_tls:
                try:
                    client = self.server.tls_context.wrap_socket(client, server_side=True)
                except (ssl.SSLError, OSError):
                    return  # the client refused our certificate: nothing to relay
            _relay(client, target)


class PublicHostGateway(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], routes: dict[str, Upstream], tls_context: ssl.SSLContext) -> None:
        self.routes = routes
        self.tls_context = tls_context
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-gateway", daemon=True
        )
        thread.start()
        return thread


def _read_head(sock: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk or len(data) > _MAX_HEADER:
            return None
        data += chunk
    return data


def _status(code: int, message: str) -> bytes:
    body = message.encode()
    reasons = {403: "Forbidden", 405: "Method Not Allowed", 502: "Bad Gateway"}
    return (
        f"HTTP/1.1 {code} {reasons[code]}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes. One thread and select(): an SSL socket must not be read
    and written from two threads at once, and decrypted bytes already buffered (``pending``) are served first."""
    peers: dict[socket.socket, socket.socket] = {a: b, b: a}
    while True:
        ready: list[socket.socket] = [s for s in peers if isinstance(s, ssl.SSLSocket) and s.pending()]
        if not ready:
            ready, _, _ = select.select(list(peers), [], [], _IDLE_SECONDS)
            if not ready:
                return
        for sock in ready:
            try:
                data = sock.recv(65_536)
            except (ssl.SSLError, OSError):
                return
            if not data:
                return
            try:
                peers[sock].sendall(data)
            except OSError:
                return
