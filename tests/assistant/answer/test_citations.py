"""Every citation of every answer to the dev questions opens a page and anchor of the real build."""

import json

import pytest

from assistant.models import turns_from
from assistant.serve.service import Assistant
from assistant.settings import Settings
from tests.conftest import BORGERPC, PRODUKTMODNING, SHARED, needs_shared
from tests.jekyll_site import BuiltSite, build_site

pytestmark = pytest.mark.jekyll


@needs_shared  # the dev questions
@pytest.mark.parametrize(("root", "index_fixture", "questions"), [
    (PRODUKTMODNING, "index_current", "dev-os2produktmodning.jsonl"),
    (BORGERPC, "index_borgerpc", "dev-os2borgerpc-docs.jsonl"),
], ids=["os2produktmodning", "os2borgerpc-docs"])
def test_every_citation_opens_a_built_page_and_anchor(root, index_fixture, questions, request, tmp_path):
    site = BuiltSite(root, build_site(root, tmp_path))
    assistant = Assistant.open(Settings(index_dir=request.getfixturevalue(index_fixture)))
    checked = 0
    for line in (SHARED / "eval" / questions).read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        answer = assistant.ask(q["question"], turns_from(q["history"]))
        for citation in answer.citations:
            site.check(citation.url, q["id"])
            site.check(citation.fragment_url, q["id"])
            checked += 1
    assert checked >= 20
