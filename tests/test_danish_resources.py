"""bin/danish-resources (run by bin/setup): the optional Danish word list and thesaurus are installed
where apt-get can, and otherwise named with what the assistant loses without them."""

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "bin" / "danish-resources"


def run(tmp_path: Path, apt: str | None = None, **env: str) -> subprocess.CompletedProcess:
    paths = {"SETUP_DANISH_DICTIONARY": str(tmp_path / "dict" / "danish"),
             "SETUP_DANISH_THESAURUS": str(tmp_path / "mythes" / "th_da_DK.dat")}
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if apt is not None:  # a fake apt-get: records its arguments, then runs `apt`
        fake = bin_dir / "apt-get"
        fake.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/apt.log\n{apt}\n')
        fake.chmod(0o755)
    path = f"{bin_dir}:/usr/bin:/bin" if apt is not None else "/usr/bin/nonexistent:/bin"
    return subprocess.run(["bash", str(SCRIPT)], env={**os.environ, **paths, "PATH": path, **env},
                          capture_output=True, text=True, timeout=60)


def test_nothing_is_said_when_both_are_there(tmp_path: Path):
    for name in ("dict/danish", "mythes/th_da_DK.dat"):
        (tmp_path / name).parent.mkdir(parents=True)
        (tmp_path / name).write_text("x")
    done = run(tmp_path)
    assert done.returncode == 0 and done.stderr == ""


def test_each_missing_resource_is_named_with_its_package_and_what_is_lost(tmp_path: Path):
    done = run(tmp_path, ASSISTANT_SETUP_APT="0")
    assert done.returncode == 0
    assert "(Debian package wdanish) is missing: compound words are split less" in done.stderr
    assert "(Debian package mythes-da) is missing: questions worded unlike the pages find less" in done.stderr
    assert "apt-get install wdanish mythes-da" in done.stderr


def test_as_root_with_apt_get_they_are_installed(tmp_path: Path):
    if os.geteuid() != 0:
        return  # the install path needs root; the report path is tested above
    creates = (f'mkdir -p {tmp_path}/dict {tmp_path}/mythes && touch {tmp_path}/dict/danish '
               f'{tmp_path}/mythes/th_da_DK.dat')
    done = run(tmp_path, apt=creates)
    assert done.returncode == 0 and "installing the Danish resources wdanish mythes-da" in done.stderr
    assert "is missing" not in done.stderr
    assert (tmp_path / "apt.log").read_text().splitlines() == ["install -y -qq wdanish mythes-da"]


def test_a_failed_install_is_reported_and_setup_goes_on(tmp_path: Path):
    if os.geteuid() != 0:
        return
    done = run(tmp_path, apt="exit 100")
    assert done.returncode == 0
    assert "apt-get could not install wdanish mythes-da" in done.stderr and "mythes-da) is missing" in done.stderr
    assert (tmp_path / "apt.log").read_text().splitlines() == [
        "install -y -qq wdanish mythes-da", "update -qq", "install -y -qq wdanish mythes-da"]
