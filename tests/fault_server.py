"""A loopback HTTP server that plays the real sources from recordings, with injected faults.

Live runs are pointed at it through CITYLINKS_HTTP_ROUTES (`https://query.wikidata.org` →
`http://127.0.0.1:PORT/query.wikidata.org`), so the whole live path — robots.txt, retries,
timeouts, body cap, content types, parsers — runs against real bytes, off the network.
"""
from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from extractors.http import RecordingStore, request_key


@dataclass
class Fault:
    """What to do instead of (or around) the recorded answer."""

    status: int | None = None  # answer with this status (and `body`)
    body: bytes | None = None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    reset: bool = False  # close the connection with a TCP reset, no answer
    truncate: bool = False  # announce the whole recorded body, send half, close
    redirect_to_self: bool = False


class FaultServer:
    def __init__(self, recordings: str | Path):
        self.store = RecordingStore(recordings)
        self.faults: dict[str, Fault] = {}  # URL without query → fault, whatever the method (a 302 turns POST into GET)
        self.hits: list[tuple[str, str, float]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.handle_error = lambda *args: None  # clients that time out hang up mid-answer
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def routes(self, origins: list[str]) -> dict[str, str]:
        """CITYLINKS_HTTP_ROUTES for these real origins."""
        return {origin: f"{self.base}/{urlsplit(origin).netloc}" for origin in origins}

    def inject(self, url: str, fault: Fault | None) -> None:
        if fault is None:
            self.faults.pop(url, None)
        else:
            self.faults[url] = fault

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                host, _, rest = self.path.lstrip("/").partition("/")
                url = f"https://{host}/{rest}"
                owner.hits.append((self.command, url, time.monotonic()))
                if urlsplit(url).path == "/robots.txt":
                    return self._answer(200, b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"})
                fault = owner.faults.get(url.split("?")[0])
                key, _, _ = request_key(self.command, url, data=body)
                entry = owner.store.lookup(key)
                if fault is None or fault.status is None and not (fault.reset or fault.redirect_to_self):
                    if entry is None:
                        return self._answer(404, f"no recording of {self.command} {url}".encode(),
                                            {"Content-Type": "text/plain"})
                    recorded = owner.store.read_body(entry)
                    headers = {"Content-Type": entry["headers"].get("content-type", "application/octet-stream")}
                    if fault is None:
                        return self._answer(entry["status"], recorded, headers)
                    time.sleep(fault.delay)
                    if fault.truncate:
                        return self._answer(200, recorded, headers, send=len(recorded) // 2)
                    return self._answer(entry["status"], fault.body if fault.body is not None else recorded,
                                        {**headers, **fault.headers})
                time.sleep(fault.delay)
                if fault.reset:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return None
                if fault.redirect_to_self:
                    return self._answer(302, b"", {"Location": self.path})
                return self._answer(fault.status, fault.body or b"", fault.headers)

            def _answer(self, status: int, body: bytes, headers: dict, send: int | None = None):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body if send is None else body[:send])
                if send is not None:
                    self.wfile.flush()
                    self.close_connection = True

            do_GET = do_POST = _serve

        return Handler
