import hashlib
import hmac
import json

import pytest

from assistant.serve.webhooks import push_matches, valid_signature
from assistant.sites.sources import SourceSpec

SECRET = "hemmelig"


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_signature_must_match_the_secret():
    body = b'{"ref": "refs/heads/main"}'
    assert valid_signature(SECRET, body, sign(body))
    assert not valid_signature(SECRET, body, sign(body, "forkert"))
    assert not valid_signature(SECRET, body + b" ", sign(body))
    assert not valid_signature(SECRET, body, None)
    assert not valid_signature("", body, sign(body, ""))


def test_signature_with_non_ascii_characters_is_wrong_not_an_error():
    assert not valid_signature(SECRET, b"{}", "sha256=æ" + "0" * 63)


def push(ref: str, url: str = "https://github.com/os2/docs") -> bytes:
    return json.dumps({"ref": ref, "repository": {"clone_url": url + ".git", "html_url": url,
                                                  "default_branch": "main"}}).encode()


def test_only_pushes_to_a_sources_branch_trigger():
    specs = [SourceSpec(name="docs", git="https://github.com/os2/docs.git", branch="main")]
    assert push_matches(push("refs/heads/main"), specs)
    assert not push_matches(push("refs/heads/feature"), specs)
    assert not push_matches(push("refs/tags/v1"), specs)
    assert not push_matches(push("refs/heads/main", "https://github.com/other/repo"), specs)
    assert not push_matches(b"not json", specs)


@pytest.mark.parametrize("body", [b"[]", b'"refs/heads/main"', b"1", b"null",
                                  b'{"ref": "refs/heads/main", "repository": "https://github.com/os2/docs"}',
                                  b'{"ref": "refs/heads/main", "repository": [1]}'])
def test_json_that_is_not_a_push_event_triggers_nothing(body):
    specs = [SourceSpec(name="docs", git="https://github.com/os2/docs.git", branch="main")]
    assert not push_matches(body, specs)


def test_a_push_matches_the_source_whatever_the_case_of_the_owner():
    """GitHub sends `ChatBotBerg/OS2produktmodning`; corpus/sources.toml names `chatbotberg/OS2produktmodning`."""
    specs = [SourceSpec(name="os2produktmodning", git="https://github.com/chatbotberg/OS2produktmodning.git", branch="main")]
    assert push_matches(push("refs/heads/main", "https://github.com/ChatBotBerg/OS2produktmodning"), specs)


def test_a_signed_body_replayed_with_a_new_delivery_id_starts_no_second_job():
    """The delivery id is not signed: a captured body sent again under a new id is the same push (#22)."""
    from assistant.serve.webhooks import RecentDeliveries, Signature

    deliveries = RecentDeliveries()
    first, replay, other = Signature("s"), Signature("s"), Signature("s")
    for signature, body in ((first, b'{"after": "1"}'), (replay, b'{"after": "1"}'), (other, b'{"after": "2"}')):
        signature.update(body)
    assert deliveries.first_time("id-1", first.digest)
    assert not deliveries.first_time("id-2", replay.digest)
    assert deliveries.first_time("id-3", other.digest)
    assert not deliveries.first_time("id-3", "")
