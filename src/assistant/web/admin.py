"""Admin and webhook routes: re-ingest while serving, job status, the admin page and the docs-gap report.

Admin routes need `Authorization: Bearer <ASSISTANT_ADMIN_TOKEN>` (or `?token=` for the page and the
CSV link); the GitHub webhook needs a valid `X-Hub-Signature-256`. Both are off until configured.
Routes parse input, call the job runner / stores, shape output. Secrets never reach logs or replies.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from assistant.errors import AssistantError
from assistant.gaps import gaps_csv, group_gaps
from assistant.settings import Settings
from assistant.webhooks import push_matches, valid_signature

log = logging.getLogger("web.admin")


def _token_from(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query_params.get("token", "")


def require_admin(request: Request) -> None:
    settings: Settings = request.app.state.settings
    if not settings.admin_token:
        raise HTTPException(403, "Administration er slået fra: sæt ASSISTANT_ADMIN_TOKEN for at bruge den.")
    given = _token_from(request)
    if not given or not hmac.compare_digest(given.encode(), settings.admin_token.encode()):
        raise HTTPException(401, "Manglende eller forkert adgangsnøgle (Authorization: Bearer …).",
                            headers={"WWW-Authenticate": "Bearer"})


def _job_reply(request: Request, job: Any, created: bool) -> JSONResponse:
    """202 with the job this request started or joined, and the job running right now (if any)."""
    running = request.app.state.jobs.running
    return JSONResponse({"job": job.to_dict(), "queued_new": created,
                         "running": running.to_dict() if running is not None else None}, status_code=202)


def build_admin_router() -> APIRouter:
    router = APIRouter()

    @router.post("/api/admin/reingest", summary="Re-ingest every source (background job)", status_code=202)
    def reingest(request: Request) -> JSONResponse:
        require_admin(request)
        job, created = request.app.state.jobs.submit("admin")
        return _job_reply(request, job, created)

    @router.get("/api/admin/ingest/{job_id}", summary="State and report of a re-ingest job")
    def job_state(job_id: str, request: Request) -> dict:
        require_admin(request)
        job = request.app.state.jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"Ukendt job {job_id!r}.")
        return job.to_dict()

    @router.post("/api/webhooks/github", summary="GitHub push webhook", status_code=202)
    async def github(request: Request) -> JSONResponse:
        settings: Settings = request.app.state.settings
        if not settings.webhook_secret:
            raise HTTPException(403, "Webhook er slået fra: sæt ASSISTANT_WEBHOOK_SECRET.")
        body = await request.body()
        if not valid_signature(settings.webhook_secret, body, request.headers.get("x-hub-signature-256")):
            log.warning("webhook refused: missing or wrong signature")
            raise HTTPException(401, "Manglende eller forkert signatur (X-Hub-Signature-256).")
        if request.headers.get("x-github-event", "push") == "ping":
            return JSONResponse({"ok": True, "ping": True}, status_code=200)
        if not push_matches(body, request.app.state.git_sources()):
            return JSONResponse({"ignored": True, "detail": "Push til en anden gren eller et andet repository."},
                                status_code=202)
        job, created = request.app.state.jobs.submit("github push")
        return _job_reply(request, job, created)

    @router.get("/api/admin/gaps.csv", summary="Docs-gap report as CSV")
    def gaps_report(request: Request) -> Response:
        require_admin(request)
        return Response(gaps_csv(_gaps(request)), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename=dokumentationshuller.csv"})

    @router.get("/admin", response_class=HTMLResponse, summary="Admin page")
    def admin_page(request: Request) -> HTMLResponse:
        require_admin(request)
        return HTMLResponse(render_admin(request))

    return router


def _gaps(request: Request) -> list:
    analyzer = request.app.state.assistant.retriever.snapshot().analyzer
    return group_gaps(request.app.state.feedback.gap_questions(), analyzer)


def _bars(daily: list[dict]) -> str:
    """Questions per day as an inline SVG: answered (dark) and abstained (light) stacked."""
    if not daily:
        return "<p>Ingen spørgsmål endnu.</p>"
    peak = max(d["questions"] for d in daily) or 1
    width, height, bar = 24 * len(daily) + 40, 160, 18
    parts = [f'<svg role="img" aria-label="Spørgsmål pr. dag" width="{width}" height="{height + 40}">']
    for i, d in enumerate(daily):
        x = 30 + i * 24
        total_h = d["questions"] / peak * height
        answered_h = d["answered"] / peak * height
        parts.append(f'<rect x="{x}" y="{height - total_h + 10}" width="{bar}" height="{total_h - answered_h}" '
                     f'fill="#f0a500"><title>{html.escape(d["day"])}: {d["questions"] - d["answered"]} uden svar</title></rect>')
        parts.append(f'<rect x="{x}" y="{height - answered_h + 10}" width="{bar}" height="{answered_h}" '
                     f'fill="#1d4ed8"><title>{html.escape(d["day"])}: {d["answered"]} besvaret</title></rect>')
        parts.append(f'<text x="{x}" y="{height + 30}" font-size="9">{html.escape(d["day"][5:])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_admin(request: Request) -> str:
    assistant = request.app.state.assistant
    status = assistant.status()
    snapshot = assistant.retriever.snapshot()
    chunks_per_source: dict[str, int] = {}
    for chunk in snapshot.chunks.values():
        chunks_per_source[chunk.source] = chunks_per_source.get(chunk.source, 0) + 1
    rows = "".join(f"<tr><td>{html.escape(s)}</td><td>{n}</td><td>{chunks_per_source.get(s, 0)}</td></tr>"
                   for s, n in sorted(status["sources"].items()))
    daily = request.app.state.feedback.daily(30)
    asked = sum(d["questions"] for d in daily)
    answered = sum(d["answered"] for d in daily)
    share = f"{100 * answered / asked:.0f}% besvaret, {100 * (asked - answered) / asked:.0f}% uden svar" if asked else "–"
    latest = request.app.state.jobs.latest()
    report = latest.to_dict() if latest else _last_report(assistant)
    gap_rows = "".join(
        f"<tr><td>{g.count}</td><td>{html.escape(' | '.join(list(dict.fromkeys(g.questions))[:3]))}</td>"
        f"<td>{'<br>'.join(html.escape(t) for (t, _), _ in g.pages.most_common(3))}</td></tr>"
        for g in _gaps(request)[:20])
    token = html.escape(_token_from(request), quote=True)
    return f"""<!doctype html><html lang="da"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Administration · Dokumentationsassistenten</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;color:#1a1a1a}}
