import os
import re
from pathlib import Path

import pytest

from assistant.sites.source_files import SourceFileError, read_source_file


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
