"""Settings: secrets that are no secrets, and proxies that are no addresses, refuse to start."""

import subprocess
import sys

import pytest

from assistant.errors import ConfigError
from assistant.settings import Settings
from tests.conftest import REPO

GOOD = "Zq3v8W1bX0pL5nR7tY2uK9sD4fG6hJ"


@pytest.mark.parametrize("variable", ["ASSISTANT_ADMIN_TOKEN", "ASSISTANT_WEBHOOK_SECRET"])
@pytest.mark.parametrize("value", ["change-me", "change-me-too", "CHANGE-ME-please-this-is-long-enough", "kort-token"])
def test_a_placeholder_or_short_secret_is_refused_naming_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        Settings.load()
    assert variable in str(error.value) and "secrets.token_urlsafe" in str(error.value)


def test_a_real_secret_is_accepted_and_an_empty_one_means_off(monkeypatch):
    monkeypatch.setenv("ASSISTANT_ADMIN_TOKEN", GOOD)
    monkeypatch.setenv("ASSISTANT_WEBHOOK_SECRET", "")
    settings = Settings.load()
    assert settings.admin_token == GOOD and settings.webhook_secret is None


def test_trusted_proxies_must_be_addresses_or_networks(monkeypatch):
    monkeypatch.setenv("ASSISTANT_TRUSTED_PROXIES", "127.0.0.1, 172.28.0.0/24")
    assert Settings.load().trusted_proxies
    monkeypatch.setenv("ASSISTANT_TRUSTED_PROXIES", "nginx")
    with pytest.raises(ConfigError, match="ASSISTANT_TRUSTED_PROXIES"):
        Settings.load()


def test_the_app_does_not_start_with_the_example_files_secrets(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "ASSISTANT_ADMIN_TOKEN": "change-me", "ASSISTANT_INDEX_DIR": str(tmp_path / "i")}
    result = subprocess.run([sys.executable, "app.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "ASSISTANT_ADMIN_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_the_shipped_examples_carry_no_secret():
    example = (REPO / "deploy" / "assistant.env.example").read_text()
    values = dict(line.split("=", 1) for line in example.splitlines() if line.startswith("ASSISTANT_") and "=" in line)
    assert values["ASSISTANT_ADMIN_TOKEN"] == "" and values["ASSISTANT_WEBHOOK_SECRET"] == ""
    compose = (REPO / "deploy" / "compose.yaml").read_text()
    assert "change-me" not in compose and "${ASSISTANT_ADMIN_TOKEN:?" in compose
