"""`kill -9` of an ingest at random points: the index keeps answering and the next ingest completes."""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from assistant.catalog import Catalog
from assistant.service import Assistant
from assistant.settings import Settings
from assistant.store import collection_name, open_store
from tests.conftest import PRODUKTMODNING, PRODUKTMODNING_OLD, REPO


def test_kill_9_during_ingest_keeps_the_index_usable_and_consistent(index_old, index_current, copy_index, tmp_path):
    """Updates between the two site versions (vectors from the embedding cache, so the runs reach the
    writes quickly), each killed at a random point of a run's duration."""
    def command(site: Path) -> list[str]:
        return [sys.executable, "-m", "ingest", "--quiet", "--source", str(site), "--name", "os2produktmodning"]

    reference = tmp_path / "reference"
    shutil.copytree(index_old[0], reference)
    reference_env = {**os.environ, "ASSISTANT_INDEX_DIR": str(reference), "ASSISTANT_EMBEDDING_CACHE_DIR": str(index_current)}
    durations = []
    for site in (PRODUKTMODNING, PRODUKTMODNING_OLD, PRODUKTMODNING):  # the first run also warms caches
        started = time.time()
        subprocess.run(command(site), cwd=REPO, check=True, capture_output=True, timeout=300, env=reference_env)
        durations.append(time.time() - started)
    duration = min(durations)
    index_dir = copy_index(index_old[0])
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index_dir), "ASSISTANT_EMBEDDING_CACHE_DIR": str(index_current)}
    rng = random.Random(20261128)
    killed_while_running = 0
    for attempt in range(6):
        site = PRODUKTMODNING if attempt % 2 == 0 else PRODUKTMODNING_OLD
        process = subprocess.Popen(command(site), cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.45, 0.95) * duration)
        killed_while_running += process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        settings = Settings(index_dir=index_dir)
        answer = Assistant.open(settings).ask("Hvem leverer vedligeholdelsen af OS2forms?")
        assert answer.citations
        catalog = Catalog(index_dir)
        store = open_store(settings, collection_name(settings.collection, settings.chunking_signature()))
        assert catalog.chunk_ids() <= store.ids(), "every live chunk has its vector"
        catalog.close()
    assert killed_while_running >= 3
    finished = subprocess.run(command(PRODUKTMODNING), cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    clean, done = Catalog(index_current), Catalog(index_dir)
    assert done.counts() == clean.counts() and done.chunk_ids() == clean.chunk_ids()
    settings = Settings(index_dir=index_dir)
    assert open_store(settings, collection_name(settings.collection, settings.chunking_signature())).ids() == done.chunk_ids()
