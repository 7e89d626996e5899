from pathlib import Path

import pytest

from assistant.errors import SourceError
from assistant.sites.mkdocs import open_mkdocs_site
from assistant.sites.mkdocs_markdown import flatten_blocks, toc_slug, unique_id


def site(tmp_path: Path, config: str):  # type: ignore[no-untyped-def]
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    return open_mkdocs_site(tmp_path)


def test_invalid_yaml_in_mkdocs_yml_is_a_clear_error_naming_the_file(tmp_path: Path):
    with pytest.raises(SourceError, match=r"mkdocs\.yml: invalid YAML \(line 2"):
        site(tmp_path, "site_name: x\nnav: a: b\n")


def test_a_docs_dir_outside_the_source_is_refused(tmp_path: Path):
    with pytest.raises(SourceError, match="docs_dir '../x' is not a folder inside the source"):
        site(tmp_path, "docs_dir: ../x\n")


def test_python_tags_in_mkdocs_yml_are_read_as_data_not_run(tmp_path: Path):
    config = "markdown_extensions:\n  - toc:\n      slugify: !!python/name:pymdownx.slugs.uslugify\n"
    assert site(tmp_path, config).unicode_slugs


def test_pages_are_served_at_directory_urls_or_html_files(tmp_path: Path):
    assert site(tmp_path, "site_name: x\n").url_path("a/b.md") == "/a/b/"
    assert site(tmp_path, "use_directory_urls: false\n").url_path("a/b.md") == "/a/b.html"
    assert site(tmp_path, "site_name: x\n").url_path("a/README.md") == "/a/"


def test_exclude_docs_are_gitignore_patterns(tmp_path: Path):
    reader = site(tmp_path, "exclude_docs: |\n  *.tmp.md\n  /intern/\n  !intern/offentlig.md\n")
    assert reader.skip_reason("docs/a/b.tmp.md") == "exclude_docs in mkdocs.yml"
    assert reader.skip_reason("docs/intern/x.md") == "exclude_docs in mkdocs.yml"
    assert reader.skip_reason("docs/intern/offentlig.md") is None
    assert reader.skip_reason("docs/a/intern/x.md") is None


def test_toc_slugs_are_ascii_by_default_and_unique_with_underscores():
    used: set[str] = set()
    assert [unique_id(toc_slug(t), used) for t in ("Søg & find", "Søg & find", "Første skridt")] == [
        "sg-find", "sg-find_1", "frste-skridt"]
    assert toc_slug("Søg & find", unicode=True) == "søg-find"


def test_an_admonition_body_is_dedented_under_a_bold_title():
    text, _ = flatten_blocks('!!! warning "Pas på"\n    Tekst.\n\nEfter.\n')
    assert text.split() == ["**Pas", "på**", "Tekst.", "Efter."]


def test_an_explicit_id_belongs_to_its_own_heading_after_a_setext_heading():
    from assistant.sites.mkdocs_markdown import flatten_blocks

    text = "Overblik\n========\n\nTekst.\n\n## Opsætning { #setup }\n\nMere.\n\nAndet { #andet }\n------\n\n- punkt\n---\n"
    flattened, ids = flatten_blocks(text)
    assert ids == {1: "setup", 2: "andet"}  # 0 is "Overblik", the setext heading before them
    assert "## Opsætning\n" in flattened and "Andet\n------" in flattened
