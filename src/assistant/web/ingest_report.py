"""The last ingest report on the admin page, as tables a person reads: local times, durations and
counts per source, not JSON with Unix timestamps.

Two shapes come in: a re-ingest job of this process (jobs.Job.to_dict(), with the full
IngestReport.to_dict() inside) and, after a restart, the summary the catalog keeps of the last
ingest (ingest/pipeline.py `_summary`). Everything is HTML-escaped. It does not run ingests.
"""

from __future__ import annotations

import html
import time
from typing import Any

from assistant.web.texts import JOB_STATES


def local_time(stamp: float | None) -> str:
    """A Unix time as the server's local time, e.g. '14.07.2026 09:30:12 CEST'."""
    if not stamp:
        return "–"
    moment = time.localtime(stamp)
    return time.strftime("%d.%m.%Y %H:%M:%S", moment) + (f" {moment.tm_zone}" if moment.tm_zone else "")


def duration(seconds: float | None) -> str:
    """'0,4 s', '12 s', '3 min 5 s', '1 t 2 min'."""
    if seconds is None or seconds < 0:
        return "–"
    if seconds < 10:
        return f"{seconds:.1f} s".replace(".", ",")
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} t {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _count(value: Any) -> int:
    """A count, or the length of a list of paths (the full report lists the pages)."""
    if isinstance(value, list):
        return len(value)
    return int(value) if isinstance(value, int | float) else 0


def _table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table class='report'><tr>{cells}</tr>{body}</table>"


def _facts(pairs: list[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><th scope='row'>{html.escape(k)}</th><td>{v}</td></tr>" for k, v in pairs)
    return f"<table class='facts'>{rows}</table>"


def _sources(sources: Any) -> list[dict]:
    """Per-source dicts with a name, from the full report (a list) or the summary (a dict by name)."""
    if isinstance(sources, dict):
        return [{"name": name, **(counts if isinstance(counts, dict) else {})} for name, counts in sources.items()]
    return [s for s in sources or [] if isinstance(s, dict)]


def render_report(report: dict) -> str:
    """The job (when there is one), each source's page counts, and the run's totals and notices."""
    if not report:
        return "<p>Der er ingen rapport endnu: dokumentationen er ikke indlæst, siden indekset blev lavet.</p>"
    job = report if "state" in report else None
    run: dict = (report.get("report") or {}) if job else report
    parts = []
    if job:
        started, finished = job.get("started"), job.get("finished")
        parts.append(_facts([
            ("Job", html.escape(str(job.get("id", "")))),
            ("Årsag", html.escape(str(job.get("reason", "")))),
            ("Tilstand", html.escape(JOB_STATES.get(str(job.get("state")), str(job.get("state"))))),
            ("Bestilt", local_time(job.get("created"))),
            ("Startet", local_time(started)),
            ("Færdig", local_time(finished)),
            ("Varighed", duration(finished - started) if started and finished else "–"),
            *([("Fejl", html.escape(str(job["error"])))] if job.get("error") else []),
        ]))
    elif run.get("finished"):
        parts.append(_facts([("Færdig", local_time(run.get("finished")))]))
    rows = []
    for s in _sources(run.get("sources")):
        problems = [*([f"FEJL: {s['error']}"] if s.get("error") else []), *(s.get("warnings") or [])]
        rows.append([html.escape(str(s.get("name", ""))), *(str(_count(s.get(k))) for k in
                    ("added", "changed", "removed", "unchanged")),
                     str(s["chunks"]) if isinstance(s.get("chunks"), int) else "–",
                     "<br>".join(html.escape(str(p)) for p in problems[:10]) or "–"])
    if rows:
        parts.append(_table(["Kilde", "Nye sider", "Ændrede", "Fjernede", "Uændrede", "Tekststykker",
                             "Fejl og advarsler"], rows))
    totals = [(label, str(run[key])) for key, label in (
        ("chunks_written", "Tekststykker skrevet"), ("chunks_embedded", "Embeddings beregnet"),
        ("chunks_cached", "Embeddings fra cachen"), ("vectors_deleted", "Vektorer slettet"),
        ("version", "Indeksversion")) if isinstance(run.get(key), int)]
    if isinstance(run.get("seconds"), int | float):
        totals.append(("Indlæsningens varighed", duration(run["seconds"])))
    if run.get("dry_run"):
        totals.append(("Prøvekørsel", "ja (intet skrevet)"))
    if totals:
        parts.append(_facts(totals))
    notes = [*_change_lines(run.get("source_changes")), *(run.get("notices") or []),
             *(f"{s.get('name')}: {n}" for s in _sources(run.get("sources")) for n in (s.get("notices") or []))]
    if notes:
        parts.append("<ul class='notices'>" + "".join(f"<li>{html.escape(str(n))}</li>" for n in notes[:30]) + "</ul>")
    return "".join(parts)


def _change_lines(changes: Any) -> list[str]:
    """Source list changes: lines already (the summary) or {added, removed, changed} (the full report)."""
    if isinstance(changes, list):
        return [str(c) for c in changes]
    if isinstance(changes, dict):
        return ([f"Kilde tilføjet: {a}" for a in changes.get("added") or []]
                + [f"Kilde fjernet (med dens sider): {r}" for r in changes.get("removed") or []]
                + [f"Kilde ændret: {c}" for c in changes.get("changed") or []])
    return []
