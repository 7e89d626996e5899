import pytest

from assistant.embed.embedder import load_token_counter
from assistant.models import Page
from assistant.settings import Settings
from assistant.text import split_sentences
from ingest import chunk
from ingest.chunk import ChunkSizes, chunk_page
from ingest.chunk_counts import PieceCounter
from ingest.parse import parse_markdown_file
from ingest.site import scan_site
from tests.conftest import BORGERPC, PRODUKTMODNING, needs_shared

count = load_token_counter("all-MiniLM-L6-v2")
SIZES = ChunkSizes.of(Settings())


def page_from(markdown: str, rendered: bool = True) -> Page:
    parsed = parse_markdown_file(markdown.encode(), "p.md")
    return Page("s", "p.md", "https://x.dk/p.html", parsed.title, ("Forælder", parsed.title), "2026-01-01",
                "h", rendered, parsed.sections)


@pytest.mark.parametrize("root", [PRODUKTMODNING, pytest.param(BORGERPC, marks=needs_shared)], ids=lambda p: p.name)
def test_no_chunk_of_a_real_site_exceeds_the_model_input(root):
    for page in scan_site(root, root.name).pages:
        for piece in chunk_page(page, count, SIZES):
            assert count(piece.embed_text) <= 256, (page.path, piece.heading)
            assert piece.url and piece.title and piece.source


def test_long_section_is_split_at_sentences_and_nothing_is_lost():
    sentences = [f"Sætning nummer {i} handler om produktforvaltning i kommunerne." for i in range(120)]
    page = page_from("---\ntitle: Lang\n---\n# Lang\n" + " ".join(sentences))
    chunks = chunk_page(page, count, SIZES)
    assert len(chunks) > 3
    joined = " ".join(c.text for c in chunks)
    assert all(s in joined for s in sentences)
    assert all(count(c.embed_text) <= 256 for c in chunks)


def test_a_sentence_too_long_for_a_chunk_is_split_at_its_clauses():
    clauses = [f"punkt {i} gælder for alle borgerrettede maskiner i kommunen" for i in range(60)]
    page = page_from("---\ntitle: Krav\n---\n# Krav\nKravene er: " + "; ".join(clauses) + ".")
    chunks = chunk_page(page, count, SIZES)
    assert len(chunks) > 1 and all(count(c.embed_text) <= 256 for c in chunks)
    for piece in chunks:  # every piece ends where a clause ends, none in the middle of one
        assert piece.text.endswith((";", ".")), piece.text[-60:]
    assert all(c in " ".join(ch.text for ch in chunks) for c in clauses)


def test_abbreviations_do_not_end_a_piece_of_a_long_section():
    sentences = [f"Mødet nr. {i} starter kl. 10 og slutter ca. kl. 12 i lokale {i}." for i in range(80)]
    chunks = chunk_page(page_from("---\ntitle: Møder\n---\n# Møder\n" + " ".join(sentences)), count, SIZES)
    assert len(chunks) > 1
    assert all(c.text.endswith(".") and not c.text.endswith(("kl.", "nr.", "ca.")) for c in chunks)


def test_one_endless_word_sequence_is_split_at_words():
    page = page_from("---\ntitle: Ord\n---\n# Ord\n" + "ord" * 3000)
    assert all(count(c.embed_text) <= 256 for c in chunk_page(page, count, SIZES))


def test_tiny_sections_merge_with_a_sibling_and_cover_both_headings():
    page = page_from("---\ntitle: T\n---\n# T\n## A\nKort.\n## B\nOgså kort.\n")
    chunks = chunk_page(page, count, SIZES)
    assert len(chunks) == 1
    assert chunks[0].covers == ("T", "A", "B")
    assert chunks[0].anchor == "a"
    assert "B\nOgså kort." in chunks[0].text


def test_sections_under_different_parents_do_not_merge():
    page = page_from("---\ntitle: T\n---\n# Et\n## Et A\nKort.\n# To\n## To A\nOgså kort.\n")
    assert [c.anchor for c in chunk_page(page, count, SIZES)] == ["et-a", "to-a"]


def test_embedded_text_starts_with_title_and_heading_path():
    page = page_from("---\ntitle: Vejledning\n---\n# Start\n## Log ind\nBrug superuser.\n")
    chunk = chunk_page(page, count, SIZES)[0]
    assert chunk.embed_text.startswith("Vejledning › Start › Log ind\n")
    assert chunk.url == "https://x.dk/p.html#log-ind"
    assert chunk.breadcrumb == ("Forælder", "Vejledning")


def test_text_before_the_first_heading_links_to_the_page_itself():
    page = page_from("---\ntitle: T\n---\n" + "Indledning uden overskrift, lang nok til at stå alene. " * 5)
    chunk = chunk_page(page, count, SIZES)[0]
    assert chunk.headings == () and chunk.anchor == "" and chunk.url == "https://x.dk/p.html"


