"""Which sites' pages may call the API from a browser (CORS), and a log line for those that may not.

`ASSISTANT_ALLOWED_ORIGINS` lists origins ("https://minkommune.github.io"). A browser sends only the
origin, never a path, so an entry written as a page address ("https://user.github.io/repo/", the
usual mistake for a GitHub Pages project site) is read as its origin, with a warning. A site that is
refused is logged once per origin per interval, so a busy docs site cannot flood the log. This
module does not decide what a request may do beyond reading the reply.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.settings import Settings

log = logging.getLogger("web.cors")

REFUSED_LOG_INTERVAL = 3600.0  # seconds between two log lines about the same refused origin
_warned: set[str] = set()  # entries already warned about: the list is read by several parts of the app
_warned_lock = threading.Lock()


def allowed_origins(settings: Settings) -> list[str]:
    """`settings.allowed_origins` ("https://a.dk, https://b.dk/docs/") as origins: lower-case scheme
    and host, the port only when it is not the default. An entry with a path is read as its origin
    and one that is no http(s) address is left out, each with a warning (once per process)."""
    origins: list[str] = []
    for entry in (e.strip() for e in settings.allowed_origins.split(",")):
        if not entry:
            continue
        origin, problem = as_origin(entry)
        if problem:
            _warn_once(entry, problem)
        if origin and origin not in origins:
            origins.append(origin)
    return origins


def as_origin(entry: str) -> tuple[str, str]:
    """(origin, warning) for one allow-list entry; origin "" when it cannot be one."""
    if entry == "*":
        return "*", ""
    try:
        parts = urlsplit(entry)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "", (f"ASSISTANT_ALLOWED_ORIGINS: {entry!r} is not a site address such as https://docs.example.dk; "
                    "it is ignored")
    scheme = parts.scheme.lower()
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = {"http": 80, "https": 443}[scheme]
    origin = f"{scheme}://{host}{f':{port}' if port and port != default else ''}"
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return origin, (f"ASSISTANT_ALLOWED_ORIGINS: {entry!r} is a page address; browsers send only the origin, "
                        f"so {origin} is allowed (every site on that host, e.g. all GitHub Pages project sites "
                        f"of the account). Write {origin} to silence this warning")
    return origin, ""


def _warn_once(entry: str, message: str) -> None:
    with _warned_lock:
        if entry in _warned:
            return
        _warned.add(entry)
    log.warning("%s", message)


class RefusedOrigins:
    """Logs a site whose pages were refused (not in ASSISTANT_ALLOWED_ORIGINS): once per origin per
    `interval` seconds. `clock` is injectable for tests."""

    def __init__(self, interval: float = REFUSED_LOG_INTERVAL, clock: Callable[[], float] = time.monotonic,
                 max_origins: int = 10_000) -> None:
        self.interval = interval
        self.clock = clock
        self.max_origins = max_origins
        self._logged: dict[str, float] = {}
        self._lock = threading.Lock()

    def note(self, origin: str) -> bool:
        """Log `origin` unless it was logged within the interval; True when it was logged now."""
        origin = origin[:200]
        now = self.clock()
        with self._lock:
            last = self._logged.get(origin)
            if last is not None and now - last < self.interval:
                return False
            if len(self._logged) >= self.max_origins:  # forget the ones logged longest ago
                for key in [k for k, t in self._logged.items() if now - t >= self.interval] or list(self._logged):
                    del self._logged[key]
            self._logged[origin] = now
        log.warning("refused a browser request from %r: that site is not in ASSISTANT_ALLOWED_ORIGINS "
                    "(add it there to let its pages use the widget)", origin)
        return True


class CORS(CORSMiddleware):
    """Starlette's CORS, which also notes the origin of a refused preflight (the request a browser
    sends before the widget's first question) in `refused`."""

    def __init__(self, app: ASGIApp, refused: RefusedOrigins, allow_origins: Sequence[str] = (),
                 allow_methods: Sequence[str] = ("GET",), allow_headers: Sequence[str] = (),
                 allow_credentials: bool = False, max_age: int = 600) -> None:
        super().__init__(app, allow_origins=allow_origins, allow_methods=allow_methods, allow_headers=allow_headers,
                         allow_credentials=allow_credentials, max_age=max_age)
        self.refused = refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "OPTIONS":
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin and "access-control-request-method" in headers and not self.is_allowed_origin(origin):
                self.refused.note(origin)
        await super().__call__(scope, receive, send)
