"""GitHub push webhooks: signature check (X-Hub-Signature-256), replays, and which pushes trigger a
re-ingest. GitHub sends up to 25 MB per delivery; the body is hashed as it arrives."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections import OrderedDict

from assistant.sites.sources import SourceSpec

SIGNATURE_HEADER = re.compile(r"sha256=[0-9a-fA-F]{64}")  # what X-Hub-Signature-256 looks like


class Signature:
    """HMAC-SHA256 of a body fed in pieces as it arrives; keeps the body, once (no copy when it is
    read), for reading once it is verified."""

    def __init__(self, secret: str) -> None:
        self._mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
        self._sha = hashlib.sha256()
        self._body = bytearray()

    def update(self, piece: bytes) -> None:
        self._mac.update(piece)
        self._sha.update(piece)
        self._body += piece

    @property
    def size(self) -> int:
        return len(self._body)

    @property
    def digest(self) -> str:
        """The body's SHA-256: what a replay under a new delivery id has in common with the first."""
        return self._sha.hexdigest()

    @property
    def body(self) -> bytearray:
        return self._body

    def matches(self, header: str | None) -> bool:
        # As bytes: compare_digest raises TypeError on a str with non-ASCII characters ("sha256=æ").
        if not header or not header.startswith("sha256="):
            return False
        return hmac.compare_digest(("sha256=" + self._mac.hexdigest()).encode(), header.strip().encode())


def valid_signature(secret: str, body: bytes, header: str | None) -> bool:
    """HMAC-SHA256 of the raw body with the shared secret, compared in constant time."""
    if not secret:
        return False
    signature = Signature(secret)
    signature.update(body)
    return signature.matches(header)


class RecentDeliveries:
    """The last `keep` X-GitHub-Delivery ids and body digests: a replayed delivery starts no second
    job, nor does its signed body sent again under a new id (the id is not signed)."""

    def __init__(self, keep: int = 1000) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()

    def first_time(self, delivery: str, digest: str = "") -> bool:
        keys = [k for k in (f"id:{delivery}" if delivery else "", f"body:{digest}" if digest else "") if k]
        with self._lock:
            if any(k in self._seen for k in keys):
                return False
            for key in keys:
                self._seen[key] = None
            while len(self._seen) > 2 * self._keep:
                self._seen.popitem(last=False)
            return True


def _repository_key(url: str) -> str:
    """A repository URL as compared: GitHub's owner and repository names are case-insensitive
    (`github.com/chatbotberg/x` is `github.com/ChatBotBerg/x`), and `.git` or a final slash change nothing."""
    return url.rstrip("/").removesuffix(".git").lower()


def push_matches(body: bytes | bytearray, specs: list[SourceSpec]) -> bool:
    """A push to the branch of one of our git sources (any branch for a source without a branch)."""
    try:
        event = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
        return False
    if not isinstance(event, dict):  # valid JSON, but not an event: [], "x", 1
        return False
    ref = str(event.get("ref", ""))
    if not ref.startswith("refs/heads/"):
        return False
    branch = ref.removeprefix("refs/heads/")
    repository = event.get("repository")
    if not isinstance(repository, dict):  # a push must say which repository it is for
        return False
    urls = {_repository_key(str(repository.get(k, ""))) for k in ("clone_url", "html_url", "ssh_url", "git_url")}
    for spec in specs:
        if spec.git is None:
            continue
        same_repo = _repository_key(spec.git) in urls
        if same_repo and (spec.branch or repository.get("default_branch") or "main") == branch:
            return True
    return False
