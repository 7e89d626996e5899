import os
from pathlib import Path

import pytest

from assistant.errors import SourceError
from ingest import site
from ingest.site import scan_site

FRONT = "---\ntitle: {t}\n---\n# {t}\nTekst om {t}.\n"


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_missing_folder_is_a_clear_error_naming_the_source(tmp_path: Path):
    with pytest.raises(SourceError, match="'mysite'.*does not exist"):
        scan_site(tmp_path / "nope", "mysite")


def test_empty_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(SourceError, match="no markdown files"):
        scan_site(tmp_path, "empty")


def test_folder_named_like_markdown_is_walked_not_read(tmp_path: Path):
    write(tmp_path, "møde.md/agenda.md", FRONT.format(t="Agenda"))
    pages = scan_site(tmp_path, "s").pages
    assert [p.path for p in pages] == ["møde.md/agenda.md"]
    assert pages[0].url == "/m%C3%B8de.md/agenda.html"


def test_binary_and_huge_files_are_skipped_with_warnings_and_the_rest_ingested(tmp_path: Path):
    write(tmp_path, "ok.md", FRONT.format(t="OK"))
    (tmp_path / "logo.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    (tmp_path / "huge.md").write_bytes(b"---\ntitle: x\n---\n" + b"ord " * 13_000_000)
    scan = scan_site(tmp_path, "s")
    assert [p.path for p in scan.pages] == ["ok.md"]
    assert any("logo.md" in w for w in scan.warnings)
    assert any("huge.md" in w and "MB" in w for w in scan.warnings)


def test_symlink_loop_and_symlink_outside_the_root_are_not_followed(tmp_path: Path):
    root = tmp_path / "site"
    write(root, "docs/a.md", FRONT.format(t="A"))
    write(tmp_path, "secret.md", FRONT.format(t="Hemmelig"))
    os.symlink(root / "docs", root / "docs" / "loop")
    os.symlink(tmp_path / "secret.md", root / "docs" / "secret.md")
    os.symlink(root / "docs" / "self.md", root / "docs" / "self.md")
    scan = scan_site(root, "s")
    assert [p.path for p in scan.pages] == ["docs/a.md"]
    assert any("secret.md" in w and "outside" in w for w in scan.warnings)
    assert any("self.md" in w for w in scan.warnings)


def test_unpublished_files_and_redirect_pages_are_not_ingested(tmp_path: Path):
    write(tmp_path, "_config.yml", "url: https://x.dk\nexclude: [kladder]\n")
    write(tmp_path, "index.md", FRONT.format(t="Forside"))
    write(tmp_path, ".github/skabelon.md", FRONT.format(t="Skabelon"))
    write(tmp_path, "_includes/del.md", FRONT.format(t="Del"))
    write(tmp_path, "kladder/udkast.md", FRONT.format(t="Udkast"))
    write(tmp_path, "gammel.md", "---\ntitle: Gammel\nredirect_to: /ny.html\n---\nFlyttet.\n")
    pages = scan_site(tmp_path, "s").pages
    assert [(p.path, p.url) for p in pages] == [("index.md", "https://x.dk/")]


def test_invalid_front_matter_warns_and_the_page_is_still_ingested(tmp_path: Path):
    write(tmp_path, "side.md", "---\ntitle: [x\n---\n# Side\nIndhold.\n")
    scan = scan_site(tmp_path, "s")
    assert scan.pages[0].sections[-1].blocks == ["Indhold."]
    assert any("side.md" in w and "line" in w for w in scan.warnings)


@pytest.mark.parametrize("secret", ["file", "environ"])
def test_cname_symlink_out_of_the_source_never_becomes_the_site_url(tmp_path: Path, secret: str):
    root = tmp_path / "site"
    write(root, "index.md", FRONT.format(t="Forside"))
    write(tmp_path, "secret", "SECRET=hunter2\n")
    target = tmp_path / "secret" if secret == "file" else Path("/proc/self/environ")  # Linux: always there
    os.symlink(target, root / "CNAME")
    scan = scan_site(root, "s", site_url="https://docs.example.dk")
    assert [p.url for p in scan.pages] == ["https://docs.example.dk/"]
    assert any(w.startswith("CNAME: symlink points outside") for w in scan.warnings)


def test_config_symlink_out_of_the_source_is_not_read(tmp_path: Path):
    root = tmp_path / "site"
    write(root, "index.md", FRONT.format(t="Forside"))
    write(tmp_path, "secret.yml", "url: https://SECRET-hunter2.example.dk\n")
    os.symlink(tmp_path / "secret.yml", root / "_config.yml")
    scan = scan_site(root, "s", site_url="https://docs.example.dk")
    assert [p.url for p in scan.pages] == ["https://docs.example.dk/"]
    assert any(w.startswith("_config.yml: symlink points outside") for w in scan.warnings)


@pytest.mark.timeout(60)
def test_fifo_named_like_markdown_is_skipped_with_a_warning_and_does_not_block(tmp_path: Path):
    write(tmp_path, "ok.md", FRONT.format(t="OK"))
    os.mkfifo(tmp_path / "x.md")
    os.mkfifo(tmp_path / "CNAME")
    scan = scan_site(tmp_path, "s")
    assert [p.path for p in scan.pages] == ["ok.md"]
    assert any("x.md: not a regular file" in w for w in scan.warnings)
    assert any("CNAME: not a regular file" in w for w in scan.warnings)


def test_page_that_parses_slower_than_the_budget_is_ingested_with_a_warning(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(site, "PARSE_BUDGET_SECONDS", 0.0)
    write(tmp_path, "side.md", FRONT.format(t="Side"))
    scan = scan_site(tmp_path, "s")
    assert [p.path for p in scan.pages] == ["side.md"]
    assert any(w.startswith("s: side.md: parsing took") and "budget" in w for w in scan.warnings)


def test_a_site_without_a_published_url_warns_once_naming_the_fix(tmp_path: Path):
    for name in ("a", "b", "c"):
        write(tmp_path, f"{name}.md", FRONT.format(t=name))
    scan = scan_site(tmp_path, "borgerpc")
    missing = [w for w in scan.warnings if "no published URL" in w]
    assert len(missing) == 1 and missing[0].startswith("borgerpc: ")
    assert "--site-url" in missing[0] and "site_url" in missing[0] and "sources.toml" in missing[0]
    assert all(p.url.startswith("/") for p in scan.pages)


def test_an_inferred_site_url_is_used_and_said(tmp_path: Path):
    write(tmp_path, "docs/a.md", FRONT.format(t="A"))
    scan = scan_site(tmp_path, "borgerpc", inferred_url="https://os2borgerpc.github.io/os2borgerpc-docs/")
    assert [p.url for p in scan.pages] == ["https://os2borgerpc.github.io/os2borgerpc-docs/docs/a.html"]
    assert not any("no published URL" in w for w in scan.warnings)
    assert scan.notices == ["no url in _config.yml, no CNAME and no site_url: citations link to "
                            "https://os2borgerpc.github.io/os2borgerpc-docs/, inferred from its GitHub remote "
                            "(set site_url to change it)"]


def test_the_sites_own_url_wins_over_an_inferred_one(tmp_path: Path):
    write(tmp_path, "_config.yml", "url: https://docs.os2.dk\n")
    write(tmp_path, "a.md", FRONT.format(t="A"))
    scan = scan_site(tmp_path, "s", inferred_url="https://os2.github.io/docs/")
    assert scan.pages[0].url == "https://docs.os2.dk/a.html" and not scan.notices and not scan.warnings


def test_a_page_with_published_false_is_not_ingested(tmp_path: Path):
    write(tmp_path, "offentlig.md", FRONT.format(t="Offentlig"))
    write(tmp_path, "hemmelig.md", "---\ntitle: Hemmelig\npublished: false\n---\n# Hemmelig\nIkke udgivet.\n")
    assert [p.path for p in scan_site(tmp_path, "s").pages] == ["offentlig.md"]


def test_a_file_name_that_is_not_utf8_is_skipped_with_a_warning_and_the_rest_ingested(tmp_path: Path):
    write(tmp_path, "ok.md", FRONT.format(t="OK"))
    write_bytes_named(tmp_path, b"caf\xe9.md", FRONT.format(t="Cafe").encode())
    scan = scan_site(tmp_path, "s")
    assert [p.path for p in scan.pages] == ["ok.md"]
    assert any("caf\\xe9.md" in w and "UTF-8" in w for w in scan.warnings), scan.warnings


def write_bytes_named(root: Path, name: bytes, data: bytes) -> None:
    """A file whose name is these bytes (not necessarily UTF-8)."""
    with open(os.path.join(os.fsencode(root), name), "wb") as file:
        file.write(data)
