"""Shared fixtures: every data folder under tmp_path, the shared corpora, and ingested indexes.

Ingesting a real site embeds ~500 chunks (~15 s on 2 cores), so the indexes that many tests read
are built once per session; tests that change an index work on a copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.offline import go_offline

go_offline()

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"  # the shared corpora and question sets, beside the checkout
CORPUS = SHARED / "corpus"
# The site the repo ships as its default is the same 2026-07-14 state: on a fresh machine (nothing
# beside the clone) the tests that need only it read the repo's copy.
PRODUKTMODNING = CORPUS / "os2produktmodning" if (CORPUS / "os2produktmodning").is_dir() else \
    REPO / "corpus" / "os2produktmodning"
PRODUKTMODNING_OLD = CORPUS / "os2produktmodning-2026-02-15"
BORGERPC = CORPUS / "os2borgerpc-docs"
WITHOUT_SHARED = (f"reads the shared corpora or question sets, and {SHARED} does not exist "
                  "(put the shared folder beside the checkout)")
# For the tests that read ../shared beyond the default site: skipped on a fresh machine, run wherever
# ../shared is (CI): never skipped there.
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=WITHOUT_SHARED)


def require_shared(path: Path) -> Path:
    """`path` under ../shared, or skip the test (and every test of a session fixture) that needs it."""
    if not path.exists():
        pytest.skip(f"{path}: {WITHOUT_SHARED}" if not SHARED.is_dir() else f"{path} does not exist")
    return path


def pytest_report_header() -> str:
    return f"shared corpora: {SHARED}" if SHARED.is_dir() else \
        f"shared corpora: {SHARED} is missing: the tests that read it are skipped (the rest run on the repo's own site)"


@pytest.fixture(autouse=True)
def _data_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing a test does writes into the checkout."""
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ASSISTANT_EMBEDDING_CACHE_DIR", raising=False)


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    from assistant.settings import Settings

    return Settings(index_dir=tmp_path / "index", cache_dir=tmp_path / "cache")


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedding cache for the session: each chunk text is embedded at most once."""
    return tmp_path_factory.mktemp("embedding-cache")


def _build(index_dir: Path, source: Path, name: str, cache: Path | None):  # type: ignore[no-untyped-def]
    from assistant.settings import Settings
    from assistant.sites.sources import SourceSpec
    from ingest.pipeline import ingest

    settings = Settings(index_dir=index_dir, cache_dir=index_dir.parent / "cache", embedding_cache_dir=cache)
    return ingest(settings, [SourceSpec(name=name, path=source)], progress=False)


@pytest.fixture(scope="session")
def index_old(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """os2produktmodning as of 2026-02-15, with its own embedding cache (for exact counts)."""
    index_dir = tmp_path_factory.mktemp("old") / "index"
    report = _build(index_dir, require_shared(PRODUKTMODNING_OLD), "os2produktmodning", None)
    return index_dir, report


@pytest.fixture(scope="session")
def index_current(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """os2produktmodning as of 2026-07-14: the 2026-02-15 index brought up to date (built from the
    2026-07-14 pages alone where ../shared, and so the older state, is missing)."""
    index_dir = tmp_path_factory.mktemp("current") / "index"
    if PRODUKTMODNING_OLD.exists():
        shutil.copytree(request.getfixturevalue("index_old")[0], index_dir)
    _build(index_dir, PRODUKTMODNING, "os2produktmodning", None)
    return index_dir


@pytest.fixture
def copy_index(tmp_path: Path):  # type: ignore[no-untyped-def]
    def copy(index_dir: Path) -> Path:
        target = tmp_path / "index"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(index_dir, target)
        return target

    return copy


@pytest.fixture(scope="session")
def index_borgerpc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("borgerpc") / "index"
    _build(index_dir, require_shared(BORGERPC), "os2borgerpc-docs", None)
    return index_dir


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A real `chroma run` on 127.0.0.1 (the binary ships with the chromadb package)."""
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    chroma = Path(sys.executable).parent / "chroma"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path_factory.mktemp("chroma-server")
    log = (data / "server.log").open("w")
    process = subprocess.Popen([str(chroma), "run", "--path", str(data / "db"), "--host", "127.0.0.1",
                                "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            break
        except OSError:
            if time.time() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"chroma run did not start: {(data / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
    yield port
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


class SmallDisk:
    """A real filesystem of a few MB (tmpfs, mounted by root as CI runs), to fill up on purpose."""

    def __init__(self, path: Path, size: str) -> None:
        import subprocess

        self.path = path
        path.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)

    def fill(self) -> None:
        """Write until the disk refuses: what is on it stays, nothing more fits."""
        with (self.path / "filler").open("wb", buffering=0) as out:
            try:
                while True:
                    out.write(b"\0" * 65536)
            except OSError:
                pass

    def unmount(self) -> None:
        import subprocess

        subprocess.run(["umount", "-l", str(self.path)], check=False)


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """small_disk("2m") → a SmallDisk under tmp_path, unmounted after the test."""
    disks: list[SmallDisk] = []

    def make(size: str) -> SmallDisk:
        disks.append(SmallDisk(tmp_path / f"small-disk-{len(disks)}", size))
        return disks[-1]

    yield make
    for disk in disks:
        disk.unmount()
