"""Trains a cross-encoder beside the reader: the question and one candidate sentence read together
by multilingual-e5-small, a score that the sentence answers the question out.

    python -m bench.train_cross --hold-out OS2mo+os2mo --hold-out eltociear+powerbi-docs.da-dk
                                                   # train on the rest, report on those, write nothing
    python -m bench.train_cross --out FILE.npz     # train on every training site, write the model

Measured and not shipped (BENCHMARKS.md, "A cross-encoder that reads the question and the sentence
together"): on held-out training sites it ranks the answering sentence first more often than the
reader and separates near misses better, but on the development sites' tuning questions it neither
chose better sentences nor declined near misses that the shipped checks let through without declining
answerable questions too. `--out` writes its trained layers and head in the reader's shipped format
(assistant/read/weights.py), for such experiments.

Data: bench/reader_data.py (../shared/training and bench/training, never the development sites). Each
question is a group: its page's answering sentences (label 1), and as label 0 the sentence of the page
that shares most words with it, the near miss's careless sentence, random other sentences of the page,
and (an answerable question) the answering sentence of another page of its site, which is what the
passages bring when the page does not answer. Loss: binary cross-entropy on every pair (the score is
one calibrated "answers" probability for abstention) plus, for groups with an answer, a softmax over
the group (the ranking). The word embeddings and the lowest layers stay e5's (less to train and to
ship); the head is a linear layer on the mean-pooled last layer. Seeded; 2 threads; a progress bar.

Reported on held-out sites, every sentence of the page a candidate: how often the answering sentence
ranks first (answerable questions) for the cosine, when the cross-encoder reorders the cosine's first
16 or 8 (how the product would use it: it reads too slowly to read every sentence), and when the
cosine and the cross-encoder's probability are added (BLEND); and the ROC AUC with which the best
score tells answerable questions from near misses, beside a question-only baseline (character n-grams
of the question alone, trained on the training questions) and the cosine's.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

from bench.reader_data import Item, load_all
from bench.train_reader import auc, hard_negative, scorer, step_with, warmup_then_linear

SHORTLIST = 8
BLEND = 0.1  # weight of the cross-encoder's probability beside the cosine (the blend's figures)


def groups(items: list[Item], negatives: int, rng: random.Random) -> list[tuple[str, list[str], list[float]]]:
    """(question, candidate sentences, labels) per training question."""
    by_site: dict[str, list[Item]] = {}
    for item in items:
        by_site.setdefault(item.site, []).append(item)
    out = []
    for item in items:
        chosen: list[int] = list(item.gold[:2])
        hard = hard_negative(item)
        for index in [*item.near_miss[:1], *([hard] if hard is not None else [])]:
            if index not in chosen:
                chosen.append(index)
        rest = [i for i in range(len(item.contexts)) if i not in chosen and i not in item.gold]
        rng.shuffle(rest)
        chosen += rest[:max(0, negatives - (len(chosen) - len(item.gold[:2])))]
        texts = [item.contexts[i] for i in chosen]
        labels = [1.0 if i in item.gold else 0.0 for i in chosen]
        others = [o for o in by_site[item.site] if o.contexts is not item.contexts and o.gold]
        if item.answerable and others:
            other = rng.choice(others)
            texts.append(other.contexts[other.gold[0]])
            labels.append(0.0)
        out.append((item.question, texts, labels))
    return out


class Cross:
    """e5-small read as a cross-encoder: `query: q` and `passage: s` as one pair, mean-pooled, a head."""

    def __init__(self, base: Path, frozen_layers: int, max_tokens: int) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(base))
        self.model = AutoModel.from_pretrained(str(base), attn_implementation="eager")
        self.model.embeddings.requires_grad_(False)
        for layer in self.model.encoder.layer[:frozen_layers]:
            layer.requires_grad_(False)
        self.head = torch.nn.Linear(self.model.config.hidden_size, 1)
        self.max_tokens = max_tokens

    def parameters(self) -> list:  # the encoder's trained tensors (the head's are its own group)
        return [p for p in self.model.parameters() if p.requires_grad]

    def scores(self, questions: list[str], sentences: list[str]):  # noqa: ANN201 - torch in, torch out
        features = self.tokenizer([f"query: {q}" for q in questions], [f"passage: {s}" for s in sentences],
                                  truncation="longest_first", max_length=self.max_tokens, padding=True,
                                  return_tensors="pt")
        hidden = self.model(**features).last_hidden_state
        mask = features["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1)

    def train(self, mode: bool = True) -> None:
        self.model.train(mode)
        self.head.train(mode)


def train(cross: Cross, items: list[Item], epochs: int, groups_per_step: int, lr: float, seed: int,
          negatives: int) -> None:
    import torch
    from tqdm import tqdm

    rng = random.Random(seed)
    params = cross.parameters()
    optimiser = torch.optim.AdamW([{"params": params}, {"params": list(cross.head.parameters()), "lr": 1e-3}],
                                  lr=lr, weight_decay=0.01)
    data = groups(items, negatives, rng)
    steps = epochs * math.ceil(len(data) / groups_per_step)
    schedule = warmup_then_linear(optimiser, steps)
    cross.train()
    bar = tqdm(total=steps, desc="training the cross-encoder", unit="step", file=sys.stderr)
    for _ in range(epochs):
        rng.shuffle(data)
        for start in range(0, len(data), groups_per_step):
            batch = data[start:start + groups_per_step]
            questions = [q for q, texts, _ in batch for _ in texts]
            logits = cross.scores(questions, [t for _, texts, _ in batch for t in texts])
            labels = torch.tensor([y for _, _, ys in batch for y in ys])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
            at = 0
            for _, texts, ys in batch:  # the ranking: a softmax over each group with an answer
                part = logits[at:at + len(texts)]
                target = torch.tensor(ys)
                if target.sum() > 0:
                    loss = loss - (torch.log_softmax(part, 0) * target / target.sum()).sum() / len(batch)
                at += len(texts)
            step_with(loss, params, optimiser, schedule, bar)
    bar.close()
    cross.train(False)


def evaluate(cross: Cross, cosine, items: list[Item], train_items: list[Item], label: str) -> dict[str, float]:  # noqa: ANN001
    """First (the cosine's first 16 or 8 reordered by the cross-encoder) and AUC, with the baselines'."""
    import torch

    started = time.perf_counter()
    rows: dict[str, list] = {k: [] for k in ("cos_first", "cross_first", "short_first", "cos_a", "cos_u",
                                             "cross_a", "cross_u", "both_first", "both_a", "both_u")}
    with torch.no_grad():
        for item, cos in zip(items, scorer(cosine, items), strict=True):
            wide = np.argsort(-cos)[:2 * SHORTLIST]
            got = np.full(len(cos), -np.inf)
            got[wide] = cross.scores([item.question] * len(wide), [item.contexts[k] for k in wide]).numpy()
            short = wide[:SHORTLIST]
            both = cos[short] + BLEND / (1.0 + np.exp(-got[short]))  # the cosine and the cross-encoder's probability
            if item.answerable:
                rows["both_first"].append(int(short[np.argmax(both)]) in item.gold)
                rows["both_a"].append(float(both.max()))
                rows["cos_first"].append(int(np.argmax(cos)) in item.gold)
                rows["cross_first"].append(int(np.argmax(got)) in item.gold)
                rows["short_first"].append(int(short[np.argmax(got[short])]) in item.gold)
                rows["cos_a"].append(float(cos.max()))
                rows["cross_a"].append(float(got[short].max()))
            else:
                rows["cos_u"].append(float(cos.max()))
                rows["cross_u"].append(float(got[short].max()))
                rows["both_u"].append(float(both.max()))
    figures = {"cosine first": float(np.mean(rows["cos_first"])),
               "cross on the cosine's 16": float(np.mean(rows["cross_first"])),
               "cross on the cosine's 8": float(np.mean(rows["short_first"])),
               f"cosine + {BLEND} × probability on the cosine's 8": float(np.mean(rows["both_first"])),
               "cosine AUC": auc(rows["cos_a"], rows["cos_u"]), "cross AUC": auc(rows["cross_a"], rows["cross_u"]),
               "blend AUC": auc(rows["both_a"], rows["both_u"]),
               "question-only AUC": question_only_auc(train_items, items)}
    print(f"{label} ({len(rows['cos_first'])} answerable, {len(rows['cos_u'])} near misses): "
          + ", ".join(f"{k} {v:.3f}" for k, v in figures.items())
          + f" ({time.perf_counter() - started:.0f} s)", flush=True)
    return figures


def question_only_auc(train_items: list[Item], items: list[Item]) -> float:
    """What the question's wording alone gives away: character n-grams, logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)
    x = vectoriser.fit_transform([i.question for i in train_items])
    model = LogisticRegression(max_iter=2000, C=4.0).fit(x, [i.answerable for i in train_items])
    p = model.predict_proba(vectoriser.transform([i.question for i in items]))[:, 1]
    return auc([s for s, i in zip(p, items, strict=True) if i.answerable],
               [s for s, i in zip(p, items, strict=True) if not i.answerable])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hold-out", action="append", default=[], help="a training site to hold out")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--groups", type=int, default=4, help="questions a training step")
    parser.add_argument("--negatives", type=int, default=5, help="sentences of the page a question is trained against")
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--frozen-layers", type=int, default=6, help="lowest encoder layers left as e5's")
    parser.add_argument("--max-tokens", type=int, default=128, help="word pieces a question and sentence are cut to")
    parser.add_argument("--limit", type=int, default=0, help="train on this many questions only (a quick try)")
    parser.add_argument("--cache", type=Path, default=Path("data/cache"))
    parser.add_argument("--out", type=Path, default=None, help="where the trained layers and head go (.npz)")
    args = parser.parse_args(argv)

    import torch
    from sentence_transformers import SentenceTransformer

    from assistant.embed import e5_bundle

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(2)
    base = e5_bundle.model_folder(args.cache)
    items = load_all()
    held = set(args.hold_out)
    train_items = [i for i in items if i.site not in held]
    test_items = [i for i in items if i.site in held]
    if args.limit:
        train_items = random.Random(args.seed).sample(train_items, min(args.limit, len(train_items)))
    print(f"train {len(train_items)} questions, held out {len(test_items)} ({', '.join(sorted(held)) or 'none'})",
          flush=True)
    started = time.perf_counter()
    cross = Cross(base, args.frozen_layers, args.max_tokens)
    train(cross, train_items, args.epochs, args.groups, args.lr, args.seed, args.negatives)
    print(f"trained in {time.perf_counter() - started:.0f} s on {torch.get_num_threads()} threads", flush=True)
    if test_items:
        cosine = SentenceTransformer(str(base), device="cpu")
        evaluate(cross, cosine, test_items, train_items, "held out")
    if args.out:
        from assistant.read.weights import save_tensors

        trained = {n: p.detach().numpy() for n, p in cross.model.named_parameters()
                   if p.requires_grad and not n.startswith("pooler.")}  # the pooler is not read
        trained["head.weight"] = cross.head.weight.detach().numpy().reshape(-1)  # a vector: kept fp32
        trained["head.bias"] = cross.head.bias.detach().numpy()
        out = save_tensors(trained, args.out)
        print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    print(f"wall clock {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
