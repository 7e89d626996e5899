"""The BM25 index over Danish passages: ranking, typo tolerance, synonyms, filters and speed."""

from __future__ import annotations

import random
import re
import time
import unicodedata
from pathlib import Path

import pytest

from assistant.retrieve.danish_analyzer import DanishAnalyzer
from assistant.retrieve.lexical import LexicalIndex
from tests.conftest import PRODUKTMODNING as CORPUS

DOCS = {
    "netvaerk": "Faglige netværk › Produktforvaltere\n"
    "Det formelle netværk for produktforvaltere etableres 16. juni 2026 og mødes to gange om året.",
    "maal": "Vision › Målsætning\nVores målsætning er at øge genbrug af kode på tværs af kommunerne.",
    "sikkerhed": "Overvågning › Sikkerhedsscripts\nSikkerhedsscripts kører, når en hændelse udløses.",
    "spor": "Produktforvaltning › Hovedspor\n"
    "Det daglige arbejde deles op i fire hovedspor: drift, udvikling, økonomi og kommunikation.",
    "admin": "Administration › Admin\nSom admin kan du oprette brugere og give dem adgang til siden.",
    "maintainers": "Maintainers › Becoming a maintainer\n"
    "To become a maintainer, open a pull request and ask the current maintainers.",
    "print": "Printere › Opsætning\nSådan opsætter du en printer på en pc, der er tilsluttet netværket.",
}


@pytest.fixture(scope="module")
def small() -> LexicalIndex:
    return LexicalIndex(list(DOCS), list(DOCS.values()))


def top(index: LexicalIndex, query: str, k: int = 20, **kw) -> list[str]:
    return [doc_id for doc_id, _ in index.search(query, k, **kw)]


def paragraphs(root: Path) -> tuple[list[str], list[str]]:
    """Every paragraph of a Jekyll docs tree as ("path#n", "title › heading\\nparagraph")."""
    assert root.is_dir(), f"the shared corpus is missing: {root} (tests read ../shared/corpus)"
    ids, texts = [], []
    for md in sorted(p for p in root.rglob("*.md") if p.is_file()):
        raw = md.read_text(encoding="utf-8", errors="replace")
        title, heading = md.stem, ""
        if front := re.match(r"\A---\n(.*?)\n---\n", raw, re.S):
            if found := re.search(r'^title:\s*"?(.*?)"?\s*$', front.group(1), re.M):
                title = found.group(1)
            raw = raw[front.end() :]
        rel = unicodedata.normalize("NFC", md.relative_to(root).as_posix())
        for n, para in enumerate(p.strip() for p in re.split(r"\n\s*\n", raw)):
            if para:
                if h := re.match(r"#+\s*(.*)", para):
                    heading = h.group(1)
                ids.append(f"{rel}#{n}")
                texts.append(f"{title} › {heading}\n{para}")
    return ids, texts


@pytest.fixture(scope="module")
def corpus() -> LexicalIndex:
    return LexicalIndex(*paragraphs(CORPUS))


# --- search ---------------------------------------------------------------------------------------


def test_len_counts_passages(small):
    assert len(small) == len(DOCS)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Hvor tit modes netvaerket?", "netvaerk"),  # "mødes" and "netværket" as typed without æ/ø
        ("Hvad er vores malsaetning for genbrug af kode?", "maal"),
        ("Hvad er vores målsætning for genbrug af kode?", "maal"),
        ("hvordan opsaetter jeg en printer", "print"),
    ],
)
def test_query_without_diacritics_finds_the_right_doc(small, query, expected):
    assert top(small, query)[0] == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("hovespor", "spor"),
        ("sikkerhedscripts", "sikkerhed"),
        ("Admn", "admin"),
        ("maintainr", "maintainers"),
    ],
)
def test_typo_query_finds_the_right_doc(small, query, expected):
    assert top(small, query)[0] == expected


def test_typo_is_mapped_to_the_nearest_index_term(small):
    assert small.correct("hovespor") == ("hovedspor",)
    assert small.correct("admn") == ("admin",)
    assert small.correct("zzzzzz") == ()


def test_whole_compound_match_outranks_a_doc_with_only_its_parts():
    index = LexicalIndex(
        ["whole", "parts", "other"],
        ["Produktforvaltningsorganisation i OS2", "Et produkt kræver forvaltning og organisation", "Print"],
        DanishAnalyzer(["produkt forvaltning organisation"]),
    )
    assert top(index, "produktforvaltningsorganisation") == ["whole", "parts"]


def test_english_question_does_not_break(small):
    assert top(small, "How do I become a maintainer?")[0] == "maintainers"


@pytest.mark.parametrize(
    "query",
    ["", "   ", "?!.,;:-–—", "😀🎉👍", "这是什么问题", "ما هذا السؤال", "og i på det", "x", "zqxjv wqpfk"],
)
def test_bad_queries_return_nothing(small, query):
    assert small.search(query) == []


