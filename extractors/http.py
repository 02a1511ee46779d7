"""The one HTTP layer every extractor goes through.

It is where politeness (User-Agent, robots.txt, per-host pacing), resilience (timeouts,
retries with backoff) and thrift (conditional GETs through an on-disk cache) live, and where
record/replay makes tests and CI independent of the network.
"""
from __future__ import annotations

import errno
import hashlib
import http
import json
import os
import socket
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import requests_cache
import urllib3.exceptions
from protego import Protego
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import requote_uri
from urllib3.util.retry import Retry

__all__ = [
    "FetchError",
    "UnexpectedContentType",
    "HttpClient",
    "HttpStatusError",
    "NotRecorded",
    "RecordingCorrupt",
    "RecordingStore",
    "ResponseTooLarge",
    "RobotsDisallowed",
    "add_recording",
    "request_key",
]

MODES = ("live", "record", "replay")
DEFAULT_CONTACT = "citylinks@example.org"
ROBOTS_TOKEN = "CityLinks"  # the product token robots.txt rules are matched against
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_METHODS = frozenset({"GET", "HEAD", "POST"})  # SPARQL POSTs are reads, safe to repeat
MAX_RETRY_AFTER = 300  # seconds; a server asking us to wait longer is effectively down
MAX_REDIRECTS = 10
RECORDED_HEADERS = ("content-type", "etag", "last-modified", "content-length", "date")
_CHUNK = 64 * 1024


class FetchError(Exception):
    """No usable response for `url`; the message says why. `status` is None if none arrived.

    `transient` marks failures worth retrying later (connection refused, timeout): callers such
    as a Prefect retry condition read it instead of guessing from the type.
    """

    def __init__(self, message: str, *, url: str, status: int | None = None, transient: bool = False):
        super().__init__(message)
        self.url = url
        self.status = status
        self.transient = transient

    def __reduce__(self):  # keyword-only arguments: teach pickle (Prefect result storage) to rebuild
        return _rebuild_error, (type(self), str(self), self.url, self.status, self.transient)


class HttpStatusError(FetchError):
    """The final response (after retries) was not 2xx; `response` is kept for inspection."""

    def __init__(self, message: str, *, url: str, status: int, response: requests.Response | None = None,
                 transient: bool | None = None):
        super().__init__(message, url=url, status=status,
                         transient=status in RETRY_STATUSES if transient is None else transient)
        self.response = response


def _rebuild_error(cls, message, url, status, transient):
    error = cls.__new__(cls)
    FetchError.__init__(error, message, url=url, status=status, transient=transient)
    if issubclass(cls, HttpStatusError):
        error.response = None
    return error


class NotRecorded(FetchError):
    """Replay mode was asked for a request that has no recording."""


class RobotsDisallowed(FetchError):
    """robots.txt forbids the URL, or could not be read, which we treat the same way."""


class ResponseTooLarge(FetchError):
    """The body exceeds the configured cap; we refuse to buffer it."""


class UnexpectedContentType(FetchError):
    """A 2xx answer of the wrong kind (an HTML error or login page where JSON was due)."""


class RecordingCorrupt(FetchError):
    """A recorded body no longer matches the hash its index line was written with."""


# --- request identity ------------------------------------------------------------------------


def _pairs(mapping) -> list[tuple[str, str]]:
    """Flatten params/form data the way requests does (lists repeat the key, None drops it)."""
    items = mapping.items() if isinstance(mapping, Mapping) else mapping
    pairs = []
    for name, value in items:
        if value is None:
            continue
        for v in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append((str(name), v.decode("utf-8") if isinstance(v, bytes) else str(v)))
    return pairs


