import os
import re
import subprocess
from pathlib import Path

import pytest

from assistant.errors import SourceError
from ingest import sources
from ingest.source_files import SourceFileError, read_source_file
from ingest.sources import (
    Checkout,
    SourceSpec,
    checkout,
    github_pages_url,
    load_sources,
    spec_from_argument,
)
from tests.conftest import REPO


def test_sources_file_paths_are_relative_to_the_file(tmp_path: Path):
    file = tmp_path / "sources.toml"
    file.write_text('[[source]]\nname = "a"\npath = "site"\nsite_url = "https://a.dk"\n')
    [spec] = load_sources(file)
    assert spec.path == (tmp_path / "site").resolve() and spec.site_url == "https://a.dk"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[[source]]\npath = 'x'\n", "'name' is missing"),
        ("[[source]]\nname = 'a'\n", "exactly one of 'path' or 'git'"),
        ("[[source]]\nname = 'a'\npath = 'x'\n[[source]]\nname = 'a'\npath = 'y'\n", "used twice: a"),
        ("title = 'no sources'\n", "no \\[\\[source\\]\\]"),
        ("[[source]\n", "not valid TOML"),
        ("[[source]]\nname = 'a'\npath = 'x'\nsite-url = 'https://a.dk'\n", r"\(a\): unknown field\(s\) 'site-url'"),
        ("[[source]]\nname = 'a'\npath = 3\n", "field 'path' must be a string"),
        ("[[source]]\nname = 'a'\npath = 'x'\nsite_url = 'javascript:alert(1)'\n", "field 'site_url' 'javascript"),
        ("[[source]]\nname = 'a'\npath = 'x'\nsite_url = '/../etc/'\n", "field 'site_url' '/../etc/'"),
        ("[[source]]\nname = 'a'\npath = 'x'\nsnapshot = 'y'\n", "'snapshot' is the fallback of a 'git' source"),
    ],
)
def test_bad_sources_file_names_the_file_and_the_field(tmp_path: Path, content: str, message: str):
    file = tmp_path / "sources.toml"
    file.write_text(content)
    with pytest.raises(SourceError, match=message):
        load_sources(file)


def test_missing_sources_file_says_how_to_fix_it(tmp_path: Path):
    with pytest.raises(SourceError, match="ASSISTANT_SOURCES_FILE"):
        load_sources(tmp_path / "nope.toml")


def test_command_line_source_can_be_a_folder_or_a_git_url(tmp_path: Path):
    assert spec_from_argument(str(tmp_path), None, None).name == tmp_path.name
    spec = spec_from_argument("https://github.com/OS2/docs.git", None, "https://os2.dk")
    assert (spec.name, spec.git, spec.site_url) == ("docs", "https://github.com/OS2/docs.git", "https://os2.dk")


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


def test_command_line_git_url_and_branch_are_checked():
    with pytest.raises(SourceError, match="'x'.*field 'git'.*starts with '-'"):
        spec_from_argument("-oProxyCommand=touch x.git", "x", None)
    with pytest.raises(SourceError, match="field 'branch'"):
        spec_from_argument("https://github.com/OS2/docs.git", None, None, branch="--upload-pack=x")
    spec = spec_from_argument("git@github.com:OS2/docs.git", None, None, branch="release/2026")
    assert (spec.name, spec.branch) == ("docs", "release/2026")


def test_source_file_inside_the_root_is_read_through_a_symlink(tmp_path: Path):
    (tmp_path / "a.md").write_bytes(b"# A\n")
    os.symlink(tmp_path / "a.md", tmp_path / "b.md")
    assert read_source_file(tmp_path, "b.md", 100) == b"# A\n"


@pytest.mark.timeout(60)
def test_source_files_that_are_not_regular_files_inside_the_root_are_refused(tmp_path: Path):
    root = tmp_path / "site"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text("[remote]\nurl = https://token@example.org\n")
    (tmp_path / "outside.md").write_text("hemmelig")
    os.symlink(tmp_path / "outside.md", root / "out.md")
    os.symlink(root / ".git" / "config", root / "config.md")
    os.mkfifo(root / "fifo.md")
    (root / "big.md").write_bytes(b"x" * 101)
    for rel, problem in [("out.md", "outside"), ("config.md", ".git"), ("fifo.md", "regular file"), ("big.md", "larger")]:
        with pytest.raises(SourceFileError, match=f"{rel}: .*{re.escape(problem)}"):
            read_source_file(root, rel, 100)


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


def test_a_source_round_trips_through_its_record(tmp_path: Path):
    spec = SourceSpec(name="docs", git="https://github.com/os2/docs.git", branch="main", site_url="https://os2.dk/",
                      snapshot=tmp_path / "snap")
    assert spec.to_record() == {"name": "docs", "git": "https://github.com/os2/docs.git", "branch": "main",
                                "site_url": "https://os2.dk/", "snapshot": str(tmp_path / "snap")}
    assert SourceSpec.from_record(spec.to_record(), "x") == spec


@pytest.mark.parametrize("record", [{"path": "/x"}, {"name": "a", "git": "--upload-pack=x"}, {"name": "a", "path": 3}, "a"])
def test_a_damaged_record_is_refused_naming_it(record: object):
    with pytest.raises(SourceError, match="the catalog"):
        SourceSpec.from_record(record, "the catalog")


@pytest.mark.parametrize(
    ("git", "url"),
    [
        ("https://github.com/chatbotberg/OS2produktmodning.git", "https://chatbotberg.github.io/OS2produktmodning/"),
        ("https://github.com/ChatBotBerg/OS2produktmodning", "https://chatbotberg.github.io/OS2produktmodning/"),
        ("git@github.com:os2/docs.git", "https://os2.github.io/docs/"),
        ("ssh://git@github.com/os2/docs.git", "https://os2.github.io/docs/"),
        ("https://github.com/os2/os2.github.io.git", "https://os2.github.io/"),
        ("https://gitlab.com/os2/docs.git", None),
        ("file:///srv/docs.git", None),
    ],
)
def test_the_github_pages_address_is_inferred_from_the_remote(git: str, url: str | None):
    assert github_pages_url(git) == url


def test_the_shipped_sources_file_follows_the_live_site_with_the_snapshot_as_fallback():
    specs = {s.name: s for s in load_sources(REPO / "corpus" / "sources.toml")}
    live = specs["os2produktmodning"]
    assert (live.git, live.branch) == ("https://github.com/chatbotberg/OS2produktmodning.git", "main")
    assert live.snapshot == REPO / "corpus" / "os2produktmodning"
    assert "url: https://chatbotberg.github.io/OS2produktmodning/" in (live.snapshot / "_config.yml").read_text()
    assert specs["brugervejledning"].site_url == "/guide/"
