"""The embeddable widget: `/widget.js` (the script a docs site includes), `/widget` (how to install
it) and `/api/widget/access` (whether the site the widget runs on may use the assistant).

The script is static/widget.js with one object filled in as it is served: its texts (texts.WIDGET),
the longest question (models.MAX_QUESTION_CHARS) and the history it sends (web/common.py), so that it
holds no copies of them. Its API
origin is wherever it was loaded from. The install page fills in this server's address from the
request. The access check answers any site (it says no more than the install page does), so that a
widget on a site that is not allowed can say so instead of looking like an outage.
"""

from __future__ import annotations

import hashlib
import html
import json
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from assistant.models import MAX_QUESTION_CHARS
from assistant.web import texts
from assistant.web.common import MAX_HISTORY_TURNS, MAX_TURN_CHARS

STATIC = Path(__file__).resolve().parent / "static"
WIDGET_JS = STATIC / "widget.js"
SERVED = "/* SERVED */ {}"  # in widget.js: replaced by the texts and limits


def snippet(base_url: str) -> str:
    host = base_url.rstrip("/")
    return (f'<script src="{host}/widget.js" data-title="{html.escape(texts.TITLE, quote=True)}" data-color="#0b5" '
            f'data-position="right" async></script>')


def widget_script() -> str:
    """widget.js with its texts and limits filled in."""
    script = WIDGET_JS.read_text(encoding="utf-8")
    if SERVED not in script:
        raise RuntimeError(f"{WIDGET_JS} lost its {SERVED!r} placeholder: put it back where the script reads SERVER")
    served = {"text": texts.WIDGET, "maxQuestionChars": MAX_QUESTION_CHARS, "maxHistoryTurns": MAX_HISTORY_TURNS,
              "maxTurnChars": MAX_TURN_CHARS}
    return script.replace(SERVED, json.dumps(served, ensure_ascii=False), 1)


def build_widget_router() -> APIRouter:
    router = APIRouter()
    script = widget_script().encode("utf-8")
    etag = '"' + hashlib.sha256(script).hexdigest()[:32] + '"'
    script_headers = {
        "Cache-Control": "public, max-age=3600, stale-while-revalidate=86400",
        "Cross-Origin-Resource-Policy": "cross-origin",  # any site may include the script
        "ETag": etag,
    }

    @router.get("/widget.js", include_in_schema=False)
    def widget_js(request: Request) -> Response:
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=script_headers)
        return Response(script, media_type="text/javascript; charset=utf-8", headers=script_headers)

    @router.get("/api/widget/access", summary="Whether the calling site may use the assistant (the widget asks)")
    def widget_access(request: Request) -> JSONResponse:
        origin = (request.headers.get("origin") or "")[:200]
        allowed = request.app.state.allowed_origins
        ok = not origin or origin in allowed or "*" in allowed
        if not ok:
            request.app.state.refused_origins.note(origin)
        return JSONResponse({"allowed": ok, "origin": origin, "detail": "" if ok else texts.not_allowed(origin)},
                            headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"})

    @router.get("/widget", include_in_schema=False, response_class=HTMLResponse)
    def widget_page(request: Request) -> HTMLResponse:
        return HTMLResponse(install_page(str(request.base_url), request.app.state.allowed_origins))

    return router


def install_page(base_url: str, origins: list[str]) -> str:
    code = html.escape(snippet(base_url))
    host = html.escape(base_url.rstrip("/"))
    allowed = ("<ul>" + "".join(f"<li><code>{html.escape(o)}</code></li>" for o in origins) + "</ul>") if origins \
        else "<p><strong>Ingen sites er tilladt endnu.</strong></p>"
    return f"""<!doctype html>
<html lang="da">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Widget til dit dokumentationssite — Dokumentationsassistenten</title>
<style>
  :root {{ color-scheme: light dark; --fg: #1a1a1a; --bg: #fff; --muted: #4a4a4a; --code: #f2f2f2; --link: #0645ad; }}
  @media (prefers-color-scheme: dark) {{
    :root {{ --fg: #ececec; --bg: #161616; --muted: #c4c4c4; --code: #262626; --link: #8ab4f8; }}
  }}
  body {{ font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
         background: var(--bg); max-width: 46rem; margin: 0 auto; padding: 1.5rem 1rem 6rem; }}
  a {{ color: var(--link); }}
  pre {{ background: var(--code); padding: .75rem; border-radius: 6px; white-space: pre-wrap; word-break: break-all; }}
  code {{ font: 14px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }}
  .muted {{ color: var(--muted); }}
  button {{ font: inherit; padding: .4rem .9rem; border-radius: 6px; border: 1px solid currentColor;
           background: transparent; color: inherit; cursor: pointer; }}
  table {{ border-collapse: collapse; }} td, th {{ text-align: left; padding: .25rem .75rem .25rem 0; vertical-align: top; }}
</style>
</head>
<body>
<main>
<h1>Sæt assistenten på dit dokumentationssite</h1>
<p>Widgetten er en knap nederst på siden, der åbner en chat. Den svarer ud fra dokumentationen og
viser kilderne som links til de afsnit, svaret bygger på. Samtalen huskes, mens fanen er åben.</p>

<h2>1. Indsæt denne linje</h2>
<p>Sæt linjen ind lige før <code>&lt;/body&gt;</code> i sitets layout (i Jekyll fx
<code>_includes/footer_custom.html</code> eller <code>_layouts/default.html</code>):</p>
<pre id="snippet"><code>{code}</code></pre>
<p><button type="button" id="copy">Kopiér linjen</button> <span id="copied" class="muted" role="status"></span></p>

<h2>2. Tillad dit site</h2>
<p>Serveren svarer kun browsere fra sites, den kender. Sæt sitets adresse (fx
<code>https://minkommune.github.io</code>) i miljøvariablen <code>ASSISTANT_ALLOWED_ORIGINS</code>
(flere adskilles med komma) og genstart serveren. Tilladt nu:</p>
{allowed}

<h2>Tilpasning</h2>
<table>
<tr><th scope="row"><code>data-title</code></th><td>Teksten på knappen og i chatvinduet.</td></tr>
<tr><th scope="row"><code>data-color</code></th><td>Knappens farve (CSS-farve, fx <code>#0b5</code>).
  Tekstfarven vælges, så kontrasten er god nok.</td></tr>
<tr><th scope="row"><code>data-position</code></th><td><code>right</code> (standard) eller <code>left</code>.</td></tr>
</table>

<h2>Prøv den</h2>
<p>Widgetten kører på denne side: knappen sidder nederst til højre. Den kan bruges med tastaturet
(Tab til knappen, Enter åbner, Esc lukker) og med skærmlæser.</p>
<p class="muted">Serveren: <code>{host}</code> · <a href="/">Åbn chatten</a> · <a href="/docs">API-dokumentation</a></p>
</main>
<script>
  document.getElementById("copy").addEventListener("click", function () {{
    var text = document.querySelector("#snippet code").textContent;
    var done = function () {{ document.getElementById("copied").textContent = "Kopieret."; }};
    if (navigator.clipboard) {{ navigator.clipboard.writeText(text).then(done, function () {{}}); }}
  }});
</script>
<script src="/widget.js" data-title="{html.escape(texts.TITLE, quote=True)}" async></script>
</body>
</html>
"""