def _canonical_url(url: str, params=None) -> str:
    """One spelling per request, so keys match however a caller split URL and params."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + _pairs(params or {})
    path = parts.path or "/"
    return requote_uri(urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, urlencode(sorted(query)), "")))


def _encode_body(data) -> bytes | None:
    """The exact bytes we send, so the recorded body hash describes what went over the wire."""
    if data is None:
        return None
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, Mapping):
        return urlencode(sorted(_pairs(data))).encode("ascii")
    raise TypeError(f"data must be dict, str or bytes, not {type(data).__name__}")


def _key(method: str, canonical_url: str, body_sha256: str | None) -> str:
    return hashlib.sha256(f"{method.upper()} {canonical_url} {body_sha256 or ''}".encode("utf-8")).hexdigest()


def request_key(method: str, url: str, params=None, data=None) -> tuple[str, str, str | None]:
    """(key, canonical_url, body_sha256) identifying a request in a recordings index."""
    canonical = _canonical_url(url, params)
    body = _encode_body(data)
    body_sha = hashlib.sha256(body).hexdigest() if body is not None else None
    return _key(method, canonical, body_sha), canonical, body_sha


def _charset(content_type: str | None) -> str | None:
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def _extension(content_type: str | None) -> str:
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime.endswith("json"):
        return "json"
    if mime in ("text/html", "application/xhtml+xml"):
        return "html"
    if mime == "text/csv":
        return "csv"
    if mime.endswith("xml"):
        return "xml"
    if mime.startswith("text/"):
        return "txt"
    return "bin"


# --- recordings ------------------------------------------------------------------------------


class RecordingStore:
    """A recordings directory: `index.jsonl` (last line per key wins) plus raw `bodies/`.

    The format is plain JSON lines and raw files because recordings are committed, reviewed
    in diffs and sometimes assembled by hand from real fixture files.
    """

    def __init__(self, directory: str | Path):
        self.dir = Path(directory)
        self.index_path = self.dir / "index.jsonl"
        self._lock = threading.Lock()
        self._entries: dict[str, dict] | None = None

    def _load(self) -> dict[str, dict]:
        entries: dict[str, dict] = {}
        if not self.index_path.exists():
            return entries
        with self.index_path.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                where = f"{self.index_path}:{lineno}"
                try:
                    entry = json.loads(line)
                    expected = _key(entry["method"], _canonical_url(entry["url"]), entry.get("body_sha256"))
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise ValueError(f"{where}: not a valid recording entry ({exc})") from exc
                # A hand-edited line whose key no longer matches would silently never replay.
                if entry.get("key") != expected:
                    raise ValueError(f"{where}: key does not match method/url/body_sha256 (expected {expected})")
                entries[expected] = entry
        return entries

    def entries(self) -> dict[str, dict]:
        with self._lock:
            if self._entries is None:
                self._entries = self._load()
            return self._entries

    def lookup(self, key: str) -> dict | None:
        return self.entries().get(key)

    def read_body(self, entry: dict) -> bytes:
        return (self.dir / entry["file"]).read_bytes()

    def add(self, method: str, url: str, body: bytes, *, params=None, data=None, status: int = 200,
            headers: Mapping[str, str] | None = None, recorded_at: str | datetime | None = None,
            note: str | None = None) -> dict:
        """Store a body and append its index line; returns the entry."""
        key, canonical, body_sha = request_key(method, url, params, data)
        kept = {k.lower(): str(v) for k, v in (headers or {}).items() if k.lower() in RECORDED_HEADERS}
        kept["content-length"] = str(len(body))  # of the stored (decoded) body, not the wire
        if recorded_at is None:
            recorded_at = datetime.now(timezone.utc)
        if isinstance(recorded_at, datetime):
            recorded_at = recorded_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        entry = {
            "key": key,
            "method": method.upper(),
            "url": canonical,
            "body_sha256": body_sha,
            "status": int(status),
            "headers": dict(sorted(kept.items())),
            "recorded_at": recorded_at,
            "file": f"bodies/{key}.{_extension(kept.get('content-type'))}",
            "content_sha256": hashlib.sha256(body).hexdigest(),
            "note": note,
        }
        with self._lock:
            path = self.dir / entry["file"]
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(body)
            os.replace(tmp, path)
            with self.index_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            if self._entries is not None:
                self._entries[key] = entry
        return entry

    def compact(self) -> None:
        """Rewrite the index with one line per key, sorted, so re-recording gives small diffs."""
        with self._lock:
            entries = self._load()
            if not entries:
                return
            ordered = sorted(entries.values(), key=lambda e: (e["url"], e["method"], e["key"]))
            tmp = self.index_path.with_name(self.index_path.name + ".tmp")
            tmp.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in ordered), encoding="utf-8")
            os.replace(tmp, self.index_path)
            self._entries = entries


def add_recording(directory: str | Path, method: str, url: str, body_bytes: bytes, *, params=None, data=None,
                  status: int = 200, headers: Mapping[str, str] | None = None,
                  recorded_at: str | datetime | None = None, note: str | None = None) -> dict:
    """Bundle a real fixture file as the recorded response to a request."""
    return RecordingStore(directory).add(method, url, body_bytes, params=params, data=data, status=status,
                                         headers=headers, recorded_at=recorded_at, note=note)


# --- client ----------------------------------------------------------------------------------


_NO_ROUTE = {errno.ENETUNREACH, errno.EHOSTUNREACH}


def _unreachable(error: BaseException | None) -> str | None:
    """Why a connection could not even be made (DNS, refused, no route, connect timeout), or
    None; read from the exception chain (requests → urllib3 → socket)."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, (urllib3.exceptions.NameResolutionError, socket.gaierror)):
            return "DNS lookup failed"
        if isinstance(error, ConnectionRefusedError):
            return "connection refused"
        if isinstance(error, OSError) and error.errno in _NO_ROUTE:
            return "network unreachable"
        if isinstance(error, urllib3.exceptions.ConnectTimeoutError) and \
                not isinstance(error, urllib3.exceptions.NewConnectionError):
            return "connect timed out"
        error = getattr(error, "reason", None) or error.__cause__ or error.__context__
    return None