def test_static_markdown_chunks_have_no_anchor():
    page = page_from("# Titel\nTekst der står på en statisk fil.\n", rendered=False)
    assert all(c.anchor == "" and "#" not in c.url for c in chunk_page(page, count, SIZES))


def test_page_with_only_front_matter_gets_one_chunk_with_its_title():
    chunks = chunk_page(page_from("---\ntitle: Tom side\n---\n"), count, SIZES)
    assert [c.text for c in chunks] == ["Tom side"]


def test_a_line_that_announces_a_list_stays_with_the_list():
    """Where a chunk must end, the line before the list ("... på 3 måder:") moves to the list's chunk.
    More and more text before it moves the chunk boundary across the announcing line."""
    items = "\n".join(f"- en {kind} hvor deltagerne arbejder sammen i to dage om en fælles løsning"
                      for kind in ("Micro-Hackaton", "Leverandør Hackaton", "Open-Source Hackaton"))
    for n in range(4, 14):
        filler = "\n\n".join(f"Afsnit {i} beskriver baggrunden for hackatons i kommunerne og deres formål."
                             for i in range(n))
        page = page_from(f"---\ntitle: H\n---\n# H\n{filler}\n\n**Et Hackaton kan afvikles på 3 måder**:\n\n{items}\n")
        chunks = chunk_page(page, count, SIZES)
        intro = next(c for c in chunks if "på 3 måder" in c.text)
        assert "Micro-Hackaton" in intro.text, (n, [c.text for c in chunks])
        assert all(count(c.embed_text) <= 256 for c in chunks)


class CountingCounter:
    """The model's counter, keeping how many calls and characters it was given."""

    def __init__(self) -> None:
        self.calls = self.chars = self.longest = 0

    def __call__(self, text: str) -> int:
        self.calls += 1
        self.chars += len(text)
        self.longest = max(self.longest, len(text))
        return count(text)


def test_a_long_paragraph_is_chunked_in_a_few_counts_per_chunk_not_one_per_word():
    """A 200 KB paragraph without sentence ends took 10 s (a count of the growing piece per word):
    the work now grows with the text, a handful of counts per chunk."""
    paragraph = "kommunen har ansvaret for borgernes data og skal sikre at de behandles korrekt " * 2500
    counter = CountingCounter()
    chunks = chunk_page(page_from("---\ntitle: Lang\n---\n# Lang\n" + paragraph), counter, SIZES)
    assert all(count(c.embed_text) <= 256 for c in chunks)
    assert counter.calls < 25 * len(chunks), (counter.calls, len(chunks))
    assert counter.chars < 25 * len(paragraph), (counter.chars, len(paragraph))


