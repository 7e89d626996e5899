"""Who may use the admin routes: a bearer token (scripts) or a signed session cookie (the admin page).

The admin page never carries the token in a URL (URLs end up in access logs, history and Referer
headers): a login form posts it once, and the reply sets a session cookie (HttpOnly, Secure,
SameSite=Strict, signed with a key derived from the token, expiring). A state-changing request
authenticated by the cookie must also send the page's CSRF token in `X-CSRF-Token`.

A signed cookie alone would stay valid until it expires: the process also keeps the live sessions
(`Sessions`, in memory), so that logging out ends that session and a change of ASSISTANT_ADMIN_TOKEN
ends every one (a restart does too: log in again). Several instances keep their own sessions, so a
proxy sends each client's admin requests to one instance (deploy/nginx.conf: ip_hash). Wrong tokens, as a bearer header or in the login
form, are counted per client (`AdminGuesses`): past ADMIN_GUESSES_PER_MINUTE the client gets 429 and
no token is checked for it until the minute has passed; each refusal is logged with the client's
address, never the token. Nothing here renders pages.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable

from fastapi import HTTPException, Request, Response

from assistant.settings import Settings
from assistant.web import texts

COOKIE = "admin_session"
SESSION_S = 8 * 3600
CSRF_HEADER = "x-csrf-token"
ADMIN_GUESSES_PER_MINUTE = 10  # wrong admin tokens a client may send a minute (bearer and login form together)
MAX_SESSIONS = 1000  # live sessions kept; the oldest goes first
log = logging.getLogger("web.auth")
_state_lock = threading.Lock()


def _key(settings: Settings) -> bytes:
    assert settings.admin_token
    return hmac.new(settings.admin_token.encode(), b"admin session cookie v1", hashlib.sha256).digest()


def _sign(settings: Settings, text: str) -> str:
    return hmac.new(_key(settings), text.encode(), hashlib.sha256).hexdigest()


def token_matches(settings: Settings, given: str) -> bool:
    return bool(settings.admin_token and given) and hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), str(settings.admin_token).encode())


class Sessions:
    """The live admin sessions of this process: the cookie's nonce → when it expires, for one admin
    token (its fingerprint). Another token clears them all, even if the first comes back."""

    def __init__(self) -> None:
        self._live: dict[str, float] = {}
        self._token = ""
        self._lock = threading.Lock()

    def _for(self, token: str) -> None:
        if token != self._token:
            self._live.clear()
            self._token = token

    def observe(self, token: str) -> None:
        """The admin token in use now (its fingerprint): another than before ends every session."""
        with self._lock:
            self._for(token)

    def start(self, token: str, expires: float) -> str:
        nonce = secrets.token_urlsafe(16)
        with self._lock:
            self._for(token)
            if len(self._live) >= MAX_SESSIONS:
                del self._live[min(self._live, key=self._live.__getitem__)]
            self._live[nonce] = expires
        return nonce

    def valid(self, token: str, nonce: str, now: float) -> bool:
        with self._lock:
            self._for(token)
            return self._live.get(nonce, 0) > now

    def end(self, nonce: str) -> None:
        with self._lock:
            self._live.pop(nonce, None)


class AdminGuesses:
    """Wrong admin tokens per client in a sliding minute (`clock`: seconds, injectable for tests)."""

    def __init__(self, per_minute: int = ADMIN_GUESSES_PER_MINUTE, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._wrong: dict[str, deque[float]] = {}
        self._noted: dict[str, float] = {}  # when a client's limit was last logged
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may try a token again; 0 when it may now."""
        now = self.clock()
        with self._lock:
            window = self._wrong.get(client)
            while window and now - window[0] >= 60:
                window.popleft()
            if not window or len(window) < self.per_minute:
                return 0
            if now - self._noted.get(client, float("-inf")) >= 60:
                self._noted[client] = now
                log.warning("admin token guesses from %s: %d wrong in a minute; refused (429) for %d s",
                            client, len(window), int(60 - (now - window[0])) + 1)
            return int(60 - (now - window[0])) + 1

    def wrong(self, client: str, where: str) -> None:
        now = self.clock()
        with self._lock:
            self._wrong.setdefault(client, deque()).append(now)
            if len(self._wrong) > 10_000:  # forget idle clients
                for key in [k for k, w in self._wrong.items() if not w or now - w[-1] >= 60]:
                    del self._wrong[key]
        log.warning("wrong admin token from %s (%s)", client, where)


