from pathlib import Path

import pytest

from assistant.errors import SourceError
from assistant.sites.factory import detect_generator, open_site


def test_a_folder_with_mkdocs_yml_is_an_mkdocs_site_and_any_other_jekyll(tmp_path: Path):
    assert detect_generator(tmp_path) == "jekyll"
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    assert detect_generator(tmp_path) == "mkdocs"


def test_an_unknown_generator_is_refused_with_the_ones_there_are(tmp_path: Path):
    with pytest.raises(SourceError, match="unknown generator 'hugo'.*jekyll, mkdocs"):
        open_site(tmp_path, "hugo")


def test_a_named_generator_wins_over_detection(tmp_path: Path):
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    assert open_site(tmp_path, "jekyll").generator == "jekyll"