def test_huge_and_random_queries_do_not_fail(small):
    rng = random.Random(7)
    noise = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzæøå0123456789 .,!?😀中") for _ in range(10_000))
    assert isinstance(small.search(noise), list)
    assert top(small, "netværk " * 1250)[0] in ("netvaerk", "print")


def test_results_are_best_first_positive_and_limited():
    index = LexicalIndex(["a", "b", "c", "d"], ["kode", "kode netværk", "kode netværk printer", "borger"])
    hits = index.search("printer netværk kode")
    assert [doc_id for doc_id, _ in hits] == ["c", "b", "a"]  # "d" matches nothing: left out
    assert hits[0][1] > hits[1][1] > hits[2][1] > 0
    assert top(index, "printer netværk kode", k=2) == ["c", "b"]


def test_allowed_restricts_results(small):
    assert top(small, "netværk", allowed={"print"}) == ["print"]
    assert top(small, "netværk", allowed=["maal", "unknown-id"]) == []
    assert top(small, "netværk", allowed=[]) == []


def test_empty_index_and_bad_arguments():
    assert LexicalIndex([], []).search("netværk") == []
    assert LexicalIndex(["a"], ["og i på"]).search("netværk") == []
    assert LexicalIndex(["a"], ["netværk"]).search("netværk", k=0) == []
    with pytest.raises(ValueError):
        LexicalIndex(["a", "a"], ["x", "y"])
    with pytest.raises(ValueError):
        LexicalIndex(["a"], ["x", "y"])


# --- the os2produktmodning corpus -----------------------------------------------------------------


def test_corpus_question_without_diacritics_ranks_network_page_first(corpus):
    hits = top(corpus, "Hvilken dato etableres netvaerket for produktportefoljens forvaltere?")
    assert hits[0].startswith("docs/fagligenetværk/produktforvaltere/produktforvaltere.md#")


def test_corpus_question_with_typo_finds_the_four_main_tracks(corpus):
    hits = top(corpus, "Hvilke fire hovespor inddeles arbejdet i?", k=3)  # the page is fourth without "hovedspor"
    page = "docs/Generelle anbefalinger/produktforvaltning/OS2produktforvaltning.md#"
    assert any(h.startswith(page) for h in hits), hits


def test_index_build_and_queries_are_fast():
    ids, texts = paragraphs(CORPUS)
    ids, texts = ids[:500], texts[:500]
    DanishAnalyzer()  # the shared dictionaries load once per process; not part of the build
    start = time.perf_counter()
    index = LexicalIndex(ids, texts)
    build = time.perf_counter() - start
    rng = random.Random(3)
    queries = [" ".join(rng.choice(texts).split()[:10]) for _ in range(200)]
    start = time.perf_counter()
    for q in queries:
        index.search(q, 20)
    mean = (time.perf_counter() - start) / len(queries)
    assert build < 30, f"build took {build:.1f} s"
    assert mean < 0.020, f"mean query {mean * 1000:.1f} ms"


def test_an_everyday_word_weighs_less_than_a_rare_one_with_the_same_document_frequency():
    """Each word is in one passage, so BM25 alone ties them; Danish at large uses "igen" all the
    time and "tidsplan" seldom, so the passage about the schedule wins."""
    index = LexicalIndex(["igen", "tidsplan", "andet"],
                         ["Maskinen starter igen.", "Maskinen følger en tidsplan.", "Maskinen er slukket."])
    assert [i for i, _ in index.search("starter maskinen igen efter en tidsplan")][0] == "tidsplan"


# --- synonyms -------------------------------------------------------------------------------------


def test_a_paraphrase_finds_the_passage_through_a_synonym():
    """The question says "virkningen", the page says "effekt" (Debian's Danish thesaurus, mythes-da)."""
    index = LexicalIndex(
        ["effekt", "andet"],
        ["Hvis man fjerner et script fra en gruppe, fjernes scriptets effekt ikke fra computerne.",
         "Et script kan køres på en gruppe af computere fra gruppens side."])
    assert top(index, "Forsvinder virkningen af et script?") == ["effekt", "andet"]
    assert top(index, "Forsvinder virkningen?") == ["effekt"]  # found by the synonym alone
    # A synonym counts less than the word itself.
    both = LexicalIndex(["ord", "synonym"], ["Scriptets virkning varer.", "Scriptets effekt varer."])
    assert top(both, "virkning") == ["ord", "synonym"]


def test_together_says_whether_one_passage_has_all_the_terms(small):
    assert small.together(["netvark", "produktforvalt"])  # both in the network passage
    assert not small.together(["netvark", "admin"])  # each in another passage
    assert small.together(["netvrk", "produktforvalt"])  # a typo is corrected first
    assert not small.together(["rodgrod"])


def test_a_long_run_of_letters_is_not_typo_corrected(small):
    """Its deletion neighbourhood would take seconds and gigabytes (a 1,800-letter "word")."""
    start = time.perf_counter()
    assert small.correct("qwrtpsdfghjklzxcvbnm" * 90) == () and small.correct("文档" * 500) == ()
    assert not small.together(["qwrtpsdfghjklzxcvbnm" * 90, "netvark"])
    assert time.perf_counter() - start < 1
