"""Hybrid retrieval: filters, the page's top heading, score fusion, one page not crowding out the
others, and a search over a real index."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.models import Chunk
from assistant.retrieve.retriever import Filters, Passage, Query, Retriever, diversify, fuse, top_headings
from assistant.settings import Settings


def chunk(path: str, ordinal: int = 0, headings: tuple[str, ...] = ("Afsnit",), source: str = "docs",
          text: str = "Tekst.") -> Chunk:
    return Chunk(source=source, path=path, title=path, breadcrumb=(path,), headings=headings, anchor="",
                 url=f"https://x.dk/{path}", date="", text=text, ordinal=ordinal)


def test_filters_keep_one_source_and_one_folder():
    inside, other_folder, other_source = chunk("vejledning/a.md"), chunk("nyheder/b.md"), chunk("vejledning/c.md", source="x")
    filters = Filters(source="docs", path_prefix="/vejledning/")
    assert [filters.allows(c) for c in (inside, other_folder, other_source)] == [True, False, False]
    assert filters.active and not Filters().active and Filters().allows(other_source)


def test_a_page_has_a_top_heading_only_when_all_its_chunks_sit_under_it():
    chunks = [chunk("a.md", 0, ("Forside", "Mål")), chunk("a.md", 1, ("Forside",)),
              chunk("b.md", 0, ("Mål",)), chunk("b.md", 1, ("Plan",)), chunk("c.md", 0, ())]
    assert top_headings(chunks) == {("docs", "a.md"): "Forside"}


def _snapshot(*chunks: Chunk) -> SimpleNamespace:  # fuse reads only the snapshot's chunks
    return SimpleNamespace(chunks={c.path: c for c in chunks})


def test_fusion_weighs_the_lexical_and_the_dense_ranking_by_the_dense_share():
    snap = _snapshot(chunk("words.md"), chunk("meaning.md"))
    dense, lexical = {"words.md": 0.50, "meaning.md": 0.90}, {"words.md": 12.0, "meaning.md": 3.0}
    settings = Settings()
    by_words = fuse(dense, lexical, snap, 2, settings, dense_weight=0.2)  # type: ignore[arg-type]
    by_meaning = fuse(dense, lexical, snap, 2, settings, dense_weight=0.8)  # type: ignore[arg-type]
    assert [p.id for p in by_words] == ["words.md", "meaning.md"]
    assert [p.id for p in by_meaning] == ["meaning.md", "words.md"]
    top = by_meaning[0]
    assert (top.dense, top.lexical, top.dense_rank, top.lexical_rank) == (0.90, 3.0, 0, 1)


def test_a_passage_found_by_one_ranking_only_still_takes_part():
    snap = _snapshot(chunk("a.md"), chunk("b.md"))
    ranked = fuse({"a.md": 0.8}, {"b.md": 5.0}, snap, 5, Settings(), dense_weight=0.5)  # type: ignore[arg-type]
    assert {p.id for p in ranked} == {"a.md", "b.md"}
    assert fuse({}, {}, snap, 5, Settings()) == []  # type: ignore[arg-type]


def test_the_preferred_kind_of_passage_gets_the_bonus():
    snap = _snapshot(chunk("a.md", text="Det er gratis."), chunk("b.md", text="Prisen er 500 kr."))
    settings = Settings()
    plain = fuse({"a.md": 0.6, "b.md": 0.6}, {"a.md": 4.0, "b.md": 3.9}, snap, 2, settings)  # type: ignore[arg-type]
    preferred = fuse({"a.md": 0.6, "b.md": 0.6}, {"a.md": 4.0, "b.md": 3.9}, snap, 2, settings,  # type: ignore[arg-type]
                     prefer=lambda c: "kr." in c.text)
    assert plain[0].id == "a.md" and preferred[0].id == "b.md"
    assert preferred[0].score - plain[1].score == pytest.approx(settings.answer_type_bonus)


def test_one_page_does_not_crowd_out_the_others():
    ranked = [Passage(f"a{i}", chunk("a.md", i), 1.0 - i / 10) for i in range(4)] + [Passage("b", chunk("b.md"), 0.1)]
    assert [p.id for p in diversify(ranked, 3, per_page=2)] == ["a0", "a1", "b"]
    assert [p.id for p in diversify(ranked, 10, per_page=2)] == ["a0", "a1", "b", "a2", "a3"]


def test_a_query_carries_the_conversation_into_both_rankings():
    query = Query("Hvad koster det?", context="leverandør hackaton")
    assert query.lexical_text == "Hvad koster det? leverandør hackaton"
    assert query.dense_text == "leverandør hackaton Hvad koster det?"


@pytest.fixture(scope="module")
def retriever(index_current: Path) -> Retriever:
    return Retriever.open(Settings(index_dir=index_current))


def test_search_finds_the_page_by_its_words_and_limits_to_k(retriever: Retriever):
    passages = retriever.search("Hvordan bliver man medlem af en styregruppe?", k=4)
    assert len(passages) == 4
    assert any("styregruppe" in p.chunk.embed_text.lower() for p in passages[:2])


def test_search_within_a_folder_returns_only_that_folder(retriever: Retriever):
    folders = {c.path.split("/", 1)[0] for c in retriever.snapshot().chunks.values() if "/" in c.path}
    folder = sorted(folders)[0]
    passages = retriever.search("Hvem er med?", k=5, filters=Filters(path_prefix=folder + "/"))
    assert passages and all(p.chunk.path.startswith(folder + "/") for p in passages)
