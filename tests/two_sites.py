"""An index of two small sites written here for the MCP and llms.txt tests, a school intranet's help
("skole") and a municipality's self-service guides ("kommune"), with a sources file naming both (their
`_config.yml` give the sites' titles). Sections are long enough not to be merged by the chunker."""

from __future__ import annotations

from pathlib import Path

SKOLE_PAGES = {
    "_config.yml": """title: Skoleintra hjælp
description: Hjælp til forældre og elever om skolens intranet.
url: https://skole.example.dk
""",
    "index.md": """---
title: Forside
nav_order: 1
---
# Skoleintra hjælp

Her får du hjælp til skolens intranet. Siderne forklarer, hvordan du logger ind og sender beskeder.
""",
    "docs/login.md": """---
title: Log ind
nav_order: 2
---
# Log ind

Du logger ind på skoleintra med MitID eller med UNI-login. Forældre bruger MitID, og elever bruger det
UNI-login, de har fået af skolen. Efter login ser du forsiden med dagens skema og nye beskeder.

## Glemt adgangskode

Har en elev glemt sin adgangskode til UNI-login, nulstiller klasselæreren den. Forældre kan ikke
nulstille elevens adgangskode selv, men de kan skrive til klasselæreren i beskedsystemet og bede om en
ny. Den nye adgangskode virker med det samme.
""",
    "docs/beskeder.md": """---
title: Beskeder
nav_order: 3
---
# Beskeder

Du sender en besked til en lærer fra fanen Beskeder. Vælg modtageren på listen over klassens lærere,
skriv emnet og beskeden, og tryk på Send. Læreren svarer normalt inden for to skoledage, og du får
besked på e-mail, når der er et svar.
""",
}

KOMMUNE_PAGES = {
    "_config.yml": """title: Kommunens selvbetjening
description: Vejledninger til kommunens selvbetjeningsløsninger.
url: https://kommune.example.dk
""",
    "index.md": """---
title: Forside
nav_order: 1
---
# Kommunens selvbetjening

Her finder du vejledninger til kommunens selvbetjening. Siderne forklarer, hvordan du bestiller og betaler.
""",
    "docs/affald.md": """---
title: Affald
nav_order: 2
has_children: true
---
# Affald

Sådan bestiller du afhentning af affald hos kommunen. Du bestiller på selvbetjeningen med MitID, og du
får en kvittering på e-mail, når bestillingen er modtaget. Kvitteringen viser dagen for afhentningen og
hvad du har bestilt. Du kan ændre eller aflyse en bestilling frem til dagen før afhentningen.

## Storskrald

Storskrald hentes hver anden tirsdag. Bestil afhentningen senest fredagen før, og stil tingene ved skellet
inden klokken seks om morgenen. Møbler, madrasser og cykler er storskrald; byggeaffald og jord er ikke.
Hver husstand kan bestille afhentning af op til to kubikmeter ad gangen uden betaling.
""",
    "docs/affald/haveaffald.md": """---
title: Haveaffald
parent: Affald
nav_order: 1
---
# Haveaffald

Haveaffald afhentes fra april til november. Grene må højst være to meter lange og skal være bundtet.
""",
}

# Added by the re-ingest tests.
NEW_PAGE = ("docs/affald/farligt-affald.md", """---
title: Farligt affald
parent: Affald
nav_order: 2
---
# Farligt affald

Farligt affald som maling og batterier afleveres på genbrugspladsen i den røde container.
""")


def write_site(folder: Path, pages: dict[str, str]) -> Path:
    for rel, text in pages.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    return folder


def write_sources(folder: Path, kommune: Path) -> Path:
    skole = write_site(folder / "skole-site", SKOLE_PAGES)
    sources = folder / "sources.toml"
    sources.write_text(f'[[source]]\nname = "skole"\npath = "{skole}"\n\n'
                       f'[[source]]\nname = "kommune"\npath = "{kommune}"\n', encoding="utf-8")
    return sources


def build_two_sites(folder: Path, embedding_cache: Path):  # type: ignore[no-untyped-def]
    """(settings, kommune site folder) of a new index of both sites under `folder`."""
    from assistant.settings import Settings
    from assistant.sites.sources import load_sources
    from ingest.pipeline import ingest

    kommune = write_site(folder / "kommune-site", KOMMUNE_PAGES)
    settings = Settings(index_dir=folder / "index", cache_dir=folder / "cache", embedding_cache_dir=embedding_cache,
                        sources_file=write_sources(folder, kommune))
    report = ingest(settings, load_sources(settings.sources_file), progress=False)
    assert not report.failed, report.lines()
    return settings, kommune


def add_page_and_reingest(settings, kommune: Path) -> None:  # type: ignore[no-untyped-def]
    from assistant.sites.sources import load_sources
    from ingest.pipeline import ingest

    rel, text = NEW_PAGE
    (kommune / rel).write_text(text, encoding="utf-8")
    report = ingest(settings, load_sources(settings.sources_file), progress=False)
    assert not report.failed, report.lines()
