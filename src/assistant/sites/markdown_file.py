"""A markdown file as Jekyll reads it, before markdown is parsed: bytes to text (UTF-8 or
Windows-1252, mojibake repaired), the front matter, Liquid and HTML comments removed; and the markdown
files of a site folder.

Shared by ingest (ingest/parse.py turns the text into sections) and the sites the assistant serves
itself (web/guide.py renders it). It does not parse markdown, nor decide what is published (jekyll.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import ftfy
import yaml

from assistant.sites.safe_yaml import load_yaml

MAX_FILE_BYTES = 5 * 1024 * 1024  # a docs page this large is a mistake, not a page

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
# Block openers and closers; the text between them is found with str.find / search, never with a
# lazy `.*?` (which rescans to the end of the page from every opener that has no closer: quadratic).
_COMMENT_OPEN = re.compile(r"{%-?\s*comment\s*-?%}")
_COMMENT_CLOSE = re.compile(r"{%-?\s*endcomment\s*-?%}")
_RAW_OPEN = re.compile(r"{%-?\s*raw\s*-?%}")
_RAW_CLOSE = re.compile(r"{%-?\s*endraw\s*-?%}")
_LIQUID_OPENER = re.compile(r"{[%{]")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_DANISH = re.compile(r"[æøåÆØÅ]")
LIQUID_MARK = "\u2063"  # invisible separator: marks where Liquid output was removed


class ParseError(Exception):
    """The file cannot be read as text (binary, undecodable, too large)."""


def decode_markdown(data: bytes, name: str) -> tuple[str, list[str]]:
    """Bytes → text: UTF-8 (BOM or not), repairing mojibake; ParseError for binary files."""
    warnings: list[str] = []
    if len(data) > MAX_FILE_BYTES:
        raise ParseError(f"{name}: {len(data) / 1e6:.1f} MB is larger than {MAX_FILE_BYTES // 10**6} MB")
    if b"\x00" in data[:8192]:
        raise ParseError(f"{name}: binary file (NUL bytes), not markdown")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise ParseError(f"{name}: neither UTF-8 nor Windows-1252 text ({exc.reason})") from None
        warnings.append(f"{name}: not UTF-8; read as Windows-1252")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > max(8, len(text) // 100):
        raise ParseError(f"{name}: looks binary ({controls} control characters), not markdown")
    repaired = repair_mojibake(text)
    if repaired != text:
        warnings.append(f"{name}: repaired mis-decoded text (mojibake)")
    return repaired, warnings


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 that was decoded with the wrong codec.

    Korean johab (seen in the wild on a Danish page: `ø` became `칮`) is not repaired by ftfy, so it
    is tried first: only when the page contains Hangul and the round trip gives valid UTF-8 with
    Danish letters and no Hangul left. Anything else goes through ftfy's conservative fixer.
    """
    if _HANGUL.search(text):
        try:
            candidate = text.encode("johab").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            candidate = ""
        if candidate and _DANISH.search(candidate) and not _HANGUL.search(candidate):
            return candidate
    return ftfy.fix_encoding(text)


def split_front_matter(text: str, name: str) -> tuple[dict | None, str, list[str]]:
    """Front matter as Jekyll reads it; invalid YAML warns (file and line) and counts as empty."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return None, text, []
    body = text[match.end():]
    raw = match.group(1) or ""
    # Keep line numbers of the body: blank lines stand in for the front matter.
    body = "\n" * match.group(0).count("\n") + body
    try:
        data = load_yaml(raw) if raw.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        return {}, body, [f"{name}: invalid front matter{where}: {problem}; body ingested anyway"]
    if not isinstance(data, dict):
        return {}, body, [f"{name}: front matter is not a mapping; ignored"]
    return data, body, []


def strip_liquid(text: str) -> str:
    """Comment blocks removed, raw blocks unwrapped, then `{% tags %}` removed and `{{ output }}`
    marked; each pass in linear time."""
    text = _replace_blocks(text, _COMMENT_OPEN, _COMMENT_CLOSE, keep_inside=False)
    text = _replace_blocks(text, _RAW_OPEN, _RAW_CLOSE, keep_inside=True)
    text = _replace_spans(text, "{%", "%}", lambda span: "")
    return _replace_spans(text, "{{", "}}", lambda span: LIQUID_MARK)


def unclosed_liquid_at(text: str) -> int | None:
    """Where a `{%` or `{{` opens that nothing after it can close (there is no `}` after it at all,
    so it is not inside a tag, an output or a raw block either), or None. Liquid refuses such a
    template: Jekyll does not build the page."""
    opener = _LIQUID_OPENER.search(text, max(text.rfind("}") - 1, 0))
    return opener.start() if opener else None


def strip_html_comments(text: str) -> str:
    """`<!-- … -->` replaced by the newlines it held (line numbers stay)."""
    return _replace_spans(text, "<!--", "-->", lambda span: "\n" * span.count("\n"))


def _replace_spans(text: str, opener: str, closer: str, replace: Callable[[str], str]) -> str:
    """Each `opener … closer` (the nearest closer after it) replaced by `replace(span)`."""
    parts: list[str] = []
    pos = 0
    while (start := text.find(opener, pos)) != -1:
        end = text.find(closer, start + len(opener))
        if end == -1:  # no closer after this opener: none after any later opener either
            break
        end += len(closer)
        parts += (text[pos:start], replace(text[start:end]))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _replace_blocks(text: str, opener: re.Pattern[str], closer: re.Pattern[str], keep_inside: bool) -> str:
    """Each `{% x %} … {% endx %}` block removed, or replaced by what is inside it."""
    parts: list[str] = []
    pos = 0
    while opening := opener.search(text, pos):
        closing = closer.search(text, opening.end())
        if closing is None:  # as in _replace_spans: no later block can close either (the tag pass
            break  # removes their openers as tags)
        parts.append(text[pos:opening.start()])
        if keep_inside:
            parts.append(text[opening.end():closing.start()])
        pos = closing.end()
    parts.append(text[pos:])
    return "".join(parts)


def markdown_files(root: Path, on_bad_name: Callable[[str], None] | None = None) -> list[str]:
    """Relative paths of the markdown names under root; folders reached through symlinks are not
    entered (no loops). Whether each may be read is read_source_file's call, when it is read.

    A file or folder name that is not UTF-8 (bytes such as `caf\\xe9.md` on disk) cannot be a URL nor
    be recorded: it is left out, and `on_bad_name` is told (the name with its bytes escaped)."""
    found: list[str] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        base = Path(folder).relative_to(root).as_posix()
        for name in [d for d in dirs if not _is_utf8(d)]:
            dirs.remove(name)
            if on_bad_name:
                on_bad_name(f"{shown_name(_joined(base, name))}/: the folder name is not UTF-8; its files are skipped")
        dirs.sort()
        for name in sorted(files):
            if not name.lower().endswith((".md", ".markdown")):
                continue
            if not _is_utf8(name):
                if on_bad_name:
                    on_bad_name(f"{shown_name(_joined(base, name))}: the file name is not UTF-8; skipped")
                continue
            found.append(_joined(base, name))
    return found


def shown_name(name: str) -> str:
    """A path as it can be printed: bytes that are not UTF-8 (os.walk's surrogate escapes) as `\\xe9`."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _joined(base: str, name: str) -> str:
    return name if base == "." else f"{base}/{name}"