class _FirstContactRetry(Retry):
    """urllib3 Retry that gives up at once when a host that has not answered in this run cannot
    be reached at all: DNS failure, refused or timed-out connect there means no network or a
    wrong host, not a blip — retrying it only made a run without network take ten minutes.
    Hosts that did answer keep the full retry budget (resets, 429, 5xx)."""

    def __init__(self, *args, answered=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.answered = answered

    def new(self, **kwargs):
        retry = super().new(**kwargs)
        retry.answered = self.answered
        return retry

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        host = getattr(_pool, "host", None)
        if (error is not None and self.answered is not None and host and not self.answered(host)
                and _unreachable(error)):
            raise urllib3.exceptions.MaxRetryError(_pool, url, error) from error
        return super().increment(method, url, response, error, _pool, _stacktrace)


ENV_PREFIX = "CITYLINKS_HTTP_"


def _attempts(response: requests.Response) -> int:
    retries = getattr(getattr(response, "raw", None), "retries", None)
    return len(getattr(retries, "history", ()) or ()) + 1


def _describe(exc: requests.RequestException, timeout: tuple[float, float]) -> str:
    reason = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", None) or reason  # urllib3's MaxRetryError wraps the last error
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2.x, so test it first.
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        what = "connection failed"
    elif isinstance(exc, requests.Timeout) or isinstance(reason, urllib3.exceptions.TimeoutError):
        what = f"timed out (connect {timeout[0]:g}s / read {timeout[1]:g}s)"
    elif isinstance(exc, requests.ConnectionError):
        what = "connection failed"
    else:
        what = type(exc).__name__
    return f"{what}: {reason}"


def _snippet(response: requests.Response) -> str:
    mime = response.headers.get("Content-Type", "")
    if not (mime.startswith("text/") or "json" in mime or "xml" in mime):
        return ""
    text = " ".join(response.text.split())[:200]
    return f": {text}" if text else ""


class HttpClient:
    """Fetches for extractors in `live`, `record` (live + save) or `replay` (recordings only) mode."""

    def __init__(self, mode: str = "live", recordings_dir: str | Path | None = None, *, contact: str | None = None,
                 timeout: tuple[float, float] = (10.0, 60.0), retries: int = 4, backoff_factor: float = 1.0,
                 min_interval: float = 1.0, max_bytes: int = 64 * 2**20,
                 cache_path: str | Path | None = ".cache/http_cache.sqlite",
                 respect_robots: bool = True, sleep=time.sleep, routes: Mapping[str, str] | None = None):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
        if mode != "live" and recordings_dir is None:
            raise ValueError(f"{mode} mode needs a recordings_dir")
        self.mode = mode
        self.store = RecordingStore(recordings_dir) if recordings_dir is not None else None
        contact = contact or os.environ.get("CITYLINKS_CONTACT") or DEFAULT_CONTACT
        self.user_agent = f"CityLinks/0.1 (+https://github.com/citylinks/citylinks; {contact})"
        self.timeout = tuple(timeout)
        self.retries = retries
        self.min_interval = min_interval
        self.max_bytes = max_bytes
        self.respect_robots = respect_robots
        self._sleep = sleep
        self._clock = time.monotonic
        self._pace_lock = threading.Lock()
        self._next_slot: dict[str, float] = {}
        self._robots_lock = threading.Lock()
        self._robots: dict[str, Protego | str] = {}
        self._recorded = False
        self._answered: set[str] = set()  # hosts that sent any response in this client's life
        self._routes = {k.rstrip("/").lower(): v.rstrip("/") for k, v in (routes or {}).items()}
        # Replay must not open sockets or cache files, so it gets no session at all.
        self._session = None if mode == "replay" else self._make_session(cache_path, retries, backoff_factor)

    @classmethod
    def from_environment(cls, *, mode: str, recordings_dir=None, cache_path=None) -> HttpClient:
        """A client with the operator's settings (README § Configuration):
        CITYLINKS_HTTP_TIMEOUT="10,60" (connect, read seconds), CITYLINKS_HTTP_RETRIES=4,
        CITYLINKS_HTTP_BACKOFF=1.0, CITYLINKS_HTTP_MIN_INTERVAL=1.0 (seconds per host),
        CITYLINKS_HTTP_MAX_BYTES, CITYLINKS_HTTP_ROUTES (JSON {origin: base URL}: send a source's
        requests to a mirror or a local test server; recordings keep the real URL)."""
        env = os.environ
        try:
            timeout = tuple(float(x) for x in env.get(ENV_PREFIX + "TIMEOUT", "10,60").split(","))
            if len(timeout) != 2:
                raise ValueError("needs two numbers")
            kwargs = dict(
                timeout=timeout,
                retries=int(env.get(ENV_PREFIX + "RETRIES", "4")),
                backoff_factor=float(env.get(ENV_PREFIX + "BACKOFF", "1.0")),
                min_interval=float(env.get(ENV_PREFIX + "MIN_INTERVAL", "1.0")),
                max_bytes=int(env.get(ENV_PREFIX + "MAX_BYTES", str(64 * 2**20))),
                routes=json.loads(env.get(ENV_PREFIX + "ROUTES", "{}")),
            )
        except (ValueError, TypeError) as exc:
            raise ValueError(f"invalid {ENV_PREFIX}* setting: {exc}") from None
        return cls(mode=mode, recordings_dir=recordings_dir, cache_path=cache_path, **kwargs)

    def _make_session(self, cache_path, retries: int, backoff_factor: float) -> requests.Session:
        if cache_path is None:
            session = requests.Session()
        else:
            # expire_after=0: nothing counts as fresh, so only responses with a validator are kept
            # and every reuse is a conditional request; a 304 then serves the stored body.
            session = requests_cache.CachedSession(
                str(cache_path), backend="sqlite", expire_after=0, always_revalidate=True,
                allowable_methods=("GET", "HEAD"), allowable_codes=(200,), stale_if_error=False,
            )
        retry = _FirstContactRetry(
            total=retries, status_forcelist=RETRY_STATUSES, allowed_methods=RETRY_METHODS,
            backoff_factor=backoff_factor, backoff_jitter=backoff_factor, respect_retry_after_header=True,
            retry_after_max=MAX_RETRY_AFTER, raise_on_status=False, answered=self._has_answered,
        )
        adapter = HTTPAdapter(max_retries=retry)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = self.user_agent
        session.max_redirects = MAX_REDIRECTS
        session.hooks["response"].append(self._note_answer)
        session.hooks["response"].append(self._cap_body)
        return session

    def _has_answered(self, host: str) -> bool:
        return host.lower() in self._answered

    def _note_answer(self, response: requests.Response, *args, **kwargs) -> requests.Response:
        host = urlsplit(response.url).hostname
        if host:
            self._answered.add(host.lower())
        return response

    # public API

    def get(self, url: str, *, params: dict | None = None, headers: dict | None = None,
            expect: tuple[str, ...] = ()) -> requests.Response:
        """`expect`: acceptable media types (e.g. ("application/json",)); anything else fails loudly."""
        return self._expect(self._request("GET", url, params=params, headers=headers), expect)

    def post(self, url: str, *, data: dict | str | bytes | None = None, params: dict | None = None,
             headers: dict | None = None, expect: tuple[str, ...] = ()) -> requests.Response:
        return self._expect(self._request("POST", url, params=params, data=data, headers=headers), expect)

    @staticmethod
    def _expect(response: requests.Response, expect: tuple[str, ...]) -> requests.Response:
        if not expect:
            return response
        mime = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if mime not in {e.lower() for e in expect}:
            raise UnexpectedContentType(
                f"{response.url} answered {mime or 'without a content type'}, expected "
                f"{' or '.join(expect)}{_snippet(response)}", url=response.url, status=response.status_code)
        return response

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        if self._recorded:
            self.store.compact()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # internals

    def _request(self, method: str, url: str, *, params=None, data=None, headers=None) -> requests.Response:
        key, canonical, _ = request_key(method, url, params, data)
        if self.mode == "replay":
            return self._replay(method, canonical, key)
        parts = urlsplit(canonical)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"Not an absolute http(s) URL: {url!r}", url=url)
        if self.respect_robots:
            self._check_robots(canonical)
        headers = dict(headers or {})
        if isinstance(data, Mapping) and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        response = self._send(method, canonical, data=_encode_body(data), headers=headers)
        if self.mode == "record":
            self.store.add(method, canonical, response.content, data=data, status=response.status_code,
                           headers=response.headers)
            self._recorded = True
        if not 200 <= response.status_code < 300:
            n = _attempts(response)
            raise HttpStatusError(
                f"HTTP {response.status_code} from {canonical} after {n} attempt{'s' if n != 1 else ''}"
                f"{_snippet(response)}", url=canonical, status=response.status_code, response=response)
        return response

    def _route(self, url: str) -> str:
        """The URL actually requested: a configured route replaces the origin (mirror, test server)."""
        if not self._routes:
            return url
        parts = urlsplit(url)
        base = self._routes.get(f"{parts.scheme}://{parts.netloc}".lower())
        return url if base is None else base + url[len(f"{parts.scheme}://{parts.netloc}"):]

    def _send(self, method: str, url: str, *, data: bytes | None = None, headers=None) -> requests.Response:
        target = self._route(url)
        self._wait_turn(urlsplit(target).netloc)
        host = (urlsplit(target).hostname or "").lower()
        try:
            response = self._session.request(method, target, data=data, headers=headers, timeout=self.timeout)
        except requests.TooManyRedirects as exc:
            raise FetchError(f"{method} {url} failed: redirect loop (more than {MAX_REDIRECTS} redirects)",
                             url=url) from exc
        except FetchError:
            raise  # from a response hook: body too large, or unreadable
        except requests.RequestException as exc:
            unreachable = _unreachable(exc)
            if unreachable and host not in self._answered:
                raise FetchError(f"{method} {url} failed: {unreachable} for {host} — no network, or a wrong host; "
                                 f"not retried", url=url, transient=False) from exc
            after = ""
            if exc.args and isinstance(exc.args[0], urllib3.exceptions.MaxRetryError):
                n = self.retries + 1
                after = f" after {n} attempt{'s' if n != 1 else ''}"
            raise FetchError(f"{method} {url} failed{after}: {_describe(exc, self.timeout)}", url=url,
                             transient=True) from exc
        if target != url:
            response.url = url if response.url == target else response.url
        # One decoding rule for live and replay (requests would guess ISO-8859-1 for text/*).
        response.encoding = _charset(response.headers.get("Content-Type")) or "utf-8"
        if not hasattr(response, "from_cache"):  # plain Session when the cache is off
            response.from_cache = False
        if not hasattr(response, "revalidated"):
            response.revalidated = False
        return response

    def _cap_body(self, response: requests.Response, *args, **kwargs) -> requests.Response:
        """Response hook: runs before requests or the cache buffer the body, so we can stop early."""
        url = response.url
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            response.close()
            raise ResponseTooLarge(f"{url}: Content-Length {length} exceeds the {self.max_bytes}-byte limit",
                                   url=url, status=response.status_code)
        if response._content is False:  # body not read yet
            chunks, size = [], 0
            try:
                for chunk in response.iter_content(_CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        response.close()
                        raise ResponseTooLarge(f"{url}: body exceeds the {self.max_bytes}-byte limit",
                                               url=url, status=response.status_code)
                    chunks.append(chunk)
            except requests.RequestException as exc:
                raise FetchError(f"{url}: reading the body failed: {_describe(exc, self.timeout)}",
                                 url=url, status=response.status_code, transient=True) from exc
            response._content = b"".join(chunks)
        return response

    def _wait_turn(self, host: str) -> None:
        """Reserve the host's next slot under the lock, sleep outside it so other hosts proceed."""
        if self.min_interval <= 0:
            return
        with self._pace_lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + self.min_interval
        if slot > now:
            self._sleep(slot - now)

    def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._robots_lock:
            rules = self._robots.get(origin)
            if rules is None:
                rules = self._robots[origin] = self._fetch_robots(origin)
        if isinstance(rules, FetchError):
            if not rules.transient:  # the host cannot be reached at all: say that, not "robots"
                raise FetchError(f"{url} not fetched: {rules}", url=url, status=rules.status)
            raise RobotsDisallowed(f"Not fetching {url}: robots.txt could not be fetched ({rules})", url=url,
                                   transient=True)
        if isinstance(rules, str):
            # The host is failing right now, not forbidding us: worth a later retry.
            raise RobotsDisallowed(f"Not fetching {url}: {rules}", url=url, transient=True)
        if not rules.can_fetch(url, ROBOTS_TOKEN):
            raise RobotsDisallowed(f"robots.txt of {origin} disallows {url} for {ROBOTS_TOKEN}", url=url)

    def _fetch_robots(self, origin: str) -> Protego | str | FetchError:
        """Rules for the origin, or the reason it is off-limits (RFC 9309: 4xx allows all,
        an unreachable robots.txt or 429/5xx means we must not crawl)."""
        try:
            response = self._send("GET", f"{origin}/robots.txt")
        except FetchError as exc:
            return exc
        status = response.status_code
        if status == 429 or status >= 500:
            return f"robots.txt of {origin} returned HTTP {status}, treating the host as disallowed"
        if 400 <= status < 500:
            return Protego.parse("")
        return Protego.parse(response.text)

    def _replay(self, method: str, url: str, key: str) -> requests.Response:
        entry = self.store.lookup(key)
        if entry is None:
            raise NotRecorded(f"No recording of {method} {url} in {self.store.dir}; "
                              f"run with --record (or --live) to fetch it", url=url)
        try:
            body = self.store.read_body(entry)
        except OSError as exc:
            raise FetchError(f"Recording of {method} {url} in {self.store.dir} lacks its body "
                             f"{entry['file']} ({exc})", url=url) from exc
        expected = entry.get("content_sha256")
        if not expected:
            raise RecordingCorrupt(f"Recording of {method} {url} in {self.store.dir} has no content_sha256; "
                                   f"re-record it (citylinks run --record DIR)", url=url)
        actual = hashlib.sha256(body).hexdigest()
        if actual != expected:
            raise RecordingCorrupt(f"Recorded body {entry['file']} in {self.store.dir} does not match its index "
                                   f"(sha256 {actual[:12]}…, {len(body):,} bytes; index says {expected[:12]}…); "
                                   f"the recording was changed or truncated", url=url)
        if len(body) > self.max_bytes:
            raise ResponseTooLarge(f"{url}: recorded body exceeds the {self.max_bytes}-byte limit",
                                   url=url, status=entry["status"])
        response = requests.Response()
        response.status_code = entry["status"]
        response.headers = CaseInsensitiveDict(entry.get("headers") or {})
        if "date" not in response.headers and entry.get("recorded_at"):
            # When the data was obtained: a replay reports the recording's time, so reruns agree.
            recorded = datetime.strptime(entry["recorded_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            response.headers["Date"] = format_datetime(recorded, usegmt=True)
        response._content = body
        response._content_consumed = True
        response.url = url
        response.encoding = _charset(response.headers.get("Content-Type")) or "utf-8"
        try:
            response.reason = http.HTTPStatus(response.status_code).phrase
        except ValueError:
            response.reason = ""
        response.request = requests.Request(method, url).prepare()
        response.from_cache = False
        response.revalidated = False
        if not 200 <= response.status_code < 300:
            raise HttpStatusError(f"HTTP {response.status_code} from {url} (replayed from {self.store.dir})"
                                  f"{_snippet(response)}", url=url, status=response.status_code, response=response)
        return response
