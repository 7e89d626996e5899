"""A synthetic Danish just-the-docs site of N pages, recombined from the shared corpora (bench/scale.py).

    .venv/bin/python -m bench.synth --pages 10000 --out DIR [--seed 7] [--shared ../shared]

Sections (a heading and the text under it, as ingest/parse.py reads them) of os2produktmodning and
os2borgerpc-docs are drawn at random into new pages, in new folders, under new Danish titles made of
OS2 product names, words from the corpora's headings and numbers. The site is a tree that
just-the-docs can navigate: the front page → one page per product → topic pages → pages, with
`parent` / `grand_parent` / `nav_order` / `has_children` front matter, so pages have breadcrumbs.
Every title is unique, and a page's title is part of every chunk text that is embedded (chunk.py),
so no two pages share a chunk text and the embedding cache saves the benchmark no work. The same
seed gives the same site, byte for byte. `mutate` appends a sentence to a share of the pages.

Deliberately not here: Danish that reads well across sections, or the sections' original markdown.
Blocks are written back from the parsed text (list items as a list, multi-line blocks as code, the
rest as paragraphs), so links, emphasis and tables come back as plain text.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.offline import go_offline
from bench import SHARED

go_offline()

from assistant.retrieve.language import detect_language  # noqa: E402
from ingest.site import scan_site  # noqa: E402

SOURCES = ("os2produktmodning", "os2borgerpc-docs")
# OS2 products named in the corpora: one product page (and folder) each, as many as the size needs.
PRODUCTS = (
    "OS2BorgerPC", "OS2forms", "OS2display", "OS2opendata", "OS2iot", "OS2ai", "OS2samtale", "OS2sofd",
    "OS2valghalla", "OS2rollekatalog", "OS2udoglær", "OS2health", "OS2compliance", "OS2autoprocess",
    "OS2sandbox", "OS2skole", "OS2produktmodning",
)
SITE_TITLE = "OS2 syntetisk dokumentation"
CONFIG = """\
title: OS2 syntetisk dokumentation
description: Syntetisk dokumentationssite til skalatest, sammensat af afsnit fra OS2produktmodning og OS2BorgerPC.
theme: just-the-docs
url: https://example.org
baseurl: /os2-syntetisk
search_enabled: true
aux_links:
  OS2 på GitHub: https://github.com/OS2offdig
