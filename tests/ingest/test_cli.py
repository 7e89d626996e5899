import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def ingest_cli(*args: str, env_index: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(env_index)}
    return subprocess.run([sys.executable, "-m", "ingest", "--quiet", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=300, check=False)


def small_site(root: Path) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "_config.yml").write_text("url: https://cli.example.dk\n")
    (root / "docs" / "side.md").write_text("---\ntitle: Side\nparent: Docs\n---\n# Afsnit\nTekst om CLI.\n")
    return root


def test_cli_ingests_a_folder_reports_and_lists_chunks_as_json(tmp_path: Path):
    site = small_site(tmp_path / "site")
    result = ingest_cli("--source", str(site), "--name", "cli", env_index=tmp_path / "idx")
    assert result.returncode == 0, result.stderr
    assert "cli: 1 added, 0 changed, 0 removed, 0 unchanged pages" in result.stdout
    listed = ingest_cli("--list", env_index=tmp_path / "idx")
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["url"] == "https://cli.example.dk/docs/side.html#afsnit"
    assert (row["source"], row["path"], row["title"], row["heading"], row["anchor"]) == (
        "cli", "docs/side.md", "Side", "Afsnit", "afsnit")
    assert row["breadcrumb"] == ["Docs", "Side"] and row["text"] == "Tekst om CLI."


def test_index_flag_overrides_the_environment(tmp_path: Path):
    site = small_site(tmp_path / "site")
    result = ingest_cli("--source", str(site), "--index", str(tmp_path / "flag"), env_index=tmp_path / "env")
    assert result.returncode == 0
    assert (tmp_path / "flag" / "catalog.sqlite").is_file() and not (tmp_path / "env").exists()


def test_dry_run_writes_nothing(tmp_path: Path):
    site = small_site(tmp_path / "site")
    result = ingest_cli("--source", str(site), "--dry-run", env_index=tmp_path / "idx")
    assert result.returncode == 0 and "dry run" in result.stdout and "1 added" in result.stdout
    assert not (tmp_path / "idx" / "chroma").exists()


def test_failure_exits_non_zero_with_one_line_and_no_traceback(tmp_path: Path):
    result = ingest_cli("--source", str(tmp_path / "missing"), env_index=tmp_path / "idx")
    assert result.returncode == 1
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_list_without_an_index_says_to_ingest_first(tmp_path: Path):
    result = ingest_cli("--list", env_index=tmp_path / "none")
    assert result.returncode == 1 and "python -m ingest" in result.stderr


def test_without_source_arguments_the_index_reingests_the_sources_it_was_built_from(tmp_path: Path):
    site = small_site(tmp_path / "site")
    built = ingest_cli("--source", str(site), "--name", "cli", env_index=tmp_path / "idx")
    assert "source added to the index: cli" in built.stdout
    again = ingest_cli(env_index=tmp_path / "idx")  # corpus/sources.toml lists other sites: not read
    assert again.returncode == 0, again.stderr
    assert "cli: 0 added, 0 changed, 0 removed, 1 unchanged pages" in again.stdout
    assert "brugervejledning" not in again.stdout.replace("corpus/sources.toml differs", "")
    assert "corpus/sources.toml differs from the sources this index is built from (cli)" in again.stdout
    assert "python -m ingest --sources corpus/sources.toml" in again.stdout


def test_sources_are_added_and_removed_by_name_and_the_report_says_so(tmp_path: Path):
    one = small_site(tmp_path / "one")
    two = small_site(tmp_path / "two")
    ingest_cli("--source", str(one), "--name", "one", env_index=tmp_path / "idx")
    added = ingest_cli("--add-source", str(two), "--name", "two", env_index=tmp_path / "idx")
    assert added.returncode == 0, added.stderr
    assert f"source added to the index: two ({two})" in added.stdout and "one: 0 added" in added.stdout
    removed = ingest_cli("--remove-source", "one", env_index=tmp_path / "idx")
    assert f"source removed from the index (its pages with it): one ({one})" in removed.stdout
    assert "one: 0 added, 0 changed, 1 removed" in removed.stdout
    unknown = ingest_cli("--remove-source", "one", env_index=tmp_path / "idx")
    assert unknown.returncode == 1 and "the index has no such source (it has two)" in unknown.stderr


def test_source_flags_that_do_not_go_together_are_refused(tmp_path: Path):
    result = ingest_cli("--source", str(tmp_path), "--remove-source", "x", env_index=tmp_path / "idx")
    assert result.returncode == 1 and "use it alone" in result.stderr and "Traceback" not in result.stderr
    result = ingest_cli("--site-url", "https://x.dk", env_index=tmp_path / "idx")
    assert result.returncode == 1 and "describe a --source or --add-source" in result.stderr
