"""Tests for the shared HTTP layer.

Retries, Retry-After, timeouts and conditional GETs run against a real HTTP server on
127.0.0.1: the `responses` mock replaces the adapter's send, so it never exercises urllib3's
sleeping or socket behaviour (it counts Retry attempts but ignores Retry-After delays).
"""
from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from extractors.http import (
    FetchError,
    HttpClient,
    HttpStatusError,
    NotRecorded,
    RecordingCorrupt,
    RecordingStore,
    ResponseTooLarge,
    RobotsDisallowed,
    UnexpectedContentType,
    add_recording,
    request_key,
)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    content_length: bool = True


@dataclass
class Hit:
    method: str
    path: str
    headers: dict
    body: bytes
    at: float


class _State:
    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.routes: dict = {}
        self.log: list[Hit] = []

    def route(self, path, *replies):
        """Replies are served in order, the last one repeating; or pass one callable(hit)."""
        self.routes[path] = replies[0] if callable(replies[0]) else list(replies)

    def hits(self, path):
        return [h for h in self.log if urlsplit(h.path).path == path]


class _Handler(BaseHTTPRequestHandler):
    def _serve(self):
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        hit = Hit(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                  self.rfile.read(length) if length else b"", time.monotonic())
        state.log.append(hit)
        route = state.routes.get(urlsplit(self.path).path)
        if route is None:
            reply = Reply(404, b"not found")
        elif callable(route):
            reply = route(hit)
        else:
            reply = route.pop(0) if len(route) > 1 else route[0]
        time.sleep(reply.delay)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.content_length and reply.status != 304:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.status != 304:
            self.wfile.write(reply.body)

    do_GET = do_POST = _serve

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.handle_error = lambda *args: None  # timed-out clients hang up mid-reply
    srv.state = _State(srv.server_address[1])
    stopped = []

    def stop():
        if not stopped:
            stopped.append(True)
            srv.shutdown()
            srv.server_close()

    srv.state.stop = stop
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield srv.state
    stop()


