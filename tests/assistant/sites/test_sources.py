from pathlib import Path

import pytest

from assistant.errors import SourceError
from assistant.sites.sources import SourceSpec, github_pages_url, load_sources, spec_from_argument
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
        ("[[source]]\nname = 'a'\npath = 'x'\ngenerator = 'hugo'\n", "field 'generator' 'hugo' is not one of 'jekyll', 'mkdocs'"),
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


def test_command_line_git_url_and_branch_are_checked():
    with pytest.raises(SourceError, match="'x'.*field 'git'.*starts with '-'"):
        spec_from_argument("-oProxyCommand=touch x.git", "x", None)
    with pytest.raises(SourceError, match="field 'branch'"):
        spec_from_argument("https://github.com/OS2/docs.git", None, None, branch="--upload-pack=x")
    spec = spec_from_argument("git@github.com:OS2/docs.git", None, None, branch="release/2026")
    assert (spec.name, spec.branch) == ("docs", "release/2026")


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


def test_a_source_can_name_its_generator_and_the_index_records_it(tmp_path: Path):
    file = tmp_path / "sources.toml"
    file.write_text('[[source]]\nname = "a"\npath = "site"\ngenerator = "mkdocs"\n')
    [spec] = load_sources(file)
    assert spec.generator == "mkdocs"
    assert SourceSpec.from_record(spec.to_record(), "the index").generator == "mkdocs"
