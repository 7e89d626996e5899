"""`kill -9` of an ingest at each of its progress points: the index keeps answering, catalog and
vectors agree, and the next ingest completes.

The ingest runs as the CLI does, in a process of its own, and logs a line at each named point of its
work (ingest/pipeline.py). Here a logging handler makes it stop itself (SIGSTOP) right after the line
for the chosen point; the test reads the line on its stderr and sends SIGKILL. So every kill lands
exactly at its point however busy the machine is — no sleeping, no timing.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from assistant.index.catalog_sqlite import SqliteCatalog
from assistant.index.store import ChromaStore, collection_name, open_store
from assistant.serve.service import Assistant
from assistant.settings import Settings
from assistant.sites.sources import SourceSpec
from ingest.pipeline import ingest
from tests.conftest import PRODUKTMODNING, PRODUKTMODNING_OLD, REPO

# `python -c` this with: point, then the CLI's arguments. The handler comes after the CLI's own
# stderr handler (same configuration as ingest/__main__.py), so the line is out before the stop.
STOP_AT = """
import logging, os, signal, sys
point = sys.argv[1]

class StopAt(logging.Handler):
    def emit(self, record):
        if getattr(record, "progress", None) == point:
            os.kill(os.getpid(), signal.SIGSTOP)

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
logging.getLogger().addHandler(StopAt())
from ingest.__main__ import main
sys.exit(main(sys.argv[2:]))
"""


def cli(site: Path) -> list[str]:
    return ["--quiet", "--source", str(site), "--name", "os2produktmodning"]


def kill_at(point: str, site: Path, env: dict[str, str]) -> list[str]:
    """Run an ingest of `site` until it logs `point`, kill -9 it there; its stderr lines so far."""
    process = subprocess.Popen([sys.executable, "-c", STOP_AT, point, *cli(site)], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    lines = []
    try:
        for line in process.stderr:
            lines.append(line)
            if line.startswith(f"INFO progress {point}:"):
                break
        else:
            raise AssertionError(f"the ingest ended (exit {process.wait()}) without reaching {point}:\n{''.join(lines)}")
        assert process.poll() is None, "stopped at the point, so still running when killed"
        process.send_signal(signal.SIGKILL)
        assert process.wait(60) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
    return lines


def store_of(settings: Settings) -> ChromaStore:
    return open_store(settings, collection_name(settings.collection, settings.chunking_signature()))


def check_usable(index_dir: Path, expected: set[str]) -> None:
    """The catalog is one whole version (`expected`: its chunk ids), each of its chunks has a readable
    vector (read, not only listed), and the Assistant opens it, finds nothing to repair, and answers.
    Every Chroma client is closed afterwards: the next one reads what the next ingest wrote."""
    settings = Settings(index_dir=index_dir)
    catalog = SqliteCatalog(index_dir)
    live = catalog.chunk_ids()
    catalog.close()
    assert live == expected
    store = store_of(settings)
    try:
        assert live <= store.ids() and store.missing_vectors(sorted(live)) == []
    finally:
        store.close()
    assistant = Assistant.open(settings)
    try:
        vectors = assistant.status()["vectors"]
        assert (vectors["checked"], vectors["missing"]) == (len(live), 0)
        answer = assistant.ask("Hvem leverer vedligeholdelsen af OS2forms?")
        assert answer.answered and answer.citations[0].path.endswith("OS2forms.md")
    finally:
        assistant.retriever.store.close()


def test_kill_9_at_each_progress_point_keeps_the_index_usable_and_consistent(index_old, index_current, copy_index):
    """Updates between the two site versions on a copy of the old index. The copy's embedding cache
    has the old texts only, so the first update embeds the new ones with the model (cached in batches
    of 16, so that there are at least three)."""
    import re

    index_dir = copy_index(index_old[0])
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index_dir), "ASSISTANT_EMBEDDING_CACHE_BATCH": "16"}
    old, new = set(SqliteCatalog(index_old[0]).chunk_ids()), set(SqliteCatalog(index_current).chunk_ids())

    lines = kill_at("embedded-batch-2", PRODUKTMODNING, env)
    assert "progress embedded-batch-1:" in "".join(lines)
    batches = int(re.search(r"batch 1 of (\d+) ", "".join(lines)).group(1))  # type: ignore[union-attr]
    assert batches >= 3
    check_usable(index_dir, old)

    lines = kill_at("vectors-stored", PRODUKTMODNING, env)  # resumes: batches 1 and 2 come from the cache
    embedded = [line for line in lines if "progress embedded-batch" in line]
    assert len(embedded) == batches - 2 and f"batch 1 of {batches - 2} " in embedded[0]
    check_usable(index_dir, old)  # the new vectors are in the store, but not live

    kill_at("catalog-committed", PRODUKTMODNING, env)
    check_usable(index_dir, new)  # the new version is live; the old vectors are still in the store

    kill_at("stale-deleted", PRODUKTMODNING_OLD, env)
    check_usable(index_dir, old)

    kill_at("vectors-checked", PRODUKTMODNING, env)
    check_usable(index_dir, new)

    for site, expected in ((PRODUKTMODNING_OLD, old), (PRODUKTMODNING, new)):
        finished = subprocess.run([sys.executable, "-m", "ingest", *cli(site)], cwd=REPO, env=env,
                                  capture_output=True, text=True, timeout=300)
        assert finished.returncode == 0, finished.stderr
        assert "INFO progress vectors-checked: " in finished.stderr
        check_usable(index_dir, expected)
    clean, done = SqliteCatalog(index_current), SqliteCatalog(index_dir)
    assert done.counts() == clean.counts()
    store = store_of(Settings(index_dir=index_dir))
    assert store.ids() == done.chunk_ids()  # the vectors left by the killed runs are gone
    store.close()


def test_an_ingest_logs_its_progress_points_in_order(index_old, index_current, copy_index, caplog):
    settings = Settings(index_dir=copy_index(index_old[0]), embedding_cache_dir=index_current)
    with caplog.at_level(logging.INFO, logger="ingest"):
        ingest(settings, [SourceSpec("os2produktmodning", PRODUKTMODNING)], progress=False)
    points = [r.progress for r in caplog.records if hasattr(r, "progress")]
    assert points == ["scanned", "vectors-stored", "catalog-committed", "stale-deleted", "vectors-checked"]


def test_an_ingest_writes_missing_vectors_of_unchanged_pages_again(index_old, index_current, copy_index):
    """Vectors of live chunks gone from the store (not from the catalog): the next ingest that writes
    finds them in its check and writes them again from the embedding cache."""
    settings = Settings(index_dir=copy_index(index_old[0]), embedding_cache_dir=index_current)
    unchanged = sorted(set(SqliteCatalog(index_old[0]).chunk_ids()) & set(SqliteCatalog(index_current).chunk_ids()))
    damaged = unchanged[::25]
    assert len(damaged) >= 5
    store_of(settings)._collection.delete(ids=damaged)
    report = ingest(settings, [SourceSpec("os2produktmodning", PRODUKTMODNING)], progress=False)
    assert report.vectors is not None
    # A damaged chunk on a page the update rewrites gets its vector from that write, not from the check.
    missing = report.vectors.missing
    assert 0 < missing <= len(damaged) and (report.vectors.repaired, report.vectors.embedded) == (missing, 0)
    assert f"{missing} without a readable vector, {missing} repaired" in report.lines()[-1]
    assert store_of(settings).missing_vectors(sorted(SqliteCatalog(settings.index_dir).chunk_ids())) == []

