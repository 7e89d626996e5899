"""The admin page's ingest report: tables with local times, durations and counts."""

import time

from assistant.web.ingest_report import duration, local_time, render_report

STARTED = 1_784_000_000.0  # 2026-07-14


def job() -> dict:
    return {"id": "a1b2c3", "reason": "admin", "state": "done", "created": STARTED - 2, "started": STARTED,
            "finished": STARTED + 125.4, "error": None,
            "report": {"sources": [{"name": "os2produktmodning", "location": "corpus/x", "added": ["a.md", "b.md"],
                                    "changed": ["c.md"], "removed": [], "unchanged": ["d.md"] * 68, "chunks": 319,
                                    "warnings": ["<b>x.md</b>: skipped"], "notices": [], "error": None}],
                       "chunks_embedded": 12, "chunks_cached": 3, "chunks_written": 15, "vectors_deleted": 2,
                       "seconds": 124.9, "version": 7, "dry_run": False,
                       "source_changes": {"added": ["gitdocs (https://x/y.git)"], "removed": [], "changed": []},
                       "notices": []}}


def test_a_job_shows_local_times_duration_and_page_counts():
    page = render_report(job())
    assert local_time(STARTED) in page and time.strftime("%d.%m.%Y", time.localtime(STARTED)) in page
    assert str(int(STARTED)) not in page and "1784000" not in page  # no Unix timestamps
    assert "<td>færdig</td>" in page and "<td>2 min 5 s</td>" in page
    assert "<td>os2produktmodning</td><td>2</td><td>1</td><td>0</td><td>68</td><td>319</td>" in page
    assert "&lt;b&gt;x.md&lt;/b&gt;: skipped" in page and "<b>" not in page
    assert "Kilde tilføjet: gitdocs (https://x/y.git)" in page and "<td>7</td>" in page


def test_the_catalogs_summary_after_a_restart_shows_as_a_table_too():
    summary = {"sources": {"os2borgerpc-docs": {"added": 50, "changed": 0, "removed": 1, "unchanged": 0,
                                                "error": "Source folder x does not exist"}},
               "chunks_embedded": 219, "source_changes": ["source added to the index: os2borgerpc-docs (x)"],
               "notices": ["site_url inferred"], "finished": STARTED}
    page = render_report(summary)
    assert local_time(STARTED) in page and "<td>os2borgerpc-docs</td><td>50</td><td>0</td><td>1</td><td>0</td>" in page
    assert "FEJL: Source folder x does not exist" in page and "<td>219</td>" in page and "site_url inferred" in page


def test_no_report_says_so():
    assert "ingen rapport" in render_report({})


def test_durations_read_as_a_person_says_them():
    assert [duration(s) for s in (0.42, 12.2, 185, 3725, None)] == ["0,4 s", "12 s", "3 min 5 s", "1 t 2 min", "–"]
