"""Which sources an ingest reads, and how the index's list of sources changes.

The index records the sources it is built from (catalog `sources`: name, folder or git URL + branch,
site_url, snapshot). Every re-ingest — `python -m ingest`, the admin button, the GitHub webhook,
polling — reads exactly those. The list changes only by an explicit act: a sources file named with
`--sources`, `--add-source`, `--remove-source`, or `--source` (ingest this one source now; it is added
when new). The pipeline writes the new list with the pages and reports what changed.

An index from before sources were recorded takes them from the sources file by name; a source the
file does not list is kept, pages and all, with an error saying how to name it. A new, empty index
reads the sources file. This module does not read sites or write the index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import SourceError
from assistant.index.factory import open_catalog
from assistant.sites.sources import RECORDED, SourceSpec, load_sources

if TYPE_CHECKING:
    from assistant.index.catalog import PageCatalog
    from assistant.settings import Settings


@dataclass
class SourcePlan:
    specs: list[SourceSpec]  # what the run reads; the index's list of sources afterwards
    notices: list[str] = field(default_factory=list)


def sources_of_index(settings: Settings) -> SourcePlan:
    """index_sources of the settings' index (opened and closed here)."""
    catalog = open_catalog(settings)
    try:
        return index_sources(catalog, Path(settings.sources_file), settings.index_dir)
    finally:
        catalog.close()


def recorded_specs(recorded: Sequence[dict], where: object) -> list[SourceSpec]:
    return [SourceSpec.from_record(r, f"the sources recorded in {where}") for r in recorded]


def index_sources(catalog: PageCatalog, sources_file: Path, where: object) -> SourcePlan:
    """The sources a re-ingest of this index reads."""
    recorded = catalog.recorded_sources()
    if recorded is None:
        return _unrecorded(catalog.sources(), sources_file)
    specs = recorded_specs(recorded, where)
    plan = SourcePlan(specs)
    unlocated = [s.name for s in specs if s.path is None and s.git is None]
    listed = _load_quietly(sources_file, plan.notices if unlocated else [])
    by_name = {s.name: s for s in listed}
    # A source recorded by name only (see _unrecorded) is found in the sources file when it is there.
    plan.specs = [by_name.get(s.name, s) if s.path is None and s.git is None else s for s in specs]
    if listed and [s.to_record() for s in listed] != [s.to_record() for s in plan.specs]:
        plan.notices.append(
            f"{sources_file} differs from the sources this index is built from "
            f"({', '.join(s.name for s in plan.specs) or 'none'}); it is not read. "
            f"To use it: `python -m ingest --sources {sources_file}`")
    return plan


def _unrecorded(page_sources: dict[str, int], sources_file: Path) -> SourcePlan:
    """An index that recorded no sources: a new one reads the sources file; an older one keeps the
    sources of its pages, located by name in the sources file."""
    if not page_sources:
        return SourcePlan(load_sources(sources_file))
    notices: list[str] = []
    listed = _load_quietly(sources_file, notices)
    by_name = {s.name: s for s in listed}
    if all(name in by_name for name in page_sources):  # built from the sources file, as earlier versions did
        return SourcePlan(listed, notices)
    specs = [by_name.get(name, SourceSpec(name=name, origin=RECORDED)) for name in sorted(page_sources)]
    return SourcePlan(specs, notices)


def _load_quietly(sources_file: Path, notices: list[str]) -> list[SourceSpec]:
    try:
        return load_sources(sources_file)
    except SourceError as exc:
        notices.append(str(exc))
        return []


def with_changes(specs: Sequence[SourceSpec], add: Sequence[SourceSpec] = (), remove: Sequence[str] = ()) -> list[SourceSpec]:
    """`specs` with sources added (or replaced, by name) and removed; SourceError for a name to remove
    that is not there."""
    names = [s.name for s in specs]
    missing = [n for n in remove if n not in names and n not in {a.name for a in add}]
    if missing:
        raise SourceError(f"--remove-source {', '.join(missing)}: the index has no such source "
                          f"(it has {', '.join(names) or 'none'})")
    result = [s for s in specs if s.name not in remove]
    for spec in add:
        position = next((i for i, s in enumerate(result) if s.name == spec.name), None)
        if position is None:
            result.append(spec)
        else:
            result[position] = spec
    return result


def merged(recorded: Sequence[SourceSpec], page_sources: Sequence[str], specs: Sequence[SourceSpec]) -> list[SourceSpec]:
    """The list after ingesting only `specs` (`--source`): the recorded ones (or, when none were
    recorded, the index's sources by name) with `specs` added or replaced."""
    base = list(recorded) or [SourceSpec(name=n, origin=RECORDED) for n in page_sources]
    return with_changes(base, add=specs)


@dataclass
class SourceChanges:
    added: list[str] = field(default_factory=list)  # "name (location)"
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # same name, another location or site_url

    def lines(self) -> list[str]:
        return ([f"source added to the index: {a}" for a in self.added]
                + [f"source removed from the index (its pages with it): {r}" for r in self.removed]
                + [f"source changed: {c}" for c in self.changed])


def source_changes(old: Sequence[dict] | None, new: Sequence[dict]) -> SourceChanges:
    """What a new list of source records changes (an index without a list: everything is added)."""
    before = {r.get("name"): r for r in old or ()}
    after = {r["name"]: r for r in new}
    changes = SourceChanges()
    for name, record in after.items():
        where = record.get("git") or record.get("path") or "no recorded location"
        if name not in before:
            changes.added.append(f"{name} ({where})")
        elif before[name] != record:
            changes.changed.append(f"{name} (now {where}{', site_url ' + record['site_url'] if record.get('site_url') else ''})")
    changes.removed = [f"{name} ({r.get('git') or r.get('path') or 'no recorded location'})"
                       for name, r in before.items() if name not in after]
    return changes