@pytest.fixture
def make_client():
    clients = []

    def make(**kwargs):
        for name, value in dict(backoff_factor=0, min_interval=0, cache_path=None, respect_robots=False).items():
            kwargs.setdefault(name, value)
        client = HttpClient(**kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a socket connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# --- basics ----------------------------------------------------------------------------------


def test_user_agent_names_project_and_contact(server, make_client):
    server.route("/ua", Reply(body=b"ok"))
    client = make_client(contact="ops@city.example")
    client.get(server.base + "/ua")
    ua = server.hits("/ua")[0].headers["user-agent"]
    assert ua == "CityLinks/0.1 (+https://github.com/citylinks/citylinks; ops@city.example)"


def test_contact_defaults_from_environment(monkeypatch, make_client):
    monkeypatch.setenv("CITYLINKS_CONTACT", "env@city.example")
    assert make_client().user_agent.endswith("; env@city.example)")
    monkeypatch.delenv("CITYLINKS_CONTACT")
    assert make_client().user_agent.endswith("; citylinks@example.org)")


@pytest.mark.parametrize("kwargs", [{"mode": "bogus"}, {"mode": "record"}, {"mode": "replay"}])
def test_invalid_mode_or_missing_recordings_dir(kwargs):
    with pytest.raises(ValueError):
        HttpClient(**kwargs)


def test_text_decodes_as_utf8_without_charset(server, make_client):
    server.route("/csv", Reply(body="name\nKöln\n".encode(), headers={"Content-Type": "text/csv"}))
    response = make_client().get(server.base + "/csv")
    assert response.text == "name\nKöln\n"
    assert response.from_cache is False


# --- retries and errors ----------------------------------------------------------------------


def test_retries_500_then_succeeds(server, make_client):
    server.route("/flaky", Reply(500), Reply(503), Reply(body=b"fine"))
    response = make_client(retries=3).get(server.base + "/flaky")
    assert response.text == "fine"
    assert len(server.hits("/flaky")) == 3


def test_persistent_500_raises_after_all_attempts(server, make_client):
    server.route("/down", Reply(500, b"boom", {"Content-Type": "text/plain"}))
    with pytest.raises(HttpStatusError) as err:
        make_client(retries=2).get(server.base + "/down")
    assert err.value.status == 500
    assert err.value.url == server.base + "/down"
    assert str(err.value).startswith(f"HTTP 500 from {server.base}/down after 3 attempts")
    assert len(server.hits("/down")) == 3
    assert err.value.transient  # worth another try later (the flow's task retry reads this)


def test_post_is_retried(server, make_client):
    server.route("/sparql", Reply(502), Reply(body=b"{}"))
    make_client().post(server.base + "/sparql", data={"query": "ASK {}"})
    hits = server.hits("/sparql")
    assert [h.method for h in hits] == ["POST", "POST"]
    assert hits[1].body == b"query=ASK+%7B%7D"


def test_429_honours_retry_after(server, make_client):
    server.route("/limited", Reply(429, headers={"Retry-After": "1"}), Reply(body=b"ok"))
    assert make_client(retries=2).get(server.base + "/limited").text == "ok"
    first, second = server.hits("/limited")
    assert second.at - first.at >= 0.9  # backoff_factor is 0, so only Retry-After explains the wait


def test_no_retry_on_404(server, make_client):
    with pytest.raises(HttpStatusError) as err:
        make_client(retries=4).get(server.base + "/missing")
    assert err.value.status == 404 and not err.value.transient
    assert "after 1 attempt" in str(err.value)
    assert len(server.hits("/missing")) == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again on exit, so nothing listens there


def test_connection_refused_by_a_host_that_never_answered_fails_at_once():
    """No network (or a wrong host) is not a blip: one attempt, not retried later either."""
    client = HttpClient(retries=4, backoff_factor=1.0, min_interval=0, cache_path=None, respect_robots=False)
    url = f"http://127.0.0.1:{_closed_port()}/x"
    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        client.get(url)
    assert time.monotonic() - started < 1.0  # no backoff sleeps (1 + 2 + 4 + 8 s with 4 retries)
    assert type(err.value) is FetchError
    assert err.value.url == url and err.value.status is None
    assert "connection refused for 127.0.0.1" in str(err.value) and "not retried" in str(err.value)
    assert not err.value.transient


def test_dns_failure_fails_at_once_and_is_not_transient():
    client = HttpClient(retries=4, backoff_factor=1.0, min_interval=0, cache_path=None, respect_robots=False)
    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        client.get("http://no-such-host.invalid/x")  # .invalid never resolves (RFC 2606)
    assert time.monotonic() - started < 5.0
    assert "DNS lookup failed for no-such-host.invalid" in str(err.value) and not err.value.transient


def test_a_host_that_answered_before_keeps_its_retries(server, make_client):
    """Once a host has answered in this run, losing it is transient: retried as before."""
    server.route("/ok", Reply(body=b"ok"))
    client = make_client(retries=2)
    client.get(server.base + "/ok")
    server.stop()
    with pytest.raises(FetchError) as err:
        client.get(server.base + "/ok")
    assert "after 3 attempts" in str(err.value) and err.value.transient


def test_read_timeout_is_retried_then_a_fetch_error(server, make_client):
    server.route("/slow", Reply(body=b"late", delay=0.5))
    with pytest.raises(FetchError) as err:
        make_client(timeout=(1.0, 0.1), retries=1).get(server.base + "/slow")
    assert "timed out" in str(err.value) and "read 0.1s" in str(err.value)
    assert len(server.hits("/slow")) == 2


def test_non_http_url_is_rejected(make_client):
    with pytest.raises(FetchError, match="Not an absolute http") as err:
        make_client().get("ftp://example.org/file")
    assert not err.value.transient


# --- robots.txt ------------------------------------------------------------------------------


def test_robots_disallow_blocks_without_requesting(server, make_client):
    server.route("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /private\n"))
    server.route("/public", Reply(body=b"ok"))
    client = make_client(respect_robots=True)
    with pytest.raises(RobotsDisallowed) as err:
        client.get(server.base + "/private/page")
    assert err.value.url == server.base + "/private/page"
    assert server.base + "/private/page" in str(err.value)
    assert client.get(server.base + "/public").text == "ok"
    assert server.hits("/private/page") == []
    assert len(server.hits("/robots.txt")) == 1  # once per host
    assert not err.value.transient  # a rule: retrying later would ask again for the same page


