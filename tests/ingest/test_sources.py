import subprocess
from pathlib import Path

import pytest

from assistant.errors import SourceError
from assistant.sites.sources import SourceSpec, load_sources
from ingest import sources
from ingest.sources import Checkout, checkout


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@x", *args], cwd=cwd, check=True,
                   capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "index.md").write_text("---\ntitle: Forside\n---\nFørste version.\n", encoding="utf-8")
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    return repo


@pytest.mark.parametrize("branch", ["main", None])
def test_git_source_is_cloned_and_then_fetched(repo: Path, tmp_path: Path, branch: str | None):
    spec = SourceSpec(name="docs", git=f"file://{repo}", branch=branch)
    target = checkout(spec, tmp_path / "cache").root
    assert "Første version." in (target / "index.md").read_text(encoding="utf-8")
    (repo / "index.md").write_text("---\ntitle: Forside\n---\nAnden version.\n", encoding="utf-8")
    git("commit", "-q", "-am", "v2", cwd=repo)
    assert checkout(spec, tmp_path / "cache") == Checkout(target)
    assert "Anden version." in (target / "index.md").read_text(encoding="utf-8")


def test_branch_git_would_read_as_an_option_is_refused_in_the_sources_file(repo: Path, tmp_path: Path):
    file = tmp_path / "sources.toml"
    file.write_text(f'[[source]]\nname = "docs"\ngit = "file://{repo}"\nbranch = "--upload-pack=touch x;true"\n')
    with pytest.raises(SourceError, match=r"source #1 \(docs\): field 'branch' '--upload-pack"):
        load_sources(file)


def test_branch_option_injection_runs_nothing_when_an_existing_clone_is_fetched(repo: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    checkout(SourceSpec(name="docs", git=f"file://{repo}"), cache)
    marker = tmp_path / "pwned"
    evil = SourceSpec(name="docs", git=f"file://{repo}", branch=f"--upload-pack=touch {marker};true")
    with pytest.raises(SourceError, match="'docs': field 'branch'"):
        checkout(evil, cache)
    assert not marker.exists()


@pytest.mark.parametrize("branch", ["a..b", "a b", "x.lock", "@{-1}", "a:b", "/a", "-x", "a\nb"])
def test_invalid_branch_names_are_refused(repo: Path, tmp_path: Path, branch: str):
    with pytest.raises(SourceError, match="'branch'"):
        checkout(SourceSpec(name="docs", git=f"file://{repo}", branch=branch), tmp_path / "cache")


def test_ext_transport_is_refused_even_when_the_environment_allows_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "ext:file:https:ssh")
    marker = tmp_path / "pwned"
    spec = SourceSpec(name="docs", git=f"ext::sh -c touch% {marker}")
    with pytest.raises(SourceError, match="field 'git'.*transport"):
        checkout(spec, tmp_path / "cache")
    assert not marker.exists()


def test_git_itself_only_gets_https_ssh_and_file_transports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Should a URL get past the check, git refuses the transport: the environment cannot widen it."""
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "ext")
    marker = tmp_path / "pwned"
    spec = SourceSpec(name="docs", git="unchecked")
    with pytest.raises(SourceError, match="not allowed"):
        sources._git(spec, ["clone", "--", f"ext::sh -c touch% {marker}", str(tmp_path / "clone")], timeout=30)
    assert not marker.exists()


@pytest.mark.parametrize(
    "url",
    [
        "-oProxyCommand=touch x",
        "--upload-pack=touch x;true",
        "ssh://-oProxyCommand=touch%20x/repo.git",
        "git@-oProxyCommand=x:repo.git",
        "git://example.org/repo.git",
        "http://example.org/repo.git",
        "fd::17",
    ],
)
def test_git_urls_that_are_options_or_other_transports_are_refused(tmp_path: Path, url: str):
    file = tmp_path / "sources.toml"
    file.write_text(f'[[source]]\nname = "docs"\ngit = "{url}"\n')
    with pytest.raises(SourceError, match=r"\(docs\): field 'git'"):
        load_sources(file)
    with pytest.raises(SourceError, match="field 'git'"):
        checkout(SourceSpec(name="docs", git=url), tmp_path / "cache")


def test_a_git_source_that_cannot_be_fetched_reads_its_snapshot_and_says_so(repo: Path, tmp_path: Path):
    spec = SourceSpec(name="docs", git=f"file://{tmp_path}/not-there.git", snapshot=repo)
    found = checkout(spec, tmp_path / "cache")
    assert found.root == repo
    assert "cannot fetch" in found.notice and f"reading the snapshot {repo}" in found.notice


def test_a_git_source_that_cannot_be_fetched_again_reads_its_last_clone(repo: Path, tmp_path: Path):
    spec = SourceSpec(name="docs", git=f"file://{repo}", snapshot=tmp_path / "old-snapshot")
    clone = checkout(spec, tmp_path / "cache").root
    repo.rename(tmp_path / "moved")  # the remote is gone: no internet
    found = checkout(spec, tmp_path / "cache")
    assert found.root == clone and "reading the clone fetched" in found.notice
    assert "Første version." in (clone / "index.md").read_text(encoding="utf-8")


def test_an_unreachable_git_source_without_a_snapshot_fails_and_keeps_the_index(tmp_path: Path):
    with pytest.raises(SourceError, match="'docs': cannot fetch .*; the index keeps its last version"):
        checkout(SourceSpec(name="docs", git=f"file://{tmp_path}/not-there.git"), tmp_path / "cache")


def test_a_missing_snapshot_is_named(tmp_path: Path):
    spec = SourceSpec(name="docs", git=f"file://{tmp_path}/not-there.git", snapshot=tmp_path / "snap", origin="s.toml")
    with pytest.raises(SourceError, match=f"snapshot folder {tmp_path / 'snap'} does not exist — check s.toml"):
        checkout(spec, tmp_path / "cache")


def test_a_missing_folder_says_where_to_fix_it(tmp_path: Path):
    file = tmp_path / "sources.toml"
    file.write_text('[[source]]\nname = "a"\npath = "gone"\n')
    [spec] = load_sources(file)
    with pytest.raises(SourceError, match=f"folder {tmp_path / 'gone'} does not exist — fix its 'path' in {file}"):
        checkout(spec, tmp_path / "cache")
    recorded = SourceSpec.from_record(spec.to_record(), "the index")
    with pytest.raises(SourceError, match="--add-source FOLDER --name a`, or remove it with `--remove-source a`"):
        checkout(recorded, tmp_path / "cache")
