"""What a reader sees: prose, never markup; code only as code, for a command; no heading alone.

A small site with the pages that showed markup in answers (a page that is one big table, a page
with only a diagram, a code block, a page with only a title), ingested and asked for real.
"""

import re

import pytest

from assistant.eval import shows_markup
from assistant.serve.service import Assistant
from assistant.sites.sources import SourceSpec
from ingest.pipeline import ingest

PAGES = {
    "program.md": "---\ntitle: Program for netværksmødet\n---\n# Program\n\n| Tid | Punkt | Beskrivelse |\n|---|---|---|\n"
    + "".join(f"| {h}.00 - {h}.45 | {p} | {d} |\n" for h, p, d in [
        (9, "Ankomst", "Vi mødes i kantinen og får kaffe"), (10, "Velkomst", "Kort intro ved mødelederen"),
        (11, "Workshop", "Vi arbejder i grupper med roadmaps"), (12, "Frokost", "Der er buffet i kantinen på 3. sal"),
        (13, "Oplæg", "Erfaringer fra OS2forms"), (14, "Afrunding", "Opsamling og næste skridt")]),
    "flow.md": "---\ntitle: Overdragelsesflow\n---\n# Overdragelsesflow\n\n```mermaid\nflowchart LR\n"
               "  Afklaring --> Forberedelse --> Overdragelse --> Etablering\n```\n",
    "backup.md": "---\ntitle: Backup\n---\n# Backup af databasen\n\nDu tager backup af databasen med kommandoen:\n\n"
                 "```bash\n# dump hele databasen\npg_dump admin_site > backup.sql\n```\n\nGem filen et sikkert sted.\n",
    "moede.md": "---\ntitle: Netværksmøde 16 juni 2026\n---\n# Netværksmøde 16 juni 2026\n",
    "om.md": "---\ntitle: Om netværket\n---\n# Om netværket\n\nNetværket er for alle produktforvaltere i OS2. "
             "Netværket mødes to gange om året, og **alle** er velkomne. Læs (Roller i netværket)[https://x.org/r.md].\n",
}


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):  # type: ignore[no-untyped-def]
    from assistant.settings import Settings

    root = tmp_path_factory.mktemp("site")
    for name, text in PAGES.items():
        (root / name).write_text(text, encoding="utf-8")
    index = tmp_path_factory.mktemp("index")
    settings = Settings(index_dir=index / "index", cache_dir=index / "cache")
    assert not ingest(settings, [SourceSpec(name="site", path=root)], progress=False).failed
    return Assistant.open(settings)


def test_a_table_row_is_quoted_with_its_field_names(assistant):
    answer = assistant.ask("Hvornår er der frokost på netværksmødet?")
    assert answer.answered and "Tid: 12.00 - 12.45; Punkt: Frokost" in answer.text
    assert not shows_markup(answer.text)


def test_links_and_emphasis_are_text(assistant):
    answer = assistant.ask("Hvor tit mødes netværket?")
    assert "to gange om året" in answer.text and not shows_markup(answer.text)


def test_a_diagram_is_never_quoted(assistant):
    answer = assistant.ask("Hvordan ser overdragelsesflowet ud?")
    assert "-->" not in answer.text and "flowchart" not in answer.text


def test_code_is_quoted_as_code_when_a_command_is_asked_for(assistant):
    answer = assistant.ask("Hvilken kommando tager backup af databasen?")
    assert re.search(r"```\n# dump hele databasen\npg_dump admin_site > backup.sql\n```", answer.text)
    assert not shows_markup(answer.text)  # a code block answering a command is no markup


def test_code_is_not_quoted_when_no_command_is_asked_for(assistant):
    answer = assistant.ask("Hvor skal man gemme backup-filen?")
    assert "pg_dump" not in answer.text and "```" not in answer.text


def test_the_title_of_an_empty_page_is_no_answer(assistant):
    answer = assistant.ask("Hvem er mødeleder på netværksmødet den 16. juni 2026?")
    assert "Netværksmøde 16 juni 2026 [" not in answer.text.split("\n")[0]
