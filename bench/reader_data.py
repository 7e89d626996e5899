"""The reader's training and evaluation data: each training question with every sentence of its page,
as the product reads that page, and which of them answer it.

A question set is a folder of `questions/<owner>+<repo>.jsonl` beside `corpus/<owner>+<repo>/` (the
format of ../shared/training/README.md; bench/training/ holds more written the same way). Pages are
parsed by the ingest's own parser (ingest/parse.py) and split into sentences by assistant/text.py, so
the candidates are exactly what the answerer chooses from; each sentence is given in context as it is
embedded for answers (`in_context`: after its section's heading, a list item after its intro line).
A sentence is gold when it is, or holds, or lies inside one of the question's answer sentences once
markdown marks, spaces and case are set aside (the page's markdown and the product's reader text
differ in marks only).

It does not train (bench/train_reader.py) nor score anything.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from assistant.text import in_context, sentences
from ingest.parse import parse_markdown_file

SHARED_TRAINING = Path(__file__).resolve().parents[2] / "shared" / "training"
PROJECT_TRAINING = Path(__file__).resolve().parent / "training"
_MARKS = re.compile(r"[*_`#>\[\]()|]+|\s+")


@dataclass
class Item:
    id: str
    site: str  # <owner>+<repo>
    question: str
    lang: str
    kind: str
    contexts: list[str]  # every prose sentence of the page, in context
    gold: list[int]  # indices into contexts; empty for an unanswerable question
    near_miss: list[int] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"


def normalise(text: str) -> str:
    return _MARKS.sub(" ", text).strip().casefold()


def page_sentences(path: Path) -> list[tuple[str, str]]:
    """(sentence, sentence in context) for each prose sentence of a markdown page."""
    parsed = parse_markdown_file(path.read_bytes(), path.name)
    out: list[tuple[str, str]] = []
    for section in parsed.sections:
        heading = section.heading.text if section.heading else parsed.title
        lines = sentences("\n".join(section.blocks))
        out.extend(zip(lines, in_context(lines, heading), strict=True))
    return out


def matches(sentence: str, wanted: list[str]) -> bool:
    mine = normalise(sentence)
    if len(mine) < 8:
        return False
    return any(mine in w or (len(w) >= 8 and w in mine) for w in (normalise(x) for x in wanted))


def load(folder: Path) -> list[Item]:
    """Every question of a set whose page parses into sentences and, if answerable, whose answer
    sentences are found among them."""
    items: list[Item] = []
    cache: dict[Path, list[tuple[str, str]]] = {}
    for file in sorted((folder / "questions").glob("*.jsonl")):
        site = file.stem
        for line in file.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            q = json.loads(line)
            page = folder / "corpus" / site / q["page"]
            if page not in cache:
                cache[page] = page_sentences(page) if page.is_file() else []
            found = cache[page]
            if not found:
                continue
            gold = [i for i, (s, _) in enumerate(found) if matches(s, q.get("answer_sentences") or [])]
            near = [i for i, (s, _) in enumerate(found) if q.get("near_miss") and matches(s, [q["near_miss"]])]
            if q["kind"] != "unanswerable" and not gold:
                continue
            items.append(Item(q["id"], site, q["question"], q.get("lang", "da"), q["kind"],
                              [c for _, c in found], gold, near))
    return items


def ingest_site(root: Path, site: str, index_root: Path, reader: str | None = None):  # noqa: ANN201 - (Settings, str | None)
    """A training site ingested as it is into `index_root/<root's parent>-<site>` (incrementally): its
    settings (with `reader`, else the default one), and the ingest's error when it failed."""
    from assistant.settings import Settings
    from assistant.sites.sources import SourceSpec
    from ingest.pipeline import ingest

    settings = Settings(index_dir=index_root / f"{root.parent.name}-{site}", **({"reader": reader} if reader else {}))
    name = site.replace("+", "-").replace(".", "-").lower()
    report = ingest(settings, [SourceSpec(name=name, path=(root / "corpus" / site).resolve())], progress=False)
    return settings, (report.sources[0].error if report.failed else None)


def load_all(project: bool = True) -> list[Item]:
    """The shared training questions, and (`project`) those written for this project."""
    items = load(SHARED_TRAINING) if (SHARED_TRAINING / "questions").is_dir() else []
    if project and (PROJECT_TRAINING / "questions").is_dir():
        items += load(PROJECT_TRAINING)
    return items


if __name__ == "__main__":
    from collections import Counter

    all_items = load_all()
    print(len(all_items), "items;", Counter(i.kind for i in all_items))
    print(Counter(i.site for i in all_items))
    print("answerable with gold:", sum(1 for i in all_items if i.gold))
