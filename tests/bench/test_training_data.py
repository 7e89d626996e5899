"""The reader's own training questions (bench/training/): each file passes the checker written for
them, and none comes from a site the assistant is developed or evaluated on."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

TRAINING = Path(__file__).resolve().parents[2] / "bench" / "training"
FILES = sorted((TRAINING / "questions").glob("*.jsonl"))
# the development and evaluation sites: their questions are how generalisation is seen, never trained on
NOT_FOR_TRAINING = ("os2produktmodning", "os2borgerpc", "os2display", "os2forms")


def test_there_are_training_files_to_check() -> None:
    assert len(FILES) >= 10


@pytest.mark.parametrize("file", FILES, ids=lambda f: f.stem)
def test_every_answer_sentence_and_near_miss_is_on_its_page(file: Path) -> None:
    run = subprocess.run([sys.executable, str(TRAINING / "check.py"), str(file)],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stdout[-2000:]
    assert " 0 problems" in run.stdout


@pytest.mark.parametrize("file", FILES, ids=lambda f: f.stem)
def test_no_question_comes_from_a_development_or_evaluation_site(file: Path) -> None:
    assert not any(name in file.stem.casefold() for name in NOT_FOR_TRAINING)
    for line in file.read_text(encoding="utf-8").splitlines():
        if line.strip():
            site = json.loads(line)["site"].casefold()
            assert not any(name in site for name in NOT_FOR_TRAINING), site
            assert site.split("@")[0].replace("/", "+") == file.stem.casefold()