aux_links_new_tab: true
"""
# A page's title: a template, filled with heading words (a, b), a product and the page's number.
LEAF_TITLES = (
    "{A} og {b} i {product} ({n})",
    "Sådan arbejder du med {a} i {product}, del {n}",
    "{product}: {a} ved {b} {n}",
    "Vejledning {n}: {a} for {product}",
    "{A} – spørgsmål og svar om {b} ({n})",
    "Tjekliste {n} for {a} og {b}",
    "Notat {n} om {a} i {product}",
)
_TOPIC_WORD = re.compile(r"\b[A-Za-zÆØÅæøå][a-zæøå]{5,}\b")
_ORDERED_ITEM = re.compile(r"\d+(?=[.)])")
_BLOCK_START = tuple("#>+*=|<`~{_\\-")  # at the start of a line: heading, quote, list, table, code, IAL, ...


@dataclass(frozen=True)
class Material:
    """What pages are made of: sections (heading, blocks) and title words, in corpus order."""

    sections: list[tuple[str, tuple[str, ...]]]
    topics: list[str]


@dataclass
class PlannedPage:
    path: str  # relative to the site root, e.g. docs/os2forms/installation-3/index.md
    title: str
    parent: str | None
    grand_parent: str | None
    nav_order: int
    subject: tuple[str, str]  # (heading word, product), named in the first sentence


def read_material(shared: Path = SHARED) -> Material:
    """Every section with a heading and text, and the heading words of Danish sections, of the corpora."""
    # By heading and first block: one copy of a section that two pages share with small edits.
    sections: dict[str, tuple[str, tuple[str, ...]]] = {}
    topics: dict[str, str] = {}  # casefolded → as written first
    for name in SOURCES:
        for page in scan_site(shared / "corpus" / name, name).pages:
            for section in page.sections:
                if section.heading is None or not section.blocks:
                    continue
                key = " ".join(f"{section.heading.text} {section.blocks[0]}".casefold().split())
                sections.setdefault(key, (section.heading.text, tuple(section.blocks)))
                if detect_language(section.heading.text + " " + " ".join(section.blocks)) == "da":
                    for word in _TOPIC_WORD.findall(section.heading.text):
                        topics.setdefault(word.casefold(), word)
    return Material(list(sections.values()), list(topics.values()))


def plan_site(pages: int, rng: random.Random, topics: Sequence[str]) -> list[PlannedPage]:
    """The front page, product pages, topic pages and then pages spread evenly over the topics."""
    products = PRODUCTS[: max(1, min(len(PRODUCTS), round(pages ** (1 / 3))))]
    per_product = max(1, round(math.sqrt(pages / len(products))))
    plan = [PlannedPage("index.md", SITE_TITLE, None, None, 1, ("dokumentation", "OS2"))]
    parents: list[PlannedPage] = []
    for order, product in enumerate(products, 2):
        plan.append(PlannedPage(f"docs/{slug(product)}/index.md", product, None, None, order,
                                ("dokumentation", product)))
    for p, product in enumerate(products):
        for order, topic in enumerate(rng.sample(list(topics), min(per_product, len(topics))), 1):
            title = f"{topic.capitalize()} i {product}"
            page = PlannedPage(f"docs/{slug(product)}/{slug(topic)}-{p + 1}/index.md", title, product, None,
                               order, (topic.lower(), product))
            plan.append(page)
            parents.append(page)
    plan = plan[:pages]
    parents = parents[: max(0, pages - 1 - len(products))]
    for i in range(pages - len(plan)):
        parent = parents[i % len(parents)]
        product = parent.parent or ""
        a, b = (w.lower() for w in rng.sample(list(topics), 2))
        n = len(plan) + 1
        title = rng.choice(LEAF_TITLES).format(A=a.capitalize(), a=a, b=b, product=product, n=n)
        folder = parent.path.rsplit("/", 1)[0]
        plan.append(PlannedPage(f"{folder}/{slug(a)}-{n}.md", title, parent.title, product, i // len(parents) + 1,
                                (a, product)))
    return plan


def page_markdown(page: PlannedPage, has_children: bool, sections: Sequence[tuple[str, tuple[str, ...]]],
                  rng: random.Random) -> str:
    front = {"title": page.title, "parent": page.parent, "grand_parent": page.grand_parent,
             "nav_order": page.nav_order, "has_children": has_children or None}
    lines = ["---", *(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in front.items() if v), "---", "",
             f"# {page.title}", "", f"Denne side handler om {page.subject[0]} i {page.subject[1]}.", ""]
    for number, (heading, blocks) in enumerate(sections):
        level = 3 if number and rng.random() < 0.3 else 2  # some sections nest under the one before
        lines += [f"{'#' * level} {heading}", "", *blocks_markdown(blocks), ""]
    return "\n".join(lines)


def blocks_markdown(blocks: Sequence[str]) -> list[str]:
    """Parsed blocks back to markdown lines: list items as a list, multi-line blocks as fenced code,
    everything else as one-line paragraphs with a leading markdown character escaped."""
    lines: list[str] = []
    depth = -1  # of the previous list item; -1 after anything else
    for block in blocks:
        block = block.replace("{{", "{ {").replace("{%", "{ %").replace("<!--", "< !--")  # no Liquid, no comments
        item = re.match(r"( *)- (.*)", block, re.S)
        if item:
            if depth < 0 and lines:
                lines.append("")  # a list starts after a blank line; its items follow each other
            depth = min(len(item.group(1)) // 2, depth + 1)  # a nested item starts at most one level deeper
            lines.append("  " * depth + "- " + " ".join(item.group(2).split()))
            continue
        depth = -1
        if lines:
            lines.append("")
        if "\n" in block:
            longest = max((len(run) for run in re.findall(r"`+", block)), default=0)
            fence = "`" * max(3, longest + 1)
            lines += [fence, *block.splitlines(), fence]
        else:
            lines.append(escape_start(block.strip()))
    return lines


def escape_start(line: str) -> str:
    """A backslash where the line would otherwise start a heading, list, quote, table, code, ..."""
    number = _ORDERED_ITEM.match(line)
    if number:
        return f"{line[: number.end()]}\\{line[number.end():]}"
    return f"\\{line}" if line.startswith(_BLOCK_START) else line


def slug(text: str) -> str:
    folded = text.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-") or "side"


def generate(out: Path, pages: int = 10_000, seed: int = 7, shared: Path = SHARED) -> list[str]:
    """Write the site into `out` (which must be empty or new); returns the pages' paths."""
    if pages < 1:
        raise ValueError("a site needs at least one page")
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; give a new or empty folder")
    material = read_material(shared)
    rng = random.Random(seed)
    plan = plan_site(pages, rng, material.topics)
    with_children = {p.parent for p in plan}
    out.mkdir(parents=True, exist_ok=True)
    (out / "_config.yml").write_text(CONFIG, encoding="utf-8")
    for page in plan:
        count = rng.randint(2, 5) if page.grand_parent else rng.randint(1, 2)
        text = page_markdown(page, page.title in with_children, rng.sample(material.sections, count), rng)
        file = out / page.path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    return [p.path for p in plan]


def mutate(site: Path, fraction: float = 0.01, seed: int = 1) -> list[str]:
    """Append a sentence to one text line of `fraction` of the pages (at least one); returns their
    paths, sorted. Only lines of text are touched: no front matter, heading or code."""
    rng = random.Random(seed)
    paths = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.md"))
    chosen = sorted(rng.sample(paths, max(1, round(fraction * len(paths)))))
    for number, rel in enumerate(chosen, 1):
        file = site / rel
        lines = file.read_text(encoding="utf-8").split("\n")
        candidates = text_lines(lines)
        i = rng.choice(candidates)
        lines[i] += f" Afsnittet blev revideret i runde {seed}.{number}."
        file.write_text("\n".join(lines), encoding="utf-8")
    return chosen


def text_lines(lines: Sequence[str]) -> list[int]:
    """Indexes of the paragraph and list item lines of a page written by `generate`."""
    out: list[int] = []
    fence: str | None = None
    front = 0  # "---" lines seen
    for i, line in enumerate(lines):
        if front < 2:
            front += line == "---"
        elif fence is not None:
            fence = None if line == fence else fence
        elif len(line) >= 3 and not line.strip("`"):
            fence = line
        elif line.strip() and not line.startswith("#"):
            out.append(i)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shared", type=Path, default=SHARED)
    args = parser.parse_args()
    started = time.perf_counter()
    paths = generate(args.out, args.pages, args.seed, args.shared)
    print(f"{len(paths)} pages in {args.out} ({time.perf_counter() - started:.1f} s, seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
