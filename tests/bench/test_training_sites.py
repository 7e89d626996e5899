"""The training sites asked as the product asks them: bench/site_negatives.py (the reader's negatives
mined from the product's retrieval on a question's whole site, never a sentence that answers it) and
bench/reader_sites.py (the reader measured there)."""

import json
from pathlib import Path

from bench.reader_data import load
from bench.site_negatives import answers, mine
from bench.train_reader import with_site_negatives

SITE = "someone+guide"
PAGES = {
    "ferie.md": "# Ferie\n\nDu har ret til 25 feriedage om året.\n\nFerie skal aftales med din leder i god tid.\n\n"
                "Ferie kan holdes i hele ferieafholdelsesperioden.\n",
    "oversigt.md": "# Oversigt over regler\n\nDu har ret til 25 feriedage om året.\n\n"
                   "Feriedage om året optjenes løbende hver måned.\n\nSygdom meldes til lederen før kl. 9.\n",
}


def _training_folder(tmp_path: Path) -> Path:
    root = tmp_path / "training"
    (root / "corpus" / SITE).mkdir(parents=True)
    for name, text in PAGES.items():
        (root / "corpus" / SITE / name).write_text(text, encoding="utf-8")
    (root / "questions").mkdir()
    near_miss = {"id": "g-2", "site": "someone/guide@0", "page": "ferie.md", "heading": "Ferie", "lang": "da",
                 "question": "Hvor mange feriedage får en elev om året?", "kind": "unanswerable",
                 "near_miss": "Du har ret til 25 feriedage om året."}
    question = {"id": "g-1", "site": "someone/guide@0", "page": "ferie.md", "heading": "Ferie", "lang": "da",
                "question": "Hvor mange feriedage har jeg ret til om året?", "kind": "lookup",
                "answer_sentences": ["Du har ret til 25 feriedage om året."], "answer": "25 dage."}
    (root / "questions" / f"{SITE}.jsonl").write_text(json.dumps(question) + "\n" + json.dumps(near_miss) + "\n",
                                                      encoding="utf-8")
    return root


def test_a_sentence_that_holds_the_answer_is_no_negative_wherever_it_stands() -> None:
    gold = ["Ferie: Du har ret til 25 feriedage om året."]
    assert answers("Oversigt over regler: Du har ret til 25 feriedage om året.", ["Du har ret til 25 feriedage om året."])
    assert answers("Du har ret til 25 feriedage om året.", gold)
    assert not answers("Oversigt over regler: Feriedage om året optjenes løbende hver måned.", gold)


def test_the_site_negative_comes_first_and_the_count_stays_the_pages() -> None:
    page = {("s", "1"): ["page mistake"], ("s", "2"): ["page only"]}
    site = {("s", "1"): ["site mistake"], ("s", "3"): ["site only"]}
    assert with_site_negatives(page, site) == {("s", "1"): ["site mistake"], ("s", "2"): ["page only"],
                                               ("s", "3"): ["site only"]}


def test_the_negative_is_the_retrievals_best_candidate_that_does_not_answer(tmp_path: Path) -> None:
    root = _training_folder(tmp_path)
    items = [i for i in load(root) if i.answerable]
    assert len(items) == 1 and items[0].gold
    cache = tmp_path / "negatives.json"
    found = mine(items, index_root=tmp_path / "indexes", cache=cache, progress=False, roots=(root,))
    negative = found[SITE, "g-1"]
    assert len(negative) == 1
    # a sentence of the site, from either page, in context as embedded, and not the answer repeated
    # on the overview page (the candidate the untrained model likes best)
    assert not answers(negative[0], ["Du har ret til 25 feriedage om året."])
    assert any(line in negative[0] for text in PAGES.values() for line in text.splitlines() if len(line) > 20)
    # cached by site and id: asked again, nothing is retrieved
    assert json.loads(cache.read_text(encoding="utf-8")) == {f"{SITE}\x00g-1": negative}
    assert mine(items, index_root=tmp_path / "nowhere", cache=cache, progress=False, roots=(root,)) == found


def test_the_product_level_figures_count_the_lead_the_candidates_and_the_decisions(tmp_path: Path) -> None:
    from assistant.serve.service import Assistant
    from assistant.settings import Settings
    from assistant.sites.sources import SourceSpec
    from bench.reader_sites import line, site_figures
    from ingest.pipeline import ingest

    root = _training_folder(tmp_path)
    settings = Settings(index_dir=tmp_path / "index", reader="cosine")
    assert not ingest(settings, [SourceSpec(name="guide", path=root / "corpus" / SITE)], progress=False).failed
    questions = [json.loads(x) for x in (root / "questions" / f"{SITE}.jsonl").read_text(encoding="utf-8").splitlines()]
    figures = site_figures(Assistant.open(settings), questions)
    # one answerable question (its answering sentence is a candidate), one near miss
    assert figures["in"] == [True] and len(figures["answered"]) == 1 and len(figures["declined"]) == 1
    assert figures["first"] == [True]  # the sentence that answers leads (on either page)
    assert len(figures["best+"]) == 1 and len(figures["best-"]) == 1
    assert line("guide", figures).startswith("| guide | 1+1 | 1.000 (1) | 1.000 |")
