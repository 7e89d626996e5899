from collections import Counter
from pathlib import Path

from ingest.jekyll import absolute_url, is_published, kramdown_anchor, load_site_config, page_url_path


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
