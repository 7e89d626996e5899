import os
from collections import Counter
from pathlib import Path

import pytest

from assistant.sites.jekyll import (
    DEFAULT_EXCLUDE,
    absolute_url,
    is_published,
    kramdown_anchor,
    load_site_config,
    page_url_path,
    skip_reason,
    with_defaults,
)


def anchors(*headings: str) -> list[str]:
    seen: Counter[str] = Counter()
    return [kramdown_anchor(h, seen) for h in headings]


def test_anchor_keeps_danish_letters_and_lowercases():
    assert anchors("2026 målsætningen") == ["2026-målsætningen"]


def test_anchor_drops_punctuation_and_keeps_each_space():
    assert anchors("Referat :   OS2[produktnavn] møde") == ["referat----os2produktnavn-møde"]
    assert anchors("AD 6: Evt. & kik til næste møde") == ["ad-6-evt--kik-til-næste-møde"]


def test_repeated_headings_get_numbered_suffixes():
    assert anchors("Mål", "Mål", "Mål") == ["mål", "mål-1", "mål-2"]


def test_dotfolders_underscore_folders_and_excludes_are_not_published(tmp_path: Path):
    (tmp_path / "_config.yml").write_text("exclude:\n  - drafts/\n  - notes.md\n")
    config = load_site_config(tmp_path)
    assert is_published("docs/page.md", config)
    assert not is_published(".github/ISSUE_TEMPLATE/x.md", config)
    assert not is_published("_posts/x.md", config)
    assert not is_published("drafts/x.md", config)
    assert not is_published("notes.md", config)
    assert not is_published("node_modules/pkg/README.md", config)


def test_rendered_pages_get_html_urls_and_index_pages_their_folder():
    config = load_site_config(Path("/nonexistent"))
    assert page_url_path("docs/a b/side.md", {}, config) == "/docs/a b/side.html"
    assert page_url_path("docs/index.md", {}, config) == "/docs/"
    assert page_url_path("index.md", {}, config) == "/"
    assert page_url_path("docs/x.md", {"permalink": "/om/"}, config) == "/om/"


def test_markdown_without_front_matter_is_served_at_its_own_path():
    config = load_site_config(Path("/nonexistent"))
    assert page_url_path("README.md", None, config) == "/README.md"


def test_site_url_comes_from_config_then_cname_then_fallback(tmp_path: Path):
    (tmp_path / "_config.yml").write_text("url: https://example.org/\nbaseurl: /docs\n")
    assert absolute_url("/a b.html", load_site_config(tmp_path)) == "https://example.org/docs/a%20b.html"
    (tmp_path / "_config.yml").write_text("title: x\n")
    (tmp_path / "CNAME").write_text("docs.example.dk\n")
    assert load_site_config(tmp_path, "https://fallback").base == "https://docs.example.dk"
    (tmp_path / "CNAME").unlink()
    assert load_site_config(tmp_path, "https://fallback.dk/site/").base == "https://fallback.dk/site"


def test_invalid_config_yaml_warns_with_file_and_line(tmp_path: Path):
    (tmp_path / "_config.yml").write_text("title: x\nurl: [unclosed\n")
    config = load_site_config(tmp_path)
    assert config.warnings and "_config.yml" in config.warnings[0] and "line" in config.warnings[0]


@pytest.mark.parametrize(
    "url",
    [
        '"javascript:alert(1)"',
        '"https://ex ample.dk"',
        '"https://example.dk\\nSet-Cookie: x=1"',
        '"https://user:secret@example.dk"',
        '"https://example.dk/?utm=1"',
        '"https://"',
        '"ftp://example.dk"',
        '"https://example.dk:99999"',
    ],
)
def test_config_url_that_is_not_a_plain_http_site_url_is_refused_with_a_warning(tmp_path: Path, url: str):
    (tmp_path / "_config.yml").write_text(f"url: {url}\n")
    config = load_site_config(tmp_path, "https://fallback.dk")
    assert config.url == "https://fallback.dk"
    assert any(w.startswith("_config.yml: url") and "refused" in w for w in config.warnings)


@pytest.mark.parametrize("baseurl", ['"/docs\\r\\nSet-Cookie: x"', '"\\\\evil.example"', '"/docs?x=1"', '"/my docs"'])
def test_config_baseurl_with_control_characters_or_a_backslash_is_refused(tmp_path: Path, baseurl: str):
    (tmp_path / "_config.yml").write_text(f"url: https://example.dk\nbaseurl: {baseurl}\n")
    config = load_site_config(tmp_path)
    assert config.base == "https://example.dk"
    assert any(w.startswith("_config.yml: baseurl") for w in config.warnings)


