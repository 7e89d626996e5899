from pathlib import Path

import pytest

from assistant.errors import SourceError
from ingest.sources import load_sources, spec_from_argument


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
