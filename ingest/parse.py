"""Markdown file → Page: heading structure and the text a reader is quoted (decoding, front matter and
Liquid removal come first, from assistant/sites/markdown_file.py).

Reads a file the way Jekyll + kramdown (GFM input) see it and returns plain-text sections under
their headings with kramdown's heading ids: text a reader can be quoted, not markdown. A table row
names its fields from the header ("Tid: 12.00 - 12.45; Punkt: Frokost"), links become their text, stray
emphasis marks and broken link syntax go, a Mermaid Gantt chart becomes its tasks and dates, other
diagrams are dropped, and code stays code: a fenced block (CODE_FENCE lines around it) that answers
never quote as prose. Page furniture is no text (furniture.py): attribute lists, image alt texts,
editors' placeholders and notes, figure labels, "Link til …" lines; a caption ends as a sentence.
It does not decide what is published (jekyll.py) nor cut chunks (chunk.py).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

from assistant.models import Heading, Section
from assistant.sites.jekyll import kramdown_anchor
from assistant.sites.markdown_file import (
    LIQUID_MARK,
    decode_markdown,
    split_front_matter,
    strip_html_comments,
    strip_liquid,
    unclosed_liquid_at,
)
from assistant.text import CODE_FENCE
from ingest.furniture import ATTRIBUTE_LIST, EDITOR_NOTE, is_caption, is_figure_label, is_link_line, is_placeholder
from ingest.html_text import html_to_text

_IAL_LINE = re.compile(r"^[ \t]*\{:[^}\n]*\}[ \t]*$", re.M)  # kramdown `{: .no_toc }`, `{:toc}`
_IAL_ID = re.compile(r"#([\w-]+)")
DIAGRAMS = frozenset({"mermaid", "plantuml", "puml", "dot", "graphviz", "flowchart", "sequence"})
# Markup a reader should never see that markdown-it leaves as text: "(Roller)[https://…]" (link
# syntax the wrong way round), footnote marks, a task list's "[ ]", brackets of an undefined reference
# link ("[tekst]", which would also read as a citation marker), unpaired emphasis marks and ticks, runs
# of underscores ("Navn: ____"). A lone "_" between spaces is a character the page names ("værdier uden
# _ foran"): kept. Kramdown attribute lists anywhere (`Tekst{: .btn}`) and editors' notes in
# parentheses ("(Hvordan foregår det?)") go first (furniture.py).
_TEXT_CLEANUPS = (
    (ATTRIBUTE_LIST, ""),
    (EDITOR_NOTE, ""),
    (re.compile(r"\(([^()\n]+)\)\[(?:https?://|/|\.|#)[^\]\s]*\]"), r"\1"),
    (re.compile(r"\[\^[^\]\n]*\]"), ""),
    (re.compile(r"^\[[ xX]\]\s+"), ""),
    (re.compile(r"\[([^\[\]\n]*)\]"), r"\1"),
    (re.compile(r"\*+|(?<!\w)_{2,}(?!\w)|(?<!\w)_(?=[^\w\s]|$)|(?<=[^\w\s])_(?!\w)|`+", re.M), ""),
)
_GANTT_SKIP = re.compile(r"^(?:gantt|dateformat|axisformat|tickinterval|excludes|includes|todaymarker|weekday|%%)",
                         re.I)
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


@dataclass
class ParsedFile:
    front_matter: dict | None  # None: no front matter (a static file for Jekyll)
    title: str
    sections: list[Section]
    links: list[str]
    text: str  # decoded, repaired source text (for hashing)
    warnings: list[str] = field(default_factory=list)


def parse_markdown_file(data: bytes, name: str) -> ParsedFile:
    text, warnings = decode_markdown(data, name)
    front_matter, body, fm_warnings = split_front_matter(text, name)
    warnings += fm_warnings
    # Liquid only runs on pages with front matter; a static file is served as it is.
    if front_matter is not None:
        unclosed = unclosed_liquid_at(body)
        if unclosed is not None:
            line = body.count("\n", 0, unclosed) + 1
            opening = body[unclosed:unclosed + 30].split("\n", 1)[0]
            warnings.append(
                f"{name}: line {line}: Liquid {opening!r} is never closed (Jekyll does not build such a page); "
                "the text from there on is not ingested"
            )
            body = body[:unclosed]
        body = strip_liquid(body)
    body = strip_html_comments(body)
    sections, links = parse_sections(body)
    title = ""
    if front_matter and front_matter.get("title") is not None:
        title = str(front_matter["title"]).strip()
    if not title:
        first = next((s.heading for s in sections if s.heading), None)
        title = first.text if first else name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return ParsedFile(front_matter, title, sections, links, text, warnings)


_md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def parse_sections(body: str) -> tuple[list[Section], list[str]]:
    """Markdown body → sections of plain-text blocks under kramdown-anchored headings."""
    ial_ids = _ial_ids_by_line(body)
    body = _IAL_LINE.sub("", body)
    tokens = _md.parse(body)
    seen: Counter[str] = Counter()
    sections = [Section(heading=None, path=())]
    stack: list[Heading] = []
    links: list[str] = []
    list_depth = 0
    row: list[str] = []
    header: list[str] = []  # the table's column names
    in_head = False
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            inline = tokens[i + 1]
            level = int(tok.tag[1])
            text = _inline_text(inline, links).strip()
            if not inline.content.strip():  # kramdown gives an empty heading no id: not a section
                i += 3
                continue
            end_line = tok.map[1] if tok.map else -1
            anchor = ial_ids.get(end_line) or kramdown_anchor(inline.content, seen)
            heading = Heading(level, text, anchor)
            while stack and stack[-1].level >= level:
                stack.pop()
            stack.append(heading)
            sections.append(Section(heading=heading, path=tuple(stack)))
            i += 3
            continue
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
        elif tok.type in ("thead_open", "thead_close"):
            in_head = tok.type == "thead_open"
            header = [] if in_head else header
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "inline" and tokens[i - 1].type in ("th_open", "td_open"):
            cell = clean_text(_inline_text(tok, links))
            row.append("" if is_placeholder(cell) else cell)
        elif tok.type == "tr_close":
            if in_head:
                header = row
                if is_title_row(row):  # a title over rows of labels and values, not column names
                    _add_block(sections[-1], _ended(" ".join(c for c in row if c), ":"), 0)
            elif any(row):
                _add_block(sections[-1], table_row(header, row), 0)
        elif tok.type == "inline" and tokens[i - 1].type == "paragraph_open":
            text = _inline_text(tok, links)
            if not list_depth and (is_link_line(tok) or is_figure_label(text)):
                pass  # navigation and labels of pictures: no sentence
            else:
                caption = not list_depth and is_caption(tok)
                _add_block(sections[-1], _ended(text, ".") if caption else text, list_depth)
        elif tok.type in ("fence", "code_block"):
            language = tok.info.strip().split(maxsplit=1)[0].lower() if tok.info.strip() else ""
            if language == "mermaid" and tok.content.lstrip().lower().startswith("gantt"):
                sections[-1].blocks.extend(gantt_tasks(tok.content))
            elif language not in DIAGRAMS and tok.content.strip():
                sections[-1].blocks.append(f"{CODE_FENCE}\n{tok.content.strip(chr(10))}\n{CODE_FENCE}")
        elif tok.type == "html_block":
            _add_block(sections[-1], html_to_text(tok.content), 0)
        i += 1
    return sections, links


def _add_block(section: Section, text: str, list_depth: int) -> None:
    if LIQUID_MARK in text:
        # A line that only framed a Liquid value ("sidst opdateret: {{ site.time }}") is noise.
        text = text.replace(LIQUID_MARK, "")
        if len(re.findall(r"\w{2,}", text)) <= 4:
            return
    text = clean_text(text)
    if not re.search(r"\w", text) or is_placeholder(text):
        return
    section.blocks.append(("  " * (list_depth - 1) + "- " + text) if list_depth else text)


def clean_text(text: str) -> str:
    """A block's text without the markup markdown-it leaves in it (see _TEXT_CLEANUPS)."""
    for pattern, replacement in _TEXT_CLEANUPS:
        text = pattern.sub(replacement, text)
    return re.sub(r"[ \t]+", " ", text).strip()