@pytest.mark.parametrize("cname", ["SECRET=hunter2", "evil.example/x", "https://docs.example.dk", "-x.dk", "a b.dk"])
def test_cname_that_is_not_a_plain_hostname_is_refused(tmp_path: Path, cname: str):
    (tmp_path / "CNAME").write_text(cname + "\n")
    config = load_site_config(tmp_path, "https://fallback.dk")
    assert config.url == "https://fallback.dk"
    assert any(w.startswith("CNAME:") and "not a hostname" in w for w in config.warnings)


def test_idn_and_ip_site_urls_are_accepted(tmp_path: Path):
    (tmp_path / "CNAME").write_text("blåbær.example.dk\n")
    assert load_site_config(tmp_path).url == "https://blåbær.example.dk"
    (tmp_path / "_config.yml").write_text("url: http://127.0.0.1:4000\n")
    assert load_site_config(tmp_path).url == "http://127.0.0.1:4000"


def test_permalink_starting_with_two_slashes_stays_on_the_site():
    config = load_site_config(Path("/nonexistent"))
    assert page_url_path("a.md", {"permalink": "//evil.example/x"}, config) == "/evil.example/x"


@pytest.mark.timeout(60)
def test_config_yaml_alias_bomb_is_refused_not_expanded(tmp_path: Path):
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    (tmp_path / "_config.yml").write_text("\n".join(lines) + "\nexclude: *a8\n")
    config = load_site_config(tmp_path)
    assert config.exclude == DEFAULT_EXCLUDE
    assert any("_config.yml" in w and "aliases" in w for w in config.warnings)


@pytest.mark.timeout(60)
def test_config_that_is_a_fifo_is_skipped_with_a_warning(tmp_path: Path):
    os.mkfifo(tmp_path / "_config.yml")
    config = load_site_config(tmp_path)
    assert any(w.startswith("_config.yml: not a regular file") for w in config.warnings)


def config_of(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    (tmp_path / "_config.yml").write_text(text, encoding="utf-8")
    return load_site_config(tmp_path)


def test_a_collection_document_is_published_at_its_permalink_with_placeholders_filled(tmp_path: Path):
    config = config_of(tmp_path, "collections:\n  news:\n    output: true\n    permalink: /nyt/:year/:title/\n")
    assert skip_reason("_news/2024-03-01-Ny-Leverandør.md", config) is None
    assert page_url_path("_news/2024-03-01-Ny-Leverandør.md", {}, config) == "/nyt/2024/Ny-Leverandør/"


def test_a_collection_without_a_permalink_uses_the_collection_and_path(tmp_path: Path):
    config = config_of(tmp_path, "collections: {guides: {output: true}}\n")
    assert page_url_path("_guides/sub/start.md", {}, config) == "/guides/sub/start.html"


def test_a_collection_without_output_and_an_undeclared_underscore_folder_are_not_published(tmp_path: Path):
    config = config_of(tmp_path, "collections: [notes]\n")
    assert skip_reason("_notes/n.md", config) == "collection without output: true"
    assert skip_reason("_other/n.md", config) == "dotfile, `_`-folder or backup name"
    assert skip_reason("_drafts/n.md", config) == "draft (_drafts)"


def test_defaults_give_front_matter_by_path_and_the_more_specific_scope_wins(tmp_path: Path):
    config = config_of(tmp_path, "defaults:\n  - scope: {path: docs/gammel}\n    values: {permalink: /arkiv/:basename/}\n"
                                 "  - scope: {path: docs}\n    values: {permalink: /d/:basename/, layout: x}\n")
    front = with_defaults("docs/gammel/regler.md", {"title": "Regler"}, config)
    assert front == {"permalink": "/arkiv/:basename/", "layout": "x", "title": "Regler"}
    assert page_url_path("docs/gammel/regler.md", front, config) == "/arkiv/regler/"


def test_a_page_permalink_with_placeholders_is_filled():
    config = load_site_config(Path("/nonexistent"))
    assert page_url_path("docs/om.md", {"permalink": "/:path/:basename/"}, config) == "/docs/om/"


def test_collections_and_defaults_of_the_wrong_shape_warn_and_are_ignored(tmp_path: Path):
    config = config_of(tmp_path, "collections: 7\ndefaults: {scope: x}\n")
    assert set(config.collections) == {"posts"}
    assert config.defaults == ()
    assert any("collections" in w for w in config.warnings) and any("defaults" in w for w in config.warnings)
