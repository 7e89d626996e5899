import pytest

from assistant.sites.markdown_file import ParseError, decode_markdown, markdown_files
from tests.conftest import CORPUS, PRODUKTMODNING_OLD, needs_shared


@needs_shared  # the damaged page and its original
def test_johab_mojibake_is_repaired_exactly():
    """The damaged copy is of a later revision (front matter differs); its body is the same text."""
    damaged = (CORPUS / "damaged" / "sekretariatsbisdand-mojibake.md").read_bytes()
    original = next(PRODUKTMODNING_OLD.rglob("sekretariatsbisdand.md")).read_text(encoding="utf-8")
    text, warnings = decode_markdown(damaged, "damaged.md")
    body = text.split("\n---\n", 1)[1]
    assert body.rstrip() == original.split("\n---\n", 1)[1].rstrip()
    assert "økonomi" in body.lower() or "ø" in body
    assert warnings


def test_utf8_bom_is_removed():
    text, _ = decode_markdown("\ufeff# Øl".encode(), "bom.md")
    assert text == "# Øl"


def test_windows_1252_text_is_read_with_a_warning():
    text, warnings = decode_markdown("# Målsætning".encode("cp1252"), "ansi.md")
    assert text == "# Målsætning" and "Windows-1252" in warnings[0]


def test_binary_file_is_refused_with_its_name():
    with pytest.raises(ParseError, match="logo.md"):
        decode_markdown(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "logo.md")


def test_huge_file_is_refused_with_its_size():
    with pytest.raises(ParseError, match="huge.md: 50.0 MB"):
        decode_markdown(b"a" * 50_000_000, "huge.md")


def test_markdown_files_are_listed_in_order_without_entering_linked_folders(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "side.md").write_text("x")
    (tmp_path / "a.markdown").write_text("x")
    (tmp_path / "billede.png").write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "b")
    assert markdown_files(tmp_path) == ["a.markdown", "b/side.md"]
