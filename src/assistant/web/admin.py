"""Admin and webhook routes: re-ingest while serving, job status, the admin page and the docs-gap report.

Admin routes take `Authorization: Bearer <ASSISTANT_ADMIN_TOKEN>` (scripts) or the session cookie
that the login form at /admin sets (auth.py: never a token in a URL); the GitHub webhook needs a
valid `X-Hub-Signature-256`. Both are off until configured. Routes parse input, call the job
runner, the feedback store and the Assistant, and shape output; the short texts are in texts.py.
Secrets never reach logs or replies. A job's own error (English, with paths) is shown as it is: only
to a person with the admin token.
"""

from __future__ import annotations

import html
import json
import logging
from typing import Any

import anyio
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.serve.gaps import Gap, gaps_csv
from assistant.serve.webhooks import SIGNATURE_HEADER, Signature, push_matches
from assistant.settings import Settings
from assistant.web import texts
from assistant.web.auth import (
    ADMIN_HEADERS,
    client_of,
    csrf_token,
    end_session,
    guesses,
    insecure_host,
    new_session,
    refuse_while_guessing,
    require_admin,
    token_matches,
)
from assistant.web.ingest_report import render_report
from assistant.web.middleware import WEBHOOK_MAX_BYTES

log = logging.getLogger("web.admin")
WEBHOOK_CONCURRENT = 2  # webhook bodies read at once (GitHub does not redeliver a refused delivery by itself)
WEBHOOK_READ_S = 10.0  # to send a whole body: GitHub gives up on a delivery after 10 s, a trickle holds a slot


def _job_reply(request: Request, job: Any, created: bool) -> JSONResponse:
    """202 with the job this request started or joined, and the job running right now (if any)."""
    running = request.app.state.jobs.running
    return JSONResponse({"job": job.to_dict(), "queued_new": created,
                         "running": running.to_dict() if running is not None else None}, status_code=202)


