"""GitHub push webhooks: signature check (X-Hub-Signature-256) and which pushes trigger a re-ingest."""

from __future__ import annotations

import hashlib
import hmac
import json

from ingest.sources import SourceSpec


def valid_signature(secret: str, body: bytes, header: str | None) -> bool:
    """HMAC-SHA256 of the raw body with the shared secret, compared in constant time."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    # As bytes: compare_digest raises TypeError on a str with non-ASCII characters ("sha256=æ").
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def push_matches(body: bytes, specs: list[SourceSpec]) -> bool:
    """A push to the branch of one of our git sources (any branch for a source without a branch)."""
    try:
        event = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    if not isinstance(event, dict):  # valid JSON, but not an event: [], "x", 1
        return False
    ref = str(event.get("ref", ""))
    if not ref.startswith("refs/heads/"):
        return False
    branch = ref.removeprefix("refs/heads/")
    repository = event.get("repository") or {}
    if not isinstance(repository, dict):
        return False
    urls = {str(repository.get(k, "")).rstrip("/").removesuffix(".git") for k in ("clone_url", "html_url", "ssh_url", "git_url")}
    for spec in specs:
        if spec.git is None:
            continue
        same_repo = spec.git.rstrip("/").removesuffix(".git") in urls or not any(urls)
        if same_repo and (spec.branch or repository.get("default_branch") or "main") == branch:
            return True
    return False
