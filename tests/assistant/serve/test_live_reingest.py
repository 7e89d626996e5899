"""Queries fired during a re-ingest are answered wholly from the old or wholly from the new version."""

import threading

from assistant.serve.service import Assistant
from assistant.settings import Settings
from assistant.sites.sources import SourceSpec
from ingest.pipeline import ingest
from ingest.site import scan_site
from tests.conftest import PRODUKTMODNING, PRODUKTMODNING_OLD

QUESTIONS = [
    "Hvem leverer vedligeholdelsen af OS2forms?",
    "Hvad er talentudvikling i OS2?",
    "Hvornår er netværksmødet for produktforvaltere?",
    "Hvad er sekretariatets rolle for OS2borgerPC?",
    "Hvad indeholder roadmap for OS2display?",
]


def test_queries_during_the_update_never_mix_versions(index_old, index_current, copy_index):
    index_dir = copy_index(index_old[0])
    settings = Settings(index_dir=index_dir, embedding_cache_dir=index_current)  # read only: it has every text
    assistant = Assistant.open(settings)
    old_pages = {p.path for p in scan_site(PRODUKTMODNING_OLD, "x").pages}
    new_pages = {p.path for p in scan_site(PRODUKTMODNING, "x").pages}
    done = threading.Event()
    results: list[tuple[int, set[str]]] = []
    errors: list[BaseException] = []

    def ask_continuously() -> None:
        i = after = 0
        while after < 5:  # keep asking until five questions ran after the ingest finished
            after += done.is_set()
            try:
                snapshot = assistant.retriever.snapshot()
                answer = assistant.ask(QUESTIONS[i % len(QUESTIONS)])
                results.append((snapshot.version, {c.path for c in answer.citations}))
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            i += 1

    asker = threading.Thread(target=ask_continuously)
    asker.start()
    ingest(settings, [SourceSpec(name="os2produktmodning", path=PRODUKTMODNING)], progress=False)
    done.set()
    asker.join(120)
    assert not errors
    versions = {v for v, _ in results}
    assert len(versions) == 2, "queries ran both before and after the switch"
    for _, cited in results:
        assert cited <= old_pages or cited <= new_pages
        assert cited <= old_pages | new_pages
