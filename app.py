"""The one process users start: FastAPI app with the Gradio chat at /, the JSON API under /api and
the embeddable widget at /widget.js (install page: /widget).

    python app.py [--index DIR] [--host H] [--port N]

On first start with an empty index it ingests the sources in corpus/sources.toml (progress in the log).
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.offline import go_offline

go_offline()

if TYPE_CHECKING:
    from fastapi import FastAPI

    from assistant.settings import Settings
    from ingest.report import IngestReport

log = logging.getLogger("app")


def ensure_index(settings: Settings) -> None:
    """Ingest the index's sources (a new index: the sources file) when it has no pages yet, and re-embed
    it once when it was built with another embedding model or chunking (an upgrade): the new vectors go
    to their own collection and the old index stays whole until the new one is committed."""
    import sqlite3
    import time

    from assistant.errors import IngestLockedError, SourceError, StoreError, is_disk_full
    from assistant.index.factory import open_catalog
    from ingest.pipeline import reingest, stale_app_addresses

    try:
        catalog = open_catalog(settings)
        pages, _ = catalog.counts()
    except (sqlite3.Error, OSError) as exc:
        if not is_disk_full(exc, Path(settings.index_dir)):
            raise
        log.error("the disk of %s is full: the index is served as it is, without ingesting", settings.index_dir)
        return
    recorded = catalog.signature() if pages else None
    full = bool(recorded) and recorded != settings.chunking_signature()
    # With a Chroma server, instances on other ports would take turns: there it follows ASSISTANT_PUBLIC_URL only.
    try:
        moved = (stale_app_addresses(catalog.recorded_sources(), settings) if pages and not full
                 and (settings.public_url or not settings.chroma_host) else [])
    except (StoreError, SourceError) as exc:  # a damaged list of sources: served as it is, re-ingests say why
        log.warning("%s", exc)
        moved = []
    if pages and not full and not moved:
        catalog.close()
        return
    if moved:
        log.info("the app's address is now %s: re-ingesting %s so that its citations link there",
                 settings.public_base(), ", ".join(moved))
    elif full:
        log.warning("index %s was built with %s; the settings say %s: re-embedding it once (progress below), "
                    "then serving", settings.index_dir, (recorded or {}).get("embedding_model"), settings.embedding_model)
    else:
        log.info("index %s is empty: ingesting %s", settings.index_dir,
                 "its sources" if catalog.recorded_sources() else settings.sources_file)
    try:
        report = reingest(settings, progress=True, full=full)
    except IngestLockedError:  # another instance builds it: wait for its first version
        log.info("another process is ingesting; waiting for it to finish")
        while not catalog.counts()[0]:
            time.sleep(2)
        catalog.close()
        return
    catalog.close()
    log_report(report)


def built_with(settings: Settings, updates: dict | None = None) -> Settings | None:
    """The settings an index was built with when they are another model's or chunking's than
    `settings` (an upgrade): this process serves the index with them while the new one is built
    (`reembed_while_serving`). None when the index matches, is empty or cannot be read (ensure_index
    says why). `updates`: what the command line set on top of the environment."""
    import sqlite3

    from assistant.errors import AssistantError
    from assistant.index.factory import open_catalog
    from assistant.settings import Settings

    try:
        catalog = open_catalog(settings)
        try:
            recorded = catalog.signature() if catalog.counts()[0] else None
        finally:
            catalog.close()
    except (AssistantError, sqlite3.Error, OSError):
        return None
    if not recorded or recorded == settings.chunking_signature():
        return None
    fields = {k: v for k, v in recorded.items() if k in Settings.model_fields}
    fields.setdefault("embedding_backend", "torch")  # the signature names the backend unless it is torch
    try:  # built anew, not copied: the old model's calibration (MODEL_CALIBRATION) comes with it
        return Settings.load(**fields).model_copy(update=updates or {})
    except AssistantError as exc:
        log.warning("the index's own settings cannot be used (%s): re-embedding before serving", exc)
        return None


def reembed_while_serving(app: FastAPI, settings: Settings) -> threading.Thread:
    """Re-embed the index with `settings` in a thread while `app` serves it as it was built; the app
    switches to the new index the moment it is committed, before the old vectors are deleted."""
    from assistant.errors import IngestLockedError
    from assistant.serve.service import Assistant
    from ingest.pipeline import reingest

    def switch(version: int) -> None:
        try:
            app.state.assistant = Assistant.open(settings)
        except Exception:  # noqa: BLE001 - the old index stays served; the next start tries again
            log.exception("the re-embedded index (version %d) could not be opened; still serving the old one", version)
            return
        app.state.settings = settings
        log.info("re-embedded: serving index version %d, embedded with %s", version, settings.embedding_model)

    def run() -> None:
        try:
            log_report(reingest(settings, progress=True, full=True, on_live=switch))
        except IngestLockedError:
            log.warning("re-embedding with %s waits for the next start: another ingest is running",
                        settings.embedding_model)
        except Exception:  # noqa: BLE001 - the old index stays served
            log.exception("re-embedding with %s failed; still serving the index as it was built",
                          settings.embedding_model)
        finally:
            app.state.reembedding = None

    app.state.reembedding = settings.embedding_model
    thread = threading.Thread(target=run, name="re-embed", daemon=True)
    thread.start()
    return thread


def log_report(report: IngestReport) -> None:
    """The ingest report in the log: a source that failed, or warned, at WARNING."""
    for line in report.lines():
        failed = any(line.startswith(f"{s.name}: FAILED") for s in report.sources)
        log.log(logging.WARNING if failed else logging.INFO, "ingest: %s", line)
    warned = sum(len(s.warnings) for s in report.sources)
    if warned:
        log.warning("ingest: %d warnings (above); the report lists them", warned)


def served_sites(settings: Settings) -> list[tuple[str, Path, str]]:
    """(path, folder, name) of the sources the app serves itself (site_url = "/guide/")."""
    from assistant.sites.sources import is_app_path
    from ingest.source_set import sources_of_index

    try:
        specs = sources_of_index(settings).specs
    except Exception as exc:  # noqa: BLE001 - the chat is served all the same
        log.warning("the sites the app serves itself are not served: %s", exc)
        return []
    return [(s.site_url, s.path, s.name) for s in specs if is_app_path(s.site_url) and s.path is not None]


def create_app(settings: Settings, feedback_db: Path | None = None) -> FastAPI:
    """The FastAPI app: JSON API under /api, the widget at /widget.js and /widget, the chat at /.

    Feedback goes to `feedback_db` (default: feedback.sqlite next to the index folder)."""
    from contextlib import asynccontextmanager, nullcontext

    import anyio
    import gradio as gr
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    from assistant.mcp.http import mount_mcp
    from assistant.serve.feedback import FeedbackStore
    from assistant.serve.jobs import IngestJobs, Poller
    from assistant.serve.service import Assistant
    from assistant.serve.webhooks import RecentDeliveries
    from assistant.web import texts
    from assistant.web.admin import AdminHeaders, build_admin_router
    from assistant.web.api import build_router
    from assistant.web.auth import install_log_redaction
    from assistant.web.chat import CSS, build_chat, theme
    from assistant.web.failures import failure, install_error_handlers
    from assistant.web.guide import build_guide_router
    from assistant.web.llms_txt import build_llms_router
    from assistant.web.middleware import add_middleware, allowed_origins
    from assistant.web.widget import build_widget_router
    from ingest.pipeline import reingest
    from ingest.source_set import sources_of_index

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        poller = Poller(app.state.jobs, settings.poll_interval) if settings.poll_interval > 0 else None
        async with mcp_sessions.run() if mcp_sessions is not None else nullcontext():  # /mcp's task group
            yield
        if poller:
            poller.stop()
        app.state.feedback.close()

    app = FastAPI(title="Dokumentationsassistenten", description="Spørg dokumentationen; svar med kilder.",
                  lifespan=lifespan)
    app.state.assistant = None  # /readyz answers 503 until it is loaded
    app.state.allowed_origins = allowed_origins(settings)
    app.state.settings = settings
    app.state.feedback = FeedbackStore(feedback_db or Path(settings.index_dir).parent / "feedback.sqlite")
    app.state.feedback.purge(settings.retention_days)
    # Re-ingests (admin, webhook, polling) read the sources the index records, never the sources file.
    app.state.reembedding = None  # the model an upgrade re-embeds the index with, while it runs
    app.state.jobs = IngestJobs(lambda: reingest(app.state.settings).to_dict(), disk=Path(settings.index_dir))
    app.state.git_sources = lambda: [s for s in sources_of_index(settings).specs if s.git]
    app.state.deliveries = RecentDeliveries()
    install_log_redaction()
    app.add_middleware(AdminHeaders)
    guide = served_sites(settings)
    add_middleware(app, settings, guide=tuple(path for path, _, _ in guide))
    install_error_handlers(app)  # every error a route raises: a status and a Danish message
    app.include_router(build_router())
    app.include_router(build_admin_router())
    app.include_router(build_widget_router())
    app.include_router(build_guide_router(guide))  # /guide/: the user guide
    app.include_router(build_llms_router())  # /llms.txt, /llms-full.txt, /llms/{source}.txt
    mcp_sessions = (mount_mcp(app, settings, lambda: app.state.assistant, app.state.feedback)
                    if settings.mcp_enabled else None)  # /mcp, before the chat takes /

    # Health checks run on the event loop or on their own two threads, never in the pool that
    # answers questions: a hanging LLM must not make the process look dead.
    health_threads = anyio.CapacityLimiter(2)

    @app.get("/healthz")
    @app.head("/healthz", include_in_schema=False)  # uptime monitors send HEAD
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", response_model=None)
    @app.head("/readyz", response_model=None, include_in_schema=False)
    async def readyz():  # no return annotation: JSONResponse is imported locally, FastAPI can't resolve it
        assistant = app.state.assistant
        if assistant is None:
            return JSONResponse({"ready": False, "detail": texts.LOADING}, status_code=503)
        try:
            status = await anyio.to_thread.run_sync(assistant.status, limiter=health_threads)
        except Exception as exc:  # noqa: BLE001 - not ready, and why: in Danish here, the details in the log
            return JSONResponse({"ready": False, "detail": failure(exc, "readyz").message}, status_code=503)
        pool = anyio.to_thread.current_default_thread_limiter()
        busy = pool.borrowed_tokens >= pool.total_tokens
        upgrade = {"reembedding": app.state.reembedding} if app.state.reembedding else {}
        vectors = status.get("vectors") or {}
        unrepaired = (vectors.get("missing") or 0) - (vectors.get("repaired") or 0)  # found only by words
        why = {"detail": texts.VECTORS_MISSING.format(missing=unrepaired, checked=vectors.get("checked"))} \
            if unrepaired > 0 else {}
        return JSONResponse({"ready": True, "status": "degraded" if busy or unrepaired > 0 else "ok",
                             "answer_threads": {"busy": pool.borrowed_tokens, "total": pool.total_tokens},
                             **status, **upgrade, **why})

    app.state.assistant = Assistant.open(settings)
    chat = build_chat(lambda: app.state.assistant, app.state.feedback)
    return gr.mount_gradio_app(app, chat, path="/", css=CSS, theme=theme())


def start_app(settings: Settings, updates: dict | None = None, feedback_db: Path | None = None) -> FastAPI:
    """The app `python app.py` serves: the index brought up to date first (ensure_index), except an
    index of another model, which is served as it was built while it is re-embedded
    (`app.state.reembed`: the thread)."""
    from assistant.errors import AssistantError

    if (previous := built_with(settings, updates)) is not None:
        try:
            app = create_app(previous, feedback_db)
        except AssistantError as exc:  # e.g. the old model is not installed here
            log.warning("the index cannot be served as it was built (%s): re-embedding before serving", exc)
        else:
            log.warning("index %s was built with %s; the settings say %s: serving it as it is while it is "
                        "re-embedded once (progress below)", settings.index_dir, previous.embedding_model,
                        settings.embedding_model)
            app.state.reembed = reembed_while_serving(app, settings)
            return app
    ensure_index(settings)
    return create_app(settings, feedback_db)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python app.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path)
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import uvicorn

    from assistant.errors import AssistantError
    from assistant.settings import Settings
    from assistant.web.connections import server_options

    updates = {k: v for k, v in {"index_dir": args.index, "host": args.host, "port": args.port}.items() if v}
    try:
        settings = Settings.load().model_copy(update=updates)
        app = start_app(settings, updates)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    log.info("serving on http://%s:%d", settings.host, settings.port)
    # proxy_headers off: the app reads X-Forwarded-For itself, only from ASSISTANT_TRUSTED_PROXIES.
    # server_options: requests not sent in time are closed, connections limited (web/connections.py).
    uvicorn.run(app, host=settings.host, port=settings.port, timeout_graceful_shutdown=2, proxy_headers=False,
                **server_options())
    return 0


if __name__ == "__main__":
    sys.exit(main())