def build_admin_router() -> APIRouter:
    router = APIRouter()

    @router.post("/api/admin/reingest", summary="Re-ingest every source (background job)", status_code=202)
    def reingest(request: Request) -> JSONResponse:
        require_admin(request, changes_state=True)
        job, created = request.app.state.jobs.submit("admin")
        return _job_reply(request, job, created)

    @router.get("/api/admin/ingest/{job_id}", summary="State and report of a re-ingest job")
    def job_state(job_id: str, request: Request) -> dict:
        require_admin(request)
        job = request.app.state.jobs.get(job_id)
        if job is None:
            raise HTTPException(404, texts.UNKNOWN_JOB.format(job_id=job_id))
        return job.to_dict()

    @router.post("/api/webhooks/github", summary="GitHub push webhook", status_code=202)
    async def github(request: Request) -> JSONResponse:
        settings: Settings = request.app.state.settings
        if not settings.webhook_secret:
            raise HTTPException(403, texts.WEBHOOK_OFF)
        header = request.headers.get("x-hub-signature-256") or ""
        if not SIGNATURE_HEADER.fullmatch(header.strip()):  # no body is read for a request that cannot pass
            log.warning("webhook refused: missing or malformed signature from %s", client_of(request))
            raise HTTPException(401, texts.WRONG_SIGNATURE)
        slots = _webhook_slots(request)
        if slots[0] >= WEBHOOK_CONCURRENT:
            log.warning("webhook refused: %d deliveries are being read already", slots[0])
            raise HTTPException(429, texts.WEBHOOK_BUSY, headers={"Retry-After": "10"})
        slots[0] += 1  # on the event loop: no other request runs between the check and this
        try:
            signature = Signature(settings.webhook_secret)
            with anyio.move_on_after(WEBHOOK_READ_S) as deadline:
                async for piece in request.stream():  # BodyLimit checked Content-Length only: counted here
                    signature.update(piece)
                    if signature.size > WEBHOOK_MAX_BYTES:
                        raise HTTPException(413, texts.TOO_LARGE.format(size=_size(WEBHOOK_MAX_BYTES)),
                                            headers={"Connection": "close"})
            if deadline.cancelled_caught:
                log.warning("webhook refused: %s sent %d bytes in %g s", client_of(request), signature.size,
                            WEBHOOK_READ_S)
                raise HTTPException(408, texts.WEBHOOK_SLOW.format(seconds=f"{WEBHOOK_READ_S:g}"),
                                    headers={"Connection": "close"})
        finally:
            slots[0] -= 1
        if not signature.matches(header):
            log.warning("webhook refused: missing or wrong signature")
            raise HTTPException(401, texts.WRONG_SIGNATURE)
        body = signature.body
        if request.headers.get("x-github-event", "push") == "ping":
            return JSONResponse({"ok": True, "ping": True}, status_code=200)
        if not request.app.state.deliveries.first_time(request.headers.get("x-github-delivery", ""),
                                                       signature.digest):
            return JSONResponse({"ignored": True, "detail": texts.DELIVERED_BEFORE}, status_code=200)
        if not push_matches(body, request.app.state.git_sources()):
            return JSONResponse({"ignored": True, "detail": texts.OTHER_PUSH}, status_code=202)
        job, created = request.app.state.jobs.submit("github push")
        return _job_reply(request, job, created)

    @router.get("/api/admin/gaps.csv", summary="Docs-gap report as CSV")
    def gaps_report(request: Request) -> Response:
        require_admin(request)
        return Response(gaps_csv(_gaps(request)), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename=dokumentationshuller.csv"})

    @router.get("/admin", response_class=HTMLResponse, summary="Admin page (or its login form)")
    def admin_page(request: Request) -> HTMLResponse:
        settings: Settings = request.app.state.settings
        if not settings.admin_token:
            raise HTTPException(403, texts.ADMIN_OFF)
        plain_http = texts.PLAIN_HTTP.format(host=insecure_host(request)) if insecure_host(request) else ""
        if "token" in request.query_params:
            return HTMLResponse(render_login(texts.TOKEN_IN_URL, plain_http), status_code=401)
        try:
            session = require_admin(request)
        except HTTPException as refused:
            if refused.status_code == 429:
                raise
            return HTMLResponse(render_login(note=plain_http), status_code=401)
        return HTMLResponse(render_admin(request, csrf_token(settings, session) if session else ""))

    @router.post("/admin/login", response_class=HTMLResponse, summary="Log in to the admin page")
    async def login(request: Request) -> Response:
        settings: Settings = request.app.state.settings
        if not settings.admin_token:
            raise HTTPException(403, texts.ADMIN_OFF)
        try:
            form = await request.form()
        except Exception:  # noqa: BLE001 - a body that is no form is a failed login, not a 500
            form = None
        given = form.get("token") if form is not None else None
        try:
            refuse_while_guessing(request)
        except HTTPException as refused:
            return HTMLResponse(render_login(str(refused.detail)), status_code=429, headers=refused.headers)
        if not isinstance(given, str) or not token_matches(settings, given.strip()):
            guesses(request).wrong(client_of(request), "login form")
            return HTMLResponse(render_login(texts.LOGIN_REFUSED), status_code=401)
        reply = RedirectResponse("/admin", status_code=303)
        new_session(request, reply)
        return reply

    @router.post("/admin/logout", summary="Log out of the admin page")
    def logout(request: Request) -> Response:
        reply = RedirectResponse("/admin", status_code=303)
        end_session(request, reply)
        return reply

    return router


def _size(limit: int) -> str:
    return f"{limit // 1024 // 1024} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


def _webhook_slots(request: Request) -> list[int]:
    """[webhook bodies being read now], one per app (touched on the event loop only)."""
    if getattr(request.app.state, "webhook_slots", None) is None:
        request.app.state.webhook_slots = [0]
    return request.app.state.webhook_slots


def _gaps(request: Request) -> list[Gap]:
    return request.app.state.assistant.documentation_gaps(request.app.state.feedback.gap_questions())


def _bars(daily: list[dict]) -> str:
    """Questions per day as an inline SVG: answered (dark) and abstained (light) stacked."""
    daily = [d for d in daily if isinstance(d.get("day"), str) and isinstance(d.get("questions"), int)
             and isinstance(d.get("answered"), int)]  # a damaged row is no reason to fail the page
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


def render_login(message: str = "", note: str = "") -> str:
    note = "".join(f'<p role="alert" class="error">{html.escape(m)}</p>' for m in (message, note) if m)
    return f"""<!doctype html><html lang="da"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Log ind · Dokumentationsassistenten</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}}
input{{width:100%;padding:.5rem;font-size:1rem;margin:.3rem 0 1rem;box-sizing:border-box}}
button{{background:#1d4ed8;color:#fff;border:0;border-radius:6px;padding:.6rem 1rem;font-size:1rem;cursor:pointer}}
.error{{color:#b91c1c}}</style></head><body>
<h1>Administration</h1>{note}
<form method="post" action="/admin/login"><label for="token">Adgangsnøgle (ASSISTANT_ADMIN_TOKEN)</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log ind</button></form></body></html>"""


def render_admin(request: Request, csrf: str) -> str:
    assistant = request.app.state.assistant
    status = assistant.status()
    chunks_per_source = assistant.chunks_per_source()
    rows = "".join(f"<tr><td>{html.escape(s)}</td><td>{n}</td><td>{chunks_per_source.get(s, 0)}</td></tr>"
                   for s, n in sorted(status["sources"].items()))
    daily = request.app.state.feedback.daily(30)
    asked = sum(d["questions"] for d in daily)
    answered = sum(d["answered"] for d in daily)
    share = f"{100 * answered / asked:.0f}% besvaret, {100 * (asked - answered) / asked:.0f}% uden svar" if asked else "–"
    channels = "".join(f"<tr><td>{html.escape(texts.CHANNELS.get(c['channel'], c['channel']))}</td><td>{c['questions']}</td>"
                       f"<td>{c['answered']}</td></tr>" for c in request.app.state.feedback.by_channel(30))
    latest = request.app.state.jobs.latest()
    report = latest.to_dict() if latest else assistant.last_report()
    gap_rows = "".join(
        f"<tr><td>{g.count}</td><td>{html.escape(' | '.join(list(dict.fromkeys(g.questions))[:3]))}</td>"
        f"<td>{'<br>'.join(html.escape(t) for (t, _), _ in g.pages.most_common(3))}</td></tr>"
        for g in _gaps(request)[:20])
    problem = request.app.state.feedback.problem
    notes = [f"Spørgsmål gemmes ikke: {problem}." if problem else "",
             f"Indekset kan ikke opdateres: {status['read_only']}." if status.get("read_only") else ""]
    problem_note = "".join(f'<p role="alert">{html.escape(n)}</p>' for n in notes if n)
    vectors = status.get("vectors") or {}
    vector_line = (f"Vektorer kontrolleret ved start: {vectors.get('checked', 0)}, manglede {vectors.get('missing', 0)}, "
                   f"genskrevet {vectors.get('repaired', 0)}{'. ' + str(vectors['error']) if vectors.get('error') else ''}."
                   + (f" Vektorlageret var beskadiget og er genopbygget: {vectors['rebuilt']}." if vectors.get("rebuilt") else ""))
    return f"""<!doctype html><html lang="da"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="csrf-token" content="{html.escape(csrf, quote=True)}">
<title>Administration · Dokumentationsassistenten</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;color:#1a1a1a}}
table{{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}}td,th{{border-bottom:1px solid #ddd;padding:.35rem;text-align:left;vertical-align:top}}
button{{background:#1d4ed8;color:#fff;border:0;border-radius:6px;padding:.6rem 1rem;font-size:1rem;cursor:pointer}}
table.facts{{width:auto}}table.facts th{{font-weight:600;padding-right:1.5rem}}.notices{{margin-top:0}}</style></head><body>
<h1>Administration</h1><form method="post" action="/admin/logout"><button type="submit">Log ud</button></form>{problem_note}
<h2>Kilder</h2><table><tr><th>Kilde</th><th>Sider</th><th>Tekststykker</th></tr>{rows}</table>
<p>Indeksversion {status["version"]}: {status["pages"]} sider, {status["chunks"]} tekststykker. {html.escape(vector_line)}</p>
<h2>Opdatering</h2><p><button id="reingest" type="button">Genindlæs dokumentationen</button> <span id="job" role="status" aria-live="polite"></span></p>
<h3>Seneste indlæsning</h3><div id="report">{render_report(report)}</div>
<h2>Spørgsmål pr. dag (30 dage)</h2><p>{asked} spørgsmål: {share}.</p>{_bars(daily)}
<table class="facts"><tr><th>Kanal</th><th>Spørgsmål</th><th>Besvaret</th></tr>{channels or '<tr><td colspan="3">Ingen endnu.</td></tr>'}</table>
<h2>Huller i dokumentationen</h2><p>Spørgsmål uden svar eller med 👎, grupperet. <a href="/api/admin/gaps.csv">Hent som CSV</a></p>
<table><tr><th>Antal</th><th>Eksempler</th><th>Nærmeste sider</th></tr>{gap_rows or '<tr><td colspan="3">Ingen endnu.</td></tr>'}</table>
<script>
const headers = {{"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content}};
const show = (text) => {{ document.getElementById("job").textContent = text; }};
const states = {json.dumps(texts.JOB_STATES, ensure_ascii=False)};
document.getElementById("reingest").addEventListener("click", async () => {{
  const reply = await fetch("/api/admin/reingest", {{method: "POST", headers, credentials: "same-origin"}});
  if (!reply.ok) {{ show("Kunne ikke starte: " + reply.status); return; }}
  const {{job}} = await reply.json();
  show("Job " + job.id + ": " + (states[job.state] || job.state));
  for (let i = 0; i < 600; i++) {{
    await new Promise((r) => setTimeout(r, 1000));
    const state = await (await fetch("/api/admin/ingest/" + job.id, {{credentials: "same-origin"}})).json();
    show("Job " + state.id + ": " + (states[state.state] || state.state));
    if (state.state === "done" || state.state === "failed") {{ location.reload(); break; }}
  }}
}});
</script></body></html>"""


_ADMIN_HEADER_ITEMS = [(k.lower().encode(), v.encode()) for k, v in ADMIN_HEADERS.items()]
_ADMIN_HEADER_NAMES = {k for k, _ in _ADMIN_HEADER_ITEMS}


class AdminHeaders:
    """Admin pages and replies are never cached, framed or sent on as a Referer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == "/admin" or path.startswith(("/admin/", "/api/admin/"))):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _ADMIN_HEADER_NAMES]
                headers += _ADMIN_HEADER_ITEMS
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