def table_row(header: list[str], row: list[str]) -> str:
    """A table row as text whose fields are named by the header: "Tid: 12.00; Punkt: Frokost". Under a
    header that names one column of several (a title over labels and values), the first cell labels
    the rest: "Systemnavn: travel". A row with nothing but its first cell (a label without a value)
    says nothing: ""."""
    if len(row) > 1 and row[0] and not any(row[1:]):
        return ""
    if is_title_row(header) and row[0] and any(row[1:]):
        label = row[0] if row[0].endswith(":") else row[0] + ":"
        return _ended(f"{label} {'; '.join(c for c in row[1:] if c)}", ".")
    fields = []
    for column, cell in enumerate(row):
        if not cell:
            continue
        name = header[column] if column < len(header) else ""
        fields.append(f"{name}: {cell}" if name and name.casefold() != cell.casefold() else cell)
    return _ended("; ".join(fields), ".")


def is_title_row(header: list[str]) -> bool:
    """A table header that names one column of several: a title ("Fakta om skabelonen | |")."""
    return len(header) > 1 and sum(1 for cell in header if cell) == 1


def _ended(text: str, mark: str) -> str:
    """The text ending in `mark` unless it ends a sentence or announces what follows already."""
    text = text.rstrip()
    return text if not text or text.endswith((".", "!", "?", ":")) else text + mark


def gantt_tasks(source: str) -> list[str]:
    """A Mermaid Gantt chart as text: its title, then each task with its dates and section
    ("- Forårs samlingen (Formelle Netværksmøder): 2027-05-10 – 2027-05-30")."""
    blocks: list[str] = []
    section = ""
    for raw in source.splitlines():
        line = raw.strip()
        if not line or _GANTT_SKIP.match(line):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.lower() == "title":
            blocks.append(clean_text(rest) + ":")
        elif keyword.lower() == "section":
            section = clean_text(rest)
        elif ":" in line:
            name, _, spec = line.partition(":")
            name = clean_text(name)
            dates = _ISO_DATE.findall(spec)
            if not re.search(r"\w", name) or not dates:
                continue
            where = f" ({section})" if section else ""
            blocks.append(f"- {name}{where}: {' – '.join(dates[:2])}")
    return blocks


def _inline_text(inline: Token, links: list[str]) -> str:
    parts: list[str] = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "link_open":
            href = str(child.attrs.get("href", ""))
            if href:
                links.append(href)
        elif child.type == "html_inline" and child.content.lower().startswith("<br"):
            parts.append("\n")
    return "".join(parts)


def _ial_ids_by_line(body: str) -> dict[int, str]:
    """`{: #custom-id}` on the line after a heading sets that heading's id (line index → id)."""
    ids: dict[int, str] = {}
    for number, line in enumerate(body.splitlines()):
        if _IAL_LINE.match(line):
            match = _IAL_ID.search(line)
            if match:
                ids[number] = match.group(1)
    return ids