table{{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}}td,th{{border-bottom:1px solid #ddd;padding:.35rem;text-align:left;vertical-align:top}}
button{{background:#1d4ed8;color:#fff;border:0;border-radius:6px;padding:.6rem 1rem;font-size:1rem;cursor:pointer}}
pre{{background:#f4f4f4;padding:.75rem;overflow:auto;max-height:18rem}}</style></head><body>
<h1>Administration</h1>
<h2>Kilder</h2><table><tr><th>Kilde</th><th>Sider</th><th>Tekststykker</th></tr>{rows}</table>
<p>Indeksversion {status["version"]}: {status["pages"]} sider, {status["chunks"]} tekststykker.</p>
<h2>Opdatering</h2><p><button id="reingest" type="button">Genindlæs dokumentationen</button> <span id="job" role="status" aria-live="polite"></span></p>
<pre id="report">{html.escape(json.dumps(report, ensure_ascii=False, indent=2))}</pre>
<h2>Spørgsmål pr. dag (30 dage)</h2><p>{asked} spørgsmål: {share}.</p>{_bars(daily)}
<h2>Huller i dokumentationen</h2><p>Spørgsmål uden svar eller med 👎, grupperet. <a href="/api/admin/gaps.csv?token={token}">Hent som CSV</a></p>
<table><tr><th>Antal</th><th>Eksempler</th><th>Nærmeste sider</th></tr>{gap_rows or '<tr><td colspan="3">Ingen endnu.</td></tr>'}</table>
<script>
const token = new URLSearchParams(location.search).get("token") || "";
const headers = {{"Authorization": "Bearer " + token}};
const show = (text) => {{ document.getElementById("job").textContent = text; }};
document.getElementById("reingest").addEventListener("click", async () => {{
  const reply = await fetch("/api/admin/reingest", {{method: "POST", headers}});
  if (!reply.ok) {{ show("Kunne ikke starte: " + reply.status); return; }}
  const {{job}} = await reply.json();
  show("Job " + job.id + ": " + job.state);
  for (let i = 0; i < 600; i++) {{
    await new Promise((r) => setTimeout(r, 1000));
    const state = await (await fetch("/api/admin/ingest/" + job.id, {{headers}})).json();
    show("Job " + state.id + ": " + state.state);
    if (state.state === "done" || state.state === "failed") {{
      document.getElementById("report").textContent = JSON.stringify(state, null, 2); break;
    }}
  }}
}});
</script></body></html>"""


def _last_report(assistant: Any) -> dict:
    from assistant.catalog import open_catalog

    try:
        catalog = open_catalog(assistant.settings)
        raw = catalog.get_meta("last_report")
        catalog.close()
    except AssistantError:
        return {}
    return json.loads(raw) if raw else {}
