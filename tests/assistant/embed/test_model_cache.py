"""Where prepared models live: the setting, else beside the virtual environment, else the user's cache
folder; never the checkout's data folder. And the one progress line for each thing prepared."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from assistant.embed import model_cache
from assistant.embed.embedder import model_cache_folder

REPO = Path(__file__).resolve().parents[3]


def test_the_setting_names_the_model_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE_DIR", str(tmp_path / "models"))
    assert model_cache_folder() == tmp_path / "models"
    assert model_cache_folder(tmp_path / "given") == tmp_path / "given"  # a caller's settings win


def test_by_default_it_lies_beside_the_virtual_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("ASSISTANT_MODEL_CACHE_DIR", raising=False)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    assert model_cache_folder() == tmp_path / "venv" / "share" / "assistant-models"


def test_without_a_writable_environment_it_is_the_users_cache_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("ASSISTANT_MODEL_CACHE_DIR", raising=False)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    monkeypatch.setattr(model_cache, "_writable", lambda folder: False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert model_cache.default_location() == tmp_path / "xdg" / "assistant"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert model_cache.default_location() == tmp_path / "home" / ".cache" / "assistant"


def test_the_system_python_uses_the_users_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "prefix", "/usr")
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert model_cache.default_location() == tmp_path / "xdg" / "assistant"


def test_the_default_is_never_the_checkouts_data_folder(monkeypatch):
    monkeypatch.delenv("ASSISTANT_MODEL_CACHE_DIR", raising=False)
    location = model_cache_folder().resolve()
    assert not location.is_relative_to(REPO / "data")
    assert not location.is_relative_to(REPO) or location.is_relative_to(Path(sys.prefix).resolve())


def test_preparing_says_what_where_and_how_long(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="assistant")
    with model_cache.preparing("e5: unpacking", tmp_path / "e5", "5-10 s"):
        pass
    started, done = [r.getMessage() for r in caplog.records]
    assert "e5: unpacking" in started and str(tmp_path / "e5") in started and "about 5-10 s" in started
    assert done.startswith("Prepared: e5: unpacking in ")


def test_a_failure_while_preparing_is_not_reported_as_prepared(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="assistant")
    with pytest.raises(OSError), model_cache.preparing("e5", tmp_path, "5 s"):
        raise OSError("disk full")
    assert not any("Prepared" in r.getMessage() for r in caplog.records)
