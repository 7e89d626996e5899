"""What an ingest run reports: per source the pages added, changed, removed and unchanged, its live
chunks, warnings and notices; for the run what was embedded, written and deleted. The report is
printed by the command line, kept in the catalog (`summary`) and shown on the admin page."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from assistant.index.store import VectorCheck
from ingest.source_set import SourceChanges


@dataclass
class SourceReport:
    name: str
    location: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    chunks: int = 0  # live chunks of this source after the run
    warnings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # e.g. read from the snapshot: git could not fetch
    error: str | None = None


@dataclass
class IngestReport:
    sources: list[SourceReport]
    chunks_embedded: int = 0  # embeddings computed by the model in this run
    chunks_cached: int = 0  # new chunks whose vector came from the cache
    sentences_embedded: int = 0  # prose sentences of new chunks embedded for answers (answer/meaning.py)
    chunks_written: int = 0
    vectors_deleted: int = 0
    vectors: VectorCheck | None = None  # the check after the writes: live chunks without a readable vector
    seconds: float = 0.0
    version: int = 0
    dry_run: bool = False
    source_changes: SourceChanges = field(default_factory=SourceChanges)  # to the index's list of sources
    notices: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(s.error for s in self.sources)

    def lines(self) -> list[str]:
        out = [*self.source_changes.lines(), *(f"notice: {n}" for n in self.notices)]
        for s in self.sources:
            if s.error:
                out.append(f"{s.name}: FAILED — {s.error}")
                continue
            out.append(
                f"{s.name}: {len(s.added)} added, {len(s.changed)} changed, {len(s.removed)} removed, "
                f"{len(s.unchanged)} unchanged pages"
            )
            out.extend(f"{s.name}: notice: {n}" for n in s.notices)
        verb = "would write" if self.dry_run else "written"
        out.append(
            f"chunks {verb}: {self.chunks_written}; embeddings computed: {self.chunks_embedded}, "
            f"from cache: {self.chunks_cached}; {self.seconds:.2f} s"
        )
        if self.vectors is not None and self.vectors.missing:
            out.append(self.vectors.summary())
        return out

    def to_dict(self) -> dict:
        return asdict(self)


def summary(report: IngestReport) -> dict:
    return {
        "sources": {
            s.name: {"added": len(s.added), "changed": len(s.changed), "removed": len(s.removed),
                     "unchanged": len(s.unchanged), "error": s.error}
            for s in report.sources
        },
        "chunks_embedded": report.chunks_embedded,
        "source_changes": report.source_changes.lines(),
        "notices": [*report.notices, *(f"{s.name}: {n}" for s in report.sources for n in s.notices)],
        "finished": time.time(),
    }