@pytest.mark.parametrize("markdown", [
    "Sætning {i} om kommunens data, og borgernes ret til indsigt i dem. ",
    "ord{i} og flere ord uden punktum ",
    "- punkt {i} i en lang liste\n",
    "```\nkode linje {i} med nogle ord\n```\n",
], ids=["sentences", "words", "list", "code"])
def test_a_large_page_is_linear_work(markdown):
    """The red team's 5 MB page took 330 s: the characters counted stay a small multiple of the text,
    and no count reads the whole paragraph (one whole count of a 5 MB paragraph takes 4 s)."""
    body = "".join(markdown.format(i=i) for i in range(300_000 // len(markdown)))
    if markdown.startswith("```"):
        body = "```\n" + body.replace("```\n", "") + "```\n"
    counter = CountingCounter()
    chunks = chunk_page(page_from("---\ntitle: Stor\n---\n# Stor\n" + body), counter, SIZES)
    assert len(chunks) > 50
    assert counter.chars < 25 * len(body), (counter.chars, len(body))
    assert counter.longest < len(body) / 4, (counter.longest, len(body))


def _reference_split(block: str, budget: int) -> list[str]:
    """The greedy packing as it was written first: one count of the growing piece per unit."""
    def packed(units, too_long):
        out, current = [], ""
        for unit in units:
            if count(unit) > budget:
                if current:
                    out.append(current)
                    current = ""
                out.extend(too_long(unit))
                continue
            candidate = f"{current} {unit}".strip()
            if count(candidate) > budget:
                out.append(current)
                current = unit
            else:
                current = candidate
        return out + ([current] if current else [])

    def words(clause):
        out, current = [], []
        for word in clause.split():
            if current and count(" ".join([*current, word[:200]])) > budget:
                out.append(" ".join(current))
                current = []
            current.append(word[:200])
        return out + ([" ".join(current)] if current else [])

    if count(block) <= budget:
        return [block]
    clauses = lambda s: packed(chunk._CLAUSE_END.split(s), words)  # noqa: E731
    return packed([s for line in block.split("\n") for s in split_sentences(line)], clauses)


@pytest.mark.parametrize("trusting", [False, True], ids=["counted", "summed"])
@pytest.mark.parametrize("budget", [24, 40, 120])
def test_packing_in_a_few_counts_gives_the_pieces_of_one_count_per_unit(budget, trusting):
    """Every section of the default site, split at small budgets: the same pieces as the plain
    greedy loop (the chunks of normal pages did not change when packing became fast), whether each
    piece that fits is counted or its units' counts are learnt in one call and summed."""
    blocks = [b for page in scan_site(PRODUKTMODNING, "p").pages for s in page.sections for b in s.blocks
              if not b.startswith("```")]
    assert len(blocks) > 300
    for block in blocks:
        counter = PieceCounter(count, trusting=trusting)
        assert chunk._split_to_fit(block, budget, counter) == _reference_split(block, budget), block[:80]


class BatchCounter(CountingCounter):
    """The model's counter with its batch counts, keeping the calls; `lie` adds to what `each_alone` says."""

    def __init__(self, lie: int = 0) -> None:
        super().__init__()
        self.lie = lie

    def each(self, texts):
        self.calls += 1
        return count.each(texts)

    def each_alone(self, texts):
        self.calls += 1
        counts = count.each_alone(texts)
        return None if counts is None else [tokens + self.lie for tokens in counts]


@pytest.mark.parametrize("markdown", [
    "Sætning {i} om kommunens data, og borgernes ret til indsigt i dem. ",
    "ord{i} og flere ord uden punktum ",
    "- punkt {i} i en lang liste\n",
    "```\nkode linje {i} med nogle ord\n```\n",
    "## Afsnit {i}\n\nKort tekst om emne {i}: se mere.\n\n",
], ids=["sentences", "words", "list", "code", "sections"])
def test_a_large_page_is_counted_in_a_few_batches_with_the_chunks_of_one_count_per_piece(markdown):
    """A counter that counts many texts at once (the model's) learns a level's units in one call
    and checks every chunk in one more: the same chunks as counting each piece, in a handful of
    calls for a page of 300 KB (it was one count per unit: 138,848 for a 5 MB list)."""
    body = "".join(markdown.format(i=i) for i in range(300_000 // len(markdown)))
    if markdown.startswith("```"):
        body = "```\n" + body.replace("```\n", "") + "```\n"
    page = page_from("---\ntitle: Stor\n---\n# Stor\n" + body)
    batched = BatchCounter()
    chunks = chunk_page(page, batched, SIZES)
    assert [c.text for c in chunks] == [c.text for c in chunk_page(page, CountingCounter(), SIZES)]
    assert batched.calls < 40, batched.calls
    assert all(count(c.embed_text) <= 256 for c in chunks)


def test_chunks_made_by_sums_that_were_wrong_are_made_again_by_counting():
    """Where a unit's count alone is not what it adds to a piece (a tokenizer whose pieces do not
    add up across a space), the check of the chunks sees it and every piece is counted instead."""
    sentences = "".join(f"Sætning {i} om kommunens data og borgernes ret. " for i in range(400))
    page = page_from("---\ntitle: Stor\n---\n# Stor\n" + sentences)
    liar = BatchCounter(lie=-2)  # every unit seems two pieces shorter: chunks packed by the sums are too long
    chunks = chunk_page(page, liar, SIZES)
    assert [c.text for c in chunks] == [c.text for c in chunk_page(page, CountingCounter(), SIZES)]
    assert all(count(c.embed_text) <= SIZES.max_tokens for c in chunks)
    assert liar.calls > 40  # counted piece by piece after the check failed


def test_a_large_or_slow_page_is_chunked_with_a_warning_naming_it(monkeypatch):
    ticks = iter([0.0, chunk.CHUNK_BUDGET_SECONDS + 1])
    warnings: list[str] = []
    chunks = chunk_page(page_from("---\ntitle: T\n---\n# T\nKort tekst.\n"), count, SIZES, warnings.append,
                        clock=lambda: next(ticks))
    assert chunks and len(warnings) == 1 and "s: p.md:" in warnings[0] and "chunking took" in warnings[0]
    monkeypatch.setattr(chunk, "LARGE_PAGE_CHARS", 100)
    warnings.clear()
    chunk_page(page_from("---\ntitle: T\n---\n# T\n" + "Lang tekst. " * 20), count, SIZES, warnings.append)
    assert len(warnings) == 1 and "p.md" in warnings[0]
    warnings.clear()
    chunk_page(page_from("---\ntitle: T\n---\n# T\nKort tekst.\n"), count, SIZES, warnings.append)
    assert warnings == []
