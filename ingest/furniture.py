"""What on a page is furniture, not text a reader can be quoted: kramdown attribute lists and
extension tags, notes and placeholders the editors left ("INDSÆT BILLEDE", "Mangler beskrivelse",
"TODO: …", "(Hvordan foregår det?)"), figure labels and lines that are only a link ("Link til X").

A placeholder is a sign that the page does not answer yet: its text is dropped, so a section that
is only a placeholder has no sentence to quote. parse.py decides where these apply (blocks, table
cells, paragraphs); this module only recognises them. It does not parse markdown.
"""

from __future__ import annotations

import re

from markdown_it.token import Token

# `Tekst{: .btn .btn-purple}`, `*ord*{: .label}`, `{::comment}`, `{:/comment}`, `{::options … /}`
ATTRIBUTE_LIST = re.compile(r"\{:[^{}\n]*\}")
# A question in parentheses that a sentence does not need: an editor's open question
# ("Man skal have en aftale med Rejseplanen. (Hvordan foregår det?)"), or a note "(TODO: …)".
# An aside that starts in lower case ("(er det en fuldskærm …?)") belongs to its sentence: kept.
EDITOR_NOTE = re.compile(r"\s*[(\[](?:[A-ZÆØÅ][^()\[\]\n]{2,120}\?|(?i:todo|fixme|tbd)\b[^()\[\]\n]*)[)\]]")
# A whole block (or table cell) that only holds a place, as editors write it (and as typed without æ/ø/å).
_PLACEHOLDER = re.compile(
    r"(?:indsæt|indsaet|insert)(?: (?:et|en|nyt|ny|an?))? (?:billede|billeder|screenshots?|skærmbilleder?|"
    r"skaermbilleder?|figur|video|link|tekst|eksempel|image|picture)(?: (?:her|af|på|til|fra|of|here)\b.{0,40})?"
    r"|mangler(?: (?:en|et))? (?:beskrivelse|tekst|indhold|billede|eksempel)"
    r"|(?:beskrivelse|tekst|indhold|billede|afsnit)(?:en|et)? (?:mangler|følger|kommer)(?: senere| snart)?"
    r"|(?:kommer|følger) (?:snart|senere)|under (?:udarbejdelse|opbygning)"
    r"|x{3,}|lorem ipsum.*|tbd|tba|todo|fixme|wip|coming soon|work in progress|placeholder"
    r"|to be (?:written|done|added|described)",
    re.IGNORECASE,
)
# A block that starts with an editor's marker is a note to the editors ("TODO: Describe security setup.").
# A template's instruction to whoever fills it in, in parentheses: "(beskriv hovedformålet med mødet)".
_INSTRUCTION = re.compile(r"\((?:beskriv|skriv|indsæt|angiv|udfyld|tilføj|indtast|notér|noter|describe|insert|"
                          r"add|write|fill in)\b[^()]*\)[.:]?", re.IGNORECASE)
CAPTION_WORDS = 3
_NOTE_MARKER = re.compile(r"^@?(?:todo|fixme|tbd|xxx)\b", re.IGNORECASE)
# "Figur 2: Hovedmenuen": the label of a picture the reader of a quote cannot see.
_FIGURE_LABEL = re.compile(r"^(?:figur|figure|fig\.|billede|illustration|skærmbillede|screenshot)\s*\d+\s*[:.]",
                           re.IGNORECASE)
# What a line that is only a link says besides the link ("Link til [Porteus Kiosk](…)", "Læs mere her").
# A link alone ("[Dagsordner og referater fra …](…)", a button) says what is there: kept as its text.
LINK_LEADS = frozenset({"link", "link til", "links", "se", "se også", "se mere", "læs mere", "læs mere her",
                        "læs mere om", "læs mere på", "klik her", "her", "mere information", "link to", "see",
                        "see also", "read more", "more information"})


def is_placeholder(text: str) -> bool:
    """A block or cell that only holds a place ("INDSÆT BILLEDE.", "Mangler beskrivelse", "xxx"), a
    note to the editors ("TODO: …", "@todo") or a template's instruction ("(beskriv formålet)")."""
    core = text.strip().strip(" .!:;…()[]-").strip()
    return bool(core) and (_PLACEHOLDER.fullmatch(core) is not None or _NOTE_MARKER.match(core) is not None
                           or _INSTRUCTION.fullmatch(text.strip()) is not None)


def is_figure_label(text: str) -> bool:
    return _FIGURE_LABEL.match(text.strip()) is not None


def is_link_line(inline: Token) -> bool:
    """A paragraph that is a link and a pointer to it ("Link til Porteus Kiosk", "Læs mere om
    konfigurationer"): navigation, not a sentence."""
    outside: list[str] = []
    depth = links = 0
    for child in inline.children or []:
        if child.type == "link_open":
            depth += 1
            links += 1
        elif child.type == "link_close":
            depth -= 1
        elif child.type in ("text", "code_inline") and depth == 0:
            outside.append(child.content)
    said = re.sub(r"[\W_]+", " ", ATTRIBUTE_LIST.sub("", " ".join(outside))).strip().casefold()
    return links > 0 and said in LINK_LEADS


def is_caption(inline: Token) -> bool:
    """A paragraph in italics and nothing else, of CAPTION_WORDS or more ("*Benyttes i
    Ringkøbing-Skjern Kommune*"): a caption or a remark set apart, which ends as a sentence so that it
    does not run into the next line. A shorter one ("*POC*") labels what follows, like a heading."""
    children = [c for c in inline.children or [] if not (c.type in ("text", "softbreak") and not c.content.strip())]
    words = len(re.findall(r"[^\W_]+", inline.content))
    return len(children) >= 3 and children[0].type == "em_open" and children[-1].type == "em_close" \
        and not any(c.type == "em_open" for c in children[1:-1]) and words >= CAPTION_WORDS
