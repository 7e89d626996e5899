"""MkDocs (Material) markdown that CommonMark would misread, rewritten before it is parsed: an
admonition (`!!! note "Titel"`, `??? tip`, `???+ …`) or a content tab (`=== "Fane"`) has its body
indented four spaces, which CommonMark takes for a code block. The body is dedented and its title
becomes a bold lead line, so it reads as the prose MkDocs shows; `[TOC]` markers and attribute lists
after headings (`## Titel { #id .klasse }`) go, and the heading id the list names is kept.

Also the section anchors MkDocs gives headings: Python-Markdown's toc `slugify` (ASCII by default,
Unicode when mkdocs.yml names a Unicode slugify) made unique with `_1`, `_2`. It does not parse
markdown (ingest/parse.py) nor know the site (mkdocs.py).
"""

from __future__ import annotations

import re
import unicodedata

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_ADMONITION = re.compile(r'^(?P<indent>[ \t]*)(?:!!!|\?\?\?\+?)[ \t]+(?P<kind>[\w-]+(?:[ \t]+[\w-]+)*)'
                         r'(?:[ \t]+"(?P<title>[^"\n]*)")?[ \t]*$')
_TAB = re.compile(r'^(?P<indent>[ \t]*)===[!+]?[ \t]+"(?P<title>[^"\n]*)"[ \t]*$')
_HEADING_ATTRS = re.compile(r"^(?P<heading>#{1,6}[ \t].*?)[ \t]*\{:?(?P<attrs>[^{}\n]*)\}[ \t]*$")
_ATTR_ID = re.compile(r"(?:^|\s)#([\w-]+)")
_SETEXT = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")  # the underline of a setext heading
_TITLE_ATTRS = re.compile(r"^(?P<title>.*?)[ \t]*\{:?(?P<attrs>[^{}\n]*)\}[ \t]*$")
_NOT_A_TITLE = re.compile(r"^[ \t]*(?:#|>|\||[-*+][ \t]|\d{1,9}[.)][ \t]|$)")
_TOC_MARKER = re.compile(r"^[ \t]*\[TOC\][ \t]*$")


def flatten_blocks(text: str) -> tuple[str, dict[int, str]]:
    """The markdown with admonitions and tabs as prose, and the explicit heading ids (`{ #id }`) by
    the order of the heading (0: the page's first heading) they belong to."""
    lines = _flatten(text.expandtabs(4).split("\n"))
    ids: dict[int, str] = {}
    out: list[str] = []
    fence = ""
    heading = 0
    for line in lines:
        if fence:
            fence = "" if line.strip().startswith(fence) else fence
            out.append(line)
            continue
        if opened := _FENCE.match(line):
            fence = opened.group(1)
        elif _TOC_MARKER.match(line):
            continue
        elif line.startswith("#"):
            attrs = _HEADING_ATTRS.match(line)
            if attrs:
                line = attrs.group("heading")
                explicit = _ATTR_ID.search(attrs.group("attrs"))
                if explicit:
                    ids[heading] = explicit.group(1)
            heading += 1 if re.match(r"#{1,6}(?:[ \t]|$)", line) else 0
        elif _SETEXT.match(line) and out and _setext_title(out[-1]):
            # "Title { #id }" over "====": a heading too, numbered in page order like the "#" ones
            attrs = _TITLE_ATTRS.match(out[-1])
            if attrs:
                out[-1] = attrs.group("title")
                explicit = _ATTR_ID.search(attrs.group("attrs"))
                if explicit:
                    ids[heading] = explicit.group(1)
            heading += 1
        out.append(line)
    return "\n".join(out), ids


def _setext_title(line: str) -> bool:
    """Whether a line followed by "===" or "---" is a setext heading's title (a paragraph line), not a
    blank line, a heading, a quote, a table row or a list item (then "---" is a rule)."""
    return _NOT_A_TITLE.match(line) is None and not line.startswith("    ")


def _flatten(lines: list[str]) -> list[str]:
    out: list[str] = []
    fence = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if fence:
            fence = "" if line.strip().startswith(fence) else fence
            out.append(line)
            i += 1
            continue
        opened = _FENCE.match(line)
        block = None if opened else _ADMONITION.match(line) or _TAB.match(line)
        if opened:
            fence = opened.group(1)
        if block is None:
            out.append(line)
            i += 1
            continue
        indent = block.group("indent")
        depth = len(indent) + 4
        end = i + 1
        while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) >= depth):
            end += 1
        while end > i + 1 and not lines[end - 1].strip():  # trailing blank lines are not the body's
            end -= 1
        body = [line[depth:] if line.strip() else "" for line in lines[i + 1:end]]
        title = (block.group("title") or "").strip()
        out += ["", f"{indent}**{title}**", ""] if title else [""]
        out += [indent + b if b else "" for b in _flatten(body)]
        out.append("")
        i = end
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def toc_slug(text: str, unicode: bool = False, separator: str = "-") -> str:
    """markdown.extensions.toc.slugify (slugify_unicode when `unicode`)."""
    if not unicode:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(rf"[{re.escape(separator)}\s]+", separator, text)


def unique_id(anchor: str, used: set[str]) -> str:
    """markdown.extensions.toc.unique: `x`, `x_1`, `x_2`; an empty id becomes `_1`."""
    if anchor in used or not anchor:
        numbered = re.match(r"^(.*)_([0-9]+)$", anchor)
        base, count = (numbered.group(1), int(numbered.group(2))) if numbered else (anchor, 0)
        count += 1
        while f"{base}_{count}" in used:
            count += 1
        anchor = f"{base}_{count}"
    used.add(anchor)
    return anchor
