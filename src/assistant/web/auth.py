"""Who may use the admin routes: a bearer token (scripts) or a signed session cookie (the admin page).

The admin page never carries the token in a URL (URLs end up in access logs, history and Referer
headers): a login form posts it once, and the reply sets a session cookie (HttpOnly, Secure,
SameSite=Strict, signed with a key derived from the token, expiring). A state-changing request
authenticated by the cookie must also send the page's CSRF token in `X-CSRF-Token`. Changing
ASSISTANT_ADMIN_TOKEN ends every session. Nothing here renders pages.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time

from fastapi import HTTPException, Request, Response

from assistant.settings import Settings
from assistant.web import texts

COOKIE = "admin_session"
SESSION_S = 8 * 3600
CSRF_HEADER = "x-csrf-token"


def _key(settings: Settings) -> bytes:
    assert settings.admin_token
    return hmac.new(settings.admin_token.encode(), b"admin session cookie v1", hashlib.sha256).digest()


def _sign(settings: Settings, text: str) -> str:
    return hmac.new(_key(settings), text.encode(), hashlib.sha256).hexdigest()


def token_matches(settings: Settings, given: str) -> bool:
    return bool(settings.admin_token and given) and hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), str(settings.admin_token).encode())


def new_session(settings: Settings, response: Response, now: float | None = None) -> None:
    """Set a fresh session cookie on `response`."""
    expires = int((now if now is not None else time.time()) + SESSION_S)
    body = f"{expires}.{secrets.token_urlsafe(16)}"
    response.set_cookie(COOKIE, f"{body}.{_sign(settings, body)}", max_age=SESSION_S, path="/",
                        secure=True, httponly=True, samesite="strict")


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")


def session_id(settings: Settings, request: Request) -> str | None:
    """The id of a valid, unexpired session cookie, or None."""
    if not settings.admin_token:
        return None
    value = request.cookies.get(COOKIE, "")
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2].encode("utf-8", "surrogatepass"), _sign(settings, body).encode()):
        return None
    if int(parts[0]) < time.time():
        return None
    return parts[1]


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
    if _bearer(request):
        if token_matches(settings, _bearer(request)):
            return None
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
