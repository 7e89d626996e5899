"""The reader's hardest negatives as the product meets them: for each answerable training question,
the sentence the untrained model ranks first among the candidates the product's own retrieval brings
up on the question's whole site (any page, not only the question's), when it does not answer.
`python -m bench.train_reader --site-negatives` trains with them in place of the page's; measured on
held-out sites as the product asks them (bench/reader_sites.py), no better (BENCHMARKS.md), so off.

    python -m bench.site_negatives            # mine (or refresh) the cache and print a few

Each training site is ingested as it is (data/eval/training/<root>-<site>, incrementally, as
bench/answer_types.py does); the question is retrieved there with the cosine reader (e5 as bundled:
its mistakes, not the trained reader's, whose training questions these are) and the candidates of
the answer's passages scored as the answerer scores them. A candidate is never a negative when it is
or holds one of the question's answering sentences, wherever it stands (a page may repeat another).
Results are cached by site and question id in data/cache/site-negatives.json; a site that cannot be
ingested (a format the ingest does not read) keeps its questions' in-page negatives.

It does not train (bench/train_reader.py).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.reader_data import PROJECT_TRAINING, SHARED_TRAINING, Item, ingest_site, load_all, normalise

INDEX_ROOT = Path("data/eval/training")
CACHE = Path("data/cache/site-negatives.json")


def _root_of(site: str, roots: Sequence[Path]) -> Path | None:
    for root in roots:
        if (root / "corpus" / site).is_dir():
            return root
    return None


def answers(sentence: str, gold: Sequence[str]) -> bool:
    """Whether a candidate is, holds or lies inside an answering sentence (in context or alone)."""
    mine = normalise(sentence)
    return any(mine in g or g in mine for g in (normalise(x) for x in gold) if g)


def mine(items: list[Item], index_root: Path = INDEX_ROOT, cache: Path = CACHE, progress: bool = True,
         roots: Sequence[Path] = (SHARED_TRAINING, PROJECT_TRAINING)) -> dict[tuple[str, str], list[str]]:
    """(site, id) → the retrieval's best non-answering candidate, as embedded (one text, or none);
    `roots`: the training folders whose `corpus/<site>` the items come from."""
    from tqdm import tqdm

    from assistant.offline import go_offline

    go_offline()
    from assistant.answer.abstain import readable
    from assistant.serve.service import Assistant

    known: dict[str, list[str]] = json.loads(cache.read_text(encoding="utf-8")) if cache.is_file() else {}
    asked = [i for i in items if i.answerable and i.gold]
    by_site: dict[str, list[Item]] = {}
    for item in asked:
        if f"{item.site}\x00{item.id}" not in known:
            by_site.setdefault(item.site, []).append(item)
    bar = tqdm(total=sum(len(v) for v in by_site.values()), desc="mining site negatives", unit="question",
               file=sys.stderr, disable=not progress)
    for site, site_items in sorted(by_site.items()):
        root = _root_of(site, roots)
        if root is None:
            bar.update(len(site_items))
            continue
        settings, error = ingest_site(root, site, index_root, reader="cosine")
        if error is not None:
            print(f"{site}: not ingested ({error}); its in-page negatives serve", file=sys.stderr)
            bar.update(len(site_items))
            continue
        assistant = Assistant.open(settings)
        for item in site_items:
            gold = [item.contexts[g] for g in item.gold]
            found = assistant.retrieve(item.question)
            texts = [(sentence, context) for passage in found.passages[:settings.answer_passages]
                     for _, sentence, context in readable(passage)]
            best: list[str] = []
            if texts:
                scores = found.score([c for _, c in texts])
                ranked = sorted(range(len(texts)), key=lambda k: -float(scores[k]))
                best = next(([texts[k][1]] for k in ranked
                             if not answers(texts[k][0], gold) and not answers(texts[k][1], gold)), [])
            known[f"{item.site}\x00{item.id}"] = best
            bar.update(1)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(known, ensure_ascii=False), encoding="utf-8")  # a site at a time
    bar.close()
    return {(i.site, i.id): known.get(f"{i.site}\x00{i.id}", []) for i in asked}


if __name__ == "__main__":
    everything = load_all()
    found = mine(everything)
    with_one = [k for k, v in found.items() if v]
    print(f"{len(with_one)} of {len(found)} answerable questions have a site negative")
    by_id = {(i.site, i.id): i for i in everything}
    for key in with_one[:: max(1, len(with_one) // 8)]:
        print(f"- {by_id[key].question}\n  gold: {by_id[key].contexts[by_id[key].gold[0]][:120]}\n"
              f"  negative: {found[key][0][:120]}")
