"""The text of an HTML block in markdown, as kramdown shows it: tags dropped, entities decoded.

One forward scan, linear in the block's length (see html_to_text). It does not parse markdown
(parse.py) nor keep any markup.
"""

from __future__ import annotations

import re
from html import unescape

_MARKUP_START = re.compile(r"<[a-zA-Z/!?]")
_START_TAG = re.compile(r"<([a-zA-Z][^\t\n\r\f />\x00]*)")
_TAG_STOP = re.compile(r"""(>)|=\s*(["'])""")  # a tag's end, or a quoted attribute value (which may hold `>`)
_COMMENT_END = re.compile(r"--\s*>")
_RAW_TEXT_END = {name: re.compile(rf"</\s*{name}\s*>", re.I) for name in ("script", "style")}
_LINE_TAGS = ("br", "p", "div", "li", "tr")


def html_to_text(html: str) -> str:
    """The text of an HTML block: tags and comments dropped, a line break for each block tag, ` | `
    before table cells, script and style contents dropped, entities decoded; a `<` that opens
    nothing closed is text, as kramdown shows it.

    One forward scan, linear in the block's length: html.parser (which gave the same text for
    well-formed HTML) rescans to the end from every unclosed `<a ` or `<!--` (a 50 KB block took a
    minute) and raises AssertionError on `<![x`.
    """
    parts: list[str] = []
    pos = scan = 0  # the text from pos on is not added yet; the next markup is searched from scan
    last_gt = html.rfind(">")
    comments_close = True  # False once a `<!--` found no end: no later one can
    quotes_hold = True  # False once a tag was not closed counting quoted values: malformed, so from
    # there on a tag ends at its first `>` (as html.parser ends a tag with an unclosed quote)
    while markup := _MARKUP_START.search(html, scan):
        lt = markup.start()
        tag = _START_TAG.match(html, lt)
        name = tag.group(1).lower() if tag else ""
        if html.startswith("<!--", lt):
            close = _COMMENT_END.search(html, lt + 4) if comments_close else None
            comments_close = close is not None
            end = close.end() if close else -1
        elif tag:
            end = -1
            if tag.end() <= last_gt:
                end = _tag_end(html, tag.end()) if quotes_hold else -1
                if end == -1:
                    quotes_hold = False
                    end = html.find(">", tag.end()) + 1
        else:  # end tag, declaration, processing instruction
            end = html.find(">", lt + 2) + 1 if lt + 2 <= last_gt else -1
        if end == -1:  # opens nothing that is closed: text
            scan = lt + 1
            continue
        parts.append(unescape(html[pos:lt]))
        if name in _RAW_TEXT_END and not html.startswith("/>", end - 2):
            close = _RAW_TEXT_END[name].search(html, end)  # its text is neither markup nor page text
            end = close.end() if close else len(html)
        elif name in _LINE_TAGS:
            parts.append("\n")
        elif name in ("td", "th"):
            parts.append(" | ")
        pos = scan = end
    parts.append(unescape(html[pos:]))
    lines = (re.sub(r"\s+", " ", line).strip(" |") for line in "".join(parts).splitlines())
    return "\n".join(line for line in lines if line)


def _tag_end(html: str, pos: int) -> int:
    """Index after the `>` that closes a tag whose attributes start at pos; -1 if it is not closed."""
    while stop := _TAG_STOP.search(html, pos):
        if stop.group(1):
            return stop.end()
        close = html.find(stop.group(2), stop.end())
        if close == -1:
            return -1
        pos = close + 1
    return -1