def test_robots_group_for_our_token_applies(server, make_client):
    server.route("/robots.txt", Reply(body=b"User-agent: *\nAllow: /\n\nUser-agent: CityLinks\nDisallow: /\n"))
    with pytest.raises(RobotsDisallowed):
        make_client(respect_robots=True).get(server.base + "/anything")


def test_robots_404_allows_everything(server, make_client):
    server.route("/page", Reply(body=b"ok"))
    assert make_client(respect_robots=True).get(server.base + "/page").text == "ok"
    assert [urlsplit(h.path).path for h in server.log] == ["/robots.txt", "/page"]


def test_robots_5xx_disallows_host(server, make_client):
    server.route("/robots.txt", Reply(503))
    server.route("/page", Reply(body=b"ok"))
    client = make_client(respect_robots=True, retries=0)
    for _ in range(2):
        with pytest.raises(RobotsDisallowed, match="HTTP 503") as err:
            client.get(server.base + "/page")
        assert err.value.transient  # the host is failing now; a later run may fetch
    assert server.hits("/page") == []
    assert len(server.hits("/robots.txt")) == 1


def test_robots_unreachable_disallows_host():
    client = HttpClient(retries=0, min_interval=0, cache_path=None)
    url = f"http://127.0.0.1:{_closed_port()}/page"
    with pytest.raises(FetchError, match="robots.txt failed: connection refused") as err:
        client.get(url)
    assert str(err.value).startswith(f"{url} not fetched: GET http://")
    assert not err.value.transient  # the host never answered: no network, not a blip


def test_robots_returning_503_is_transient(server, make_client):
    server.route("/robots.txt", Reply(status=503, body=b"busy"))
    with pytest.raises(RobotsDisallowed, match="503") as err:
        make_client(respect_robots=True, retries=0).get(server.base + "/page")
    assert err.value.transient


# --- pacing ----------------------------------------------------------------------------------


def test_min_interval_per_host(server, make_client):
    server.route("/p", Reply(body=b"ok"))
    sleeps = []
    client = make_client(min_interval=1.0, sleep=sleeps.append)
    client.get(server.base + "/p")
    assert sleeps == []
    client.get(server.base + "/p")
    assert len(sleeps) == 1 and 0.5 < sleeps[0] <= 1.0
    client.get(server.base.replace("127.0.0.1", "localhost") + "/p")  # another host: no wait
    assert len(sleeps) == 1


def test_min_interval_not_applied_once_elapsed(server, make_client):
    server.route("/p", Reply(body=b"ok"))
    sleeps, now = [], [100.0]
    client = make_client(min_interval=1.0, sleep=sleeps.append)
    client._clock = lambda: now[0]
    client.get(server.base + "/p")
    now[0] += 1.5
    client.get(server.base + "/p")
    assert sleeps == []