def _state(request: Request, name: str, make: Callable[[], object]) -> object:
    with _state_lock:
        if getattr(request.app.state, name, None) is None:
            setattr(request.app.state, name, make())
        return getattr(request.app.state, name)


def sessions(request: Request) -> Sessions:
    return _state(request, "admin_sessions", Sessions)  # type: ignore[return-value]


def guesses(request: Request) -> AdminGuesses:
    return _state(request, "admin_guesses", AdminGuesses)  # type: ignore[return-value]


def client_of(request: Request) -> str:
    return request.client.host if request.client else "?"


def refuse_while_guessing(request: Request) -> None:
    """429 with Retry-After for a client past ADMIN_GUESSES_PER_MINUTE wrong tokens."""
    retry = guesses(request).retry_after(client_of(request))
    if retry:
        raise HTTPException(429, texts.TOO_MANY_GUESSES.format(retry=retry), headers={"Retry-After": str(retry)})


def _fingerprint(settings: Settings) -> str:
    return hashlib.sha256(_key(settings)).hexdigest()


def new_session(request: Request, response: Response, now: float | None = None) -> None:
    """Start a session and set its cookie on `response`."""
    settings: Settings = request.app.state.settings
    expires = int((now if now is not None else time.time()) + SESSION_S)
    body = f"{expires}.{sessions(request).start(_fingerprint(settings), expires)}"
    response.set_cookie(COOKIE, f"{body}.{_sign(settings, body)}", max_age=SESSION_S, path="/",
                        secure=True, httponly=True, samesite="strict")


def end_session(request: Request, response: Response) -> None:
    """End the request's session on the server and delete its cookie."""
    settings: Settings = request.app.state.settings
    session = session_id(settings, request)
    if session is not None:
        sessions(request).end(session)
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")


def session_id(settings: Settings, request: Request) -> str | None:
    """The id of a valid, unexpired, live session cookie, or None."""
    if not settings.admin_token:
        return None
    sessions(request).observe(_fingerprint(settings))
    value = request.cookies.get(COOKIE, "")
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2].encode("utf-8", "surrogatepass"), _sign(settings, body).encode()):
        return None
    now = time.time()
    if int(parts[0]) < now or not sessions(request).valid(_fingerprint(settings), parts[1], now):
        return None
    return parts[1]


def insecure_host(request: Request) -> str:
    """The host when the request came over plain http to a host other than localhost (a browser
    drops a Secure cookie there, so a login cannot hold); "" otherwise."""
    host = (request.url.hostname or "").lower()
    if request.url.scheme == "https" or host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost"):
        return ""
    return host


def csrf_token(settings: Settings, session: str) -> str:
    return _sign(settings, f"csrf:{session}")


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def require_admin(request: Request, *, changes_state: bool = False) -> str | None:
    """Allow a valid bearer token, or a valid session cookie (with the CSRF token when the request
    changes something). Returns the session id (None for bearer requests); raises 401/403 otherwise."""
    settings: Settings = request.app.state.settings
    if not settings.admin_token:
        raise HTTPException(403, texts.ADMIN_OFF)
    sessions(request).observe(_fingerprint(settings))
    if _bearer(request):
        refuse_while_guessing(request)
        if token_matches(settings, _bearer(request)):
            return None
        guesses(request).wrong(client_of(request), f"bearer, {request.method} {request.url.path}")
        raise HTTPException(401, texts.WRONG_TOKEN, headers={"WWW-Authenticate": "Bearer"})
    session = session_id(settings, request)
    if session is None:
        raise HTTPException(401, texts.WRONG_TOKEN, headers={"WWW-Authenticate": "Bearer"})
    if changes_state and not hmac.compare_digest(
            request.headers.get(CSRF_HEADER, "").encode("utf-8", "surrogatepass"), csrf_token(settings, session).encode()):
        raise HTTPException(403, texts.NO_CSRF)
    return session


ADMIN_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}

_SECRET_IN_QUERY = re.compile(r"(?i)([?&](?:token|access_token|api_key|key|secret|password)=)[^&\s\"]*")


def redact_url(text: str) -> str:
    """A URL or request line with secret-looking query values replaced: for log lines."""
    return _SECRET_IN_QUERY.sub(r"\1[skjult]", text)


class RedactSecrets(logging.Filter):
    """On uvicorn's access log: a token someone still puts in a URL never reaches the log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_url(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact_url(record.msg)
        return True


def install_log_redaction() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