def test_min_interval_reserves_slots_across_threads(server, make_client):
    server.route("/p", Reply(body=b"ok"))
    sleeps = []
    client = make_client(min_interval=1.0, sleep=sleeps.append)
    client._clock = lambda: 50.0  # frozen: each thread must get its own later slot
    threads = [threading.Thread(target=client.get, args=(server.base + "/p",)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(sleeps) == [1.0, 2.0, 3.0]


# --- conditional GET -------------------------------------------------------------------------


def _etag_resource(hit):
    if hit.headers.get("if-none-match") == '"v1"':
        return Reply(304, headers={"ETag": '"v1"'})
    return Reply(body=b'{"v": 1}', headers={"ETag": '"v1"', "Content-Type": "application/json"})


def test_conditional_get_serves_cached_body_on_304(server, make_client, tmp_path):
    server.route("/data", _etag_resource)
    client = make_client(cache_path=tmp_path / "cache.sqlite")
    first = client.get(server.base + "/data")
    assert first.json() == {"v": 1} and first.from_cache is False
    second = client.get(server.base + "/data")
    hits = server.hits("/data")
    assert len(hits) == 2 and hits[1].headers["if-none-match"] == '"v1"'
    assert second.status_code == 200 and second.json() == {"v": 1}
    assert second.from_cache is True and second.revalidated is True


def test_cache_persists_across_clients(server, make_client, tmp_path):
    server.route("/data", _etag_resource)
    make_client(cache_path=tmp_path / "c.sqlite").get(server.base + "/data")
    again = make_client(cache_path=tmp_path / "c.sqlite").get(server.base + "/data")
    assert again.from_cache is True and server.hits("/data")[1].headers["if-none-match"] == '"v1"'


def test_response_without_validator_is_always_refetched(server, make_client, tmp_path):
    server.route("/plain", Reply(body=b"a"), Reply(body=b"b"))
    client = make_client(cache_path=tmp_path / "cache.sqlite")
    assert client.get(server.base + "/plain").text == "a"
    second = client.get(server.base + "/plain")
    assert second.text == "b" and second.from_cache is False
    assert "if-none-match" not in server.hits("/plain")[1].headers


# --- size cap --------------------------------------------------------------------------------


@pytest.mark.parametrize("cached", [False, True])
def test_size_cap_by_content_length(server, make_client, tmp_path, cached):
    server.route("/big", Reply(body=b"x" * 100))
    client = make_client(max_bytes=50, cache_path=tmp_path / "c.sqlite" if cached else None)
    with pytest.raises(ResponseTooLarge, match="Content-Length 100"):
        client.get(server.base + "/big")


@pytest.mark.parametrize("cached", [False, True])
def test_size_cap_by_body_without_content_length(server, make_client, tmp_path, cached):
    server.route("/stream", Reply(body=b"x" * 100, content_length=False))
    client = make_client(max_bytes=50, cache_path=tmp_path / "c.sqlite" if cached else None)
    with pytest.raises(ResponseTooLarge, match="body exceeds the 50-byte limit") as err:
        client.get(server.base + "/stream")
    assert err.value.url == server.base + "/stream"
    assert make_client(max_bytes=100).get(server.base + "/stream").content == b"x" * 100


# --- record / replay -------------------------------------------------------------------------


def test_record_then_replay_round_trip(server, make_client, tmp_path, monkeypatch):
    rec = tmp_path / "rec"
    server.route("/api", Reply(body=b'{"ok": true}', headers={"Content-Type": "application/json", "ETag": '"e"'}))
    server.route("/sparql", Reply(body=b"a,b\n1,2\n", headers={"Content-Type": "text/csv; charset=utf-8"}))
    server.route("/gone", Reply(404, b"no such page", {"Content-Type": "text/plain"}))
    with make_client(mode="record", recordings_dir=rec, respect_robots=True) as client:
        client.get(server.base + "/api", params={"b": "2", "a": "1"})
        client.post(server.base + "/sparql", data={"query": "SELECT", "format": "csv"})
        with pytest.raises(HttpStatusError):
            client.get(server.base + "/gone")

    entries = [json.loads(line) for line in (rec / "index.jsonl").read_text().splitlines()]
    assert {urlsplit(e["url"]).path for e in entries} == {"/api", "/sparql", "/gone"}  # no robots.txt
    api = next(e for e in entries if "/api" in e["url"])
    assert api["url"] == server.base + "/api?a=1&b=2"
    assert api["body_sha256"] is None and api["status"] == 200
    assert {k: v for k, v in api["headers"].items() if k != "date"} == {
        "content-length": "12", "content-type": "application/json", "etag": '"e"'}
    assert "date" in api["headers"]  # when the data was obtained; replays report it
    assert api["file"] == f"bodies/{api['key']}.json"
    assert api["recorded_at"].endswith("Z")
    assert (rec / api["file"]).read_bytes() == b'{"ok": true}'
    sparql = next(e for e in entries if "/sparql" in e["url"])
    assert sparql["file"].endswith(".csv")
    assert sparql["body_sha256"] == hashlib.sha256(b"format=csv&query=SELECT").hexdigest()

    hits_before = len(server.log)
    monkeypatch.setattr(socket.socket, "connect", lambda *a: pytest.fail("socket opened in replay"))
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: pytest.fail("socket opened in replay"))
    replay = make_client(mode="replay", recordings_dir=rec, respect_robots=True, cache_path=tmp_path / "c.sqlite")
    got = replay.get(server.base + "/api?b=2&a=1")
    assert got.status_code == 200 and got.json() == {"ok": True}
    assert got.headers["content-type"] == "application/json" and got.encoding == "utf-8"
    assert got.url == server.base + "/api?a=1&b=2" and got.from_cache is False
    csv = replay.post(server.base + "/sparql", data={"format": "csv", "query": "SELECT"})
    assert csv.text == "a,b\n1,2\n"
    with pytest.raises(HttpStatusError) as err:
        replay.get(server.base + "/gone")
    assert err.value.status == 404 and "no such page" in str(err.value)
    assert len(server.log) == hits_before
    assert not (tmp_path / "c.sqlite").exists()


def test_not_recorded_names_request_and_remedy(tmp_path, no_network):
    client = HttpClient("replay", tmp_path)
    with pytest.raises(NotRecorded) as err:
        client.post("https://query.wikidata.org/sparql", data="q")
    message = str(err.value)
    assert "POST https://query.wikidata.org/sparql" in message
    assert str(tmp_path) in message and "--record" in message and "--live" in message
    assert err.value.url == "https://query.wikidata.org/sparql"


def test_index_last_line_wins_and_compacts(tmp_path, no_network):
    add_recording(tmp_path, "GET", "https://x.org/a", b"old", headers={"Content-Type": "text/plain"})
    add_recording(tmp_path, "GET", "https://x.org/a", b"new", headers={"Content-Type": "text/plain"},
                  note="bundled from fixtures/a.txt", recorded_at="2024-05-01T00:00:00Z")
    assert len((tmp_path / "index.jsonl").read_text().splitlines()) == 2
    response = HttpClient("replay", tmp_path).get("https://x.org/a")
    assert response.text == "new"
    store = RecordingStore(tmp_path)
    store.compact()
    (entry,) = [json.loads(line) for line in (tmp_path / "index.jsonl").read_text().splitlines()]
    assert entry["note"] == "bundled from fixtures/a.txt" and entry["recorded_at"] == "2024-05-01T00:00:00Z"


def test_hand_edited_key_mismatch_is_reported(tmp_path):
    entry = add_recording(tmp_path, "GET", "https://x.org/a", b"x")
    entry["url"] = "https://x.org/b"
    with (tmp_path / "index.jsonl").open("a") as f:
        f.write(json.dumps(entry) + "\n")
    with pytest.raises(ValueError, match="index.jsonl:2: key does not match"):
        RecordingStore(tmp_path).entries()


def test_request_key_is_stable_under_param_order():
    a = request_key("GET", "https://x.org/api?b=2&a=1")
    b = request_key("GET", "https://x.org/api", params={"a": 1, "b": "2"})
    c = request_key("GET", "https://X.org/api?b=2", params={"a": "1"})
    assert a == b == c
    assert a[1] == "https://x.org/api?a=1&b=2" and a[2] is None
    assert request_key("POST", "https://x.org/api?a=1&b=2")[0] != a[0]
    assert request_key("GET", "https://x.org/api", params={"a": 1, "b": 3})[0] != a[0]


def test_request_key_body_hash():
    key1, _, sha1 = request_key("POST", "https://x.org/sparql", data={"query": "q", "format": "json"})
    key2, _, sha2 = request_key("POST", "https://x.org/sparql", data={"format": "json", "query": "q"})
    assert key1 == key2 and sha1 == sha2 == hashlib.sha256(b"format=json&query=q").hexdigest()
    _, _, sha_str = request_key("POST", "https://x.org/sparql", data="format=json&query=q")
    _, _, sha_bytes = request_key("POST", "https://x.org/sparql", data=b"format=json&query=q")
    assert sha_str == sha_bytes == sha1
    assert request_key("POST", "https://x.org/sparql", data="other")[0] != key1


# --- replay integrity, content types, redirects, routes ---------------------------------------


def test_replay_refuses_a_body_that_differs_from_its_recorded_hash(tmp_path, no_network):
    entry = add_recording(tmp_path, "GET", "https://x.org/a", b"a,b\n1,2\n", headers={"Content-Type": "text/csv"})
    (tmp_path / entry["file"]).write_bytes(b"a,b\n1,2\n3,4\n")  # 4 bytes longer than recorded
    with pytest.raises(RecordingCorrupt, match="does not match its index") as err:
        HttpClient("replay", tmp_path).get("https://x.org/a")
    assert not err.value.transient


def test_replay_refuses_an_entry_without_content_hash(tmp_path, no_network):
    entry = add_recording(tmp_path, "GET", "https://x.org/a", b"x")
    del entry["content_sha256"]
    (tmp_path / "index.jsonl").write_text(json.dumps(entry) + "\n")
    with pytest.raises(RecordingCorrupt, match="no content_sha256"):
        HttpClient("replay", tmp_path).get("https://x.org/a")


def test_unexpected_content_type_fails_loudly_with_a_snippet(server, make_client):
    server.route("/api", Reply(body=b"<html><title>Please log in</title></html>",
                               headers={"Content-Type": "text/html; charset=utf-8"}))
    with pytest.raises(UnexpectedContentType) as err:
        make_client().get(server.base + "/api", expect=("application/json",))
    assert "answered text/html, expected application/json" in str(err.value) and "Please log in" in str(err.value)
    assert not err.value.transient


def test_redirect_loop_is_a_permanent_fetch_error(server, make_client):
    server.route("/loop", Reply(status=302, headers={"Location": "/loop"}))
    with pytest.raises(FetchError, match="redirect loop") as err:
        make_client().get(server.base + "/loop")
    assert not err.value.transient and len(server.hits("/loop")) == 11  # the first + 10 redirects


def test_routes_send_an_origin_to_another_base_but_keep_the_real_url(server, make_client, monkeypatch):
    server.route("/sparql", Reply(body=b"{}", headers={"Content-Type": "application/json"}))
    monkeypatch.setenv("CITYLINKS_HTTP_ROUTES", json.dumps({"https://query.wikidata.org": server.base}))
    monkeypatch.setenv("CITYLINKS_HTTP_MIN_INTERVAL", "0")
    with HttpClient.from_environment(mode="live") as client:
        client.respect_robots = False
        response = client.get("https://query.wikidata.org/sparql", params={"q": "1"})
    assert response.url == "https://query.wikidata.org/sparql?q=1"
    assert server.hits("/sparql")[0].path == "/sparql?q=1"


def test_invalid_http_settings_are_one_clear_error(monkeypatch):
    monkeypatch.setenv("CITYLINKS_HTTP_TIMEOUT", "ten")
    with pytest.raises(ValueError, match="invalid CITYLINKS_HTTP_"):
        HttpClient.from_environment(mode="live")
