"""One incremental ingest run: scan sources, diff against the catalog, embed what changed, commit.

Order of work, chosen so that a crash or Ctrl-C at any point leaves the previous index usable:
  1. scan and chunk the sources (nothing written);
  2. embed new chunk texts (cached per batch, so a rerun resumes) and upsert their vectors;
  3. commit the catalog in one transaction — from here on queries see the new state;
  4. delete vectors no longer live (and any left behind by an earlier crash);
  5. check that every live chunk has a readable vector, writing missing ones again (store.check_vectors).
An index built with other model/chunking settings lives in another collection, so even `--full`
with a new model never touches the live vectors before its commit. A file lock keeps to one writer.
Which sources a run reads, and the list of sources the index records (written with the pages), are
decided in ingest/source_set.py; a git source that cannot be fetched is read from its clone or snapshot.

Each step ends with a progress line on the `ingest` log (INFO, so on stderr in the CLI), named by a
stable point: `progress <point>: <what>`, the point's name also in the record's `progress` attribute.
    scanned              sources scanned and chunked; nothing written yet
    embedded-batch-<n>   the n-th batch of new embeddings is in the embedding cache
    vectors-stored       the new vectors are in the store; the catalog commit comes next
    catalog-committed    the new version is live
    stale-deleted        vectors no longer live are deleted
    vectors-checked      every live chunk's vector was read (and missing ones written again)
A run with nothing to write logs none of them. tests/ingest/test_faults.py kills the process at them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant.embed.embedder import Embedder, embedding_key, get_embedder, load_token_counter
from assistant.errors import EmbeddingError, SourceError
from assistant.index.catalog import PageCatalog, PageChange, PageRecord
from assistant.index.embedding_cache import EmbeddingCache
from assistant.index.factory import open_catalog, writer_lock
from assistant.index.store import ChromaStore, check_vectors, collection_name, open_store
from assistant.models import Chunk
from assistant.read import make_reader
from assistant.settings import Settings
from assistant.sites.sources import SourceSpec, github_pages_url, is_app_path, load_sources
from assistant.text import sentence_hash, sentences_in_context
from ingest.chunk import ChunkSizes, chunk_page
from ingest.report import IngestReport, SourceReport, summary
from ingest.site import scan_site
from ingest.source_set import index_sources, merged, recorded_specs, source_changes, with_changes
from ingest.sources import checkout

log = logging.getLogger("ingest")


def ingest(
    settings: Settings,
    specs: Sequence[SourceSpec] | None,
    *,
    add: Sequence[SourceSpec] = (),
    remove: Sequence[str] = (),
    full: bool = False,
    dry_run: bool = False,
    prune_unlisted: bool = False,
    progress: bool = True,
    on_warning: Callable[[str], None] = log.warning,
    on_notice: Callable[[str], None] = log.info,
    on_live: Callable[[int], None] | None = None,
) -> IngestReport:
    """Bring the index up to date with the given sources. Raises IngestLockedError if one runs.

    `specs` None: the sources the index records (ingest/source_set.py), pages of any others removed.
    With `prune_unlisted` the index's sources become `specs` (pages of the others removed); without,
    `specs` are added to (or replace, by name) the recorded ones, which are not read this run.
    `add` and `remove` (names) change the list first. The new list is recorded with the pages.
    `on_live(version)` is called as soon as a new version is committed, before the vectors no longer
    live (and the collection of a model no longer in use) are deleted: a server still serving an index
    of another model switches to the new one there (app.py)."""
    index_dir = Path(settings.index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = writer_lock(settings)  # one ingest at a time: a lock file, or a lease in the Chroma server
    if not dry_run:
        lock.acquire()
    try:
        return _run(settings, specs, add=add, remove=remove, full=full, dry_run=dry_run, prune_unlisted=prune_unlisted,
                    progress=progress, on_warning=on_warning, on_notice=on_notice, on_live=on_live)
    finally:
        if lock.is_locked:
            lock.release()


def reingest(settings: Settings, progress: bool = False, full: bool = False,
             on_live: Callable[[int], None] | None = None) -> IngestReport:
    """The sources the index is built from (a new index: the sources file): what the admin button, the
    webhook, polling and `python -m ingest` without arguments run."""
    return ingest(settings, None, progress=progress, full=full, on_live=on_live)


def ingest_sources_file(settings: Settings, progress: bool = False, full: bool = False) -> IngestReport:
    """Every source of the sources file, which becomes the index's list of sources (`--sources FILE`)."""
    return ingest(settings, load_sources(settings.sources_file), prune_unlisted=True, progress=progress, full=full)


def published_site_url(spec: SourceSpec, settings: Settings) -> str:
    """The source's site_url, with a path (`/guide/`: served by this app) made absolute with its address."""
    return settings.public_base() + spec.site_url if is_app_path(spec.site_url) else spec.site_url


def _run(settings: Settings, specs: Sequence[SourceSpec] | None, *, add: Sequence[SourceSpec], remove: Sequence[str],
         full: bool, dry_run: bool, prune_unlisted: bool, progress: bool, on_warning: Callable[[str], None],
         on_notice: Callable[[str], None], on_live: Callable[[int], None] | None) -> IngestReport:
    started = time.perf_counter()
    index_dir = Path(settings.index_dir)
    catalog = open_catalog(settings)
    signature = settings.chunking_signature()
    old_signature = catalog.signature()
    if not full:
        catalog.check_signature(signature, index_dir)
    rebuild = full or old_signature is None or old_signature != signature
    known = catalog.pages()
    report = IngestReport(sources=[], dry_run=dry_run)
    old_records = catalog.recorded_sources()
    specs, records, prune_unlisted = _source_list(catalog, settings, specs, add, remove, prune_unlisted, known, report)
    for notice in report.notices:
        on_notice(notice)
    changes: list[PageChange] = []
    new_chunks: list[Chunk] = []
    stale_ids: set[str] = set()
    new_keys: dict[tuple[str, str], str] = {}  # unchanged pages read from changed (or unkeyed) files
    count_tokens = load_token_counter(settings.embedding_model, settings.cache_dir)
    sizes = ChunkSizes.of(settings)

    for spec in specs:
        source_report = SourceReport(spec.name, spec.location)
        report.sources.append(source_report)
        try:
            folder = checkout(spec, Path(settings.cache_dir))
            keys = {} if rebuild else {path: rec.file_key for (src, path), rec in known.items() if src == spec.name}
            inferred = "" if spec.site_url else github_pages_url(spec.git) or ""
            scan = scan_site(folder.root, spec.name, published_site_url(spec, settings), keys, inferred,
                              generator=spec.generator)
        except SourceError as exc:  # its pages stay as they are
            source_report.error = str(exc)
            on_warning(str(exc))
            continue
        for notice in ([folder.notice] if folder.notice else []) + scan.notices:
            source_report.notices.append(notice)
            on_notice(f"{spec.name}: {notice}")
        for warning in scan.warnings:
            source_report.warnings.append(warning)
            on_warning(warning)
        before = {path: rec for (src, path), rec in known.items() if src == spec.name}
        for path in scan.unchanged:  # the same bytes as last time: not even parsed
            before.pop(path, None)
            source_report.unchanged.append(path)
        for page in tqdm(scan.pages, desc=f"chunking {spec.name}", unit="page", disable=not progress, leave=False):
            record = before.pop(page.path, None)
            if record is not None and record.content_hash == page.content_hash and not rebuild:
                source_report.unchanged.append(page.path)  # the file changed, its text did not
                if record.file_key != page.file_key:
                    new_keys[(spec.name, page.path)] = page.file_key
                continue
            (source_report.changed if record is not None else source_report.added).append(page.path)
            chunks = chunk_page(page, count_tokens, sizes, warn=source_report.warnings.append)
            changes.append(PageChange(spec.name, page.path, page, chunks))
            new_chunks.extend(chunks)
            if record is not None:
                stale_ids.update(record.chunk_ids)
        for path, record in before.items():
            source_report.removed.append(path)
            changes.append(PageChange(spec.name, path, None))
            stale_ids.update(record.chunk_ids)

    if prune_unlisted:  # a source taken out of the list takes its pages with it
        listed = {spec.name for spec in specs}
        unlisted: dict[str, SourceReport] = {}
        for (src, path), record in known.items():
            if src not in listed:
                unlisted.setdefault(src, SourceReport(src, "(removed from the sources)")).removed.append(path)
                changes.append(PageChange(src, path, None))
                stale_ids.update(record.chunk_ids)
        report.sources.extend(unlisted.values())

    report.chunks_written = len(new_chunks)
    if (changes or rebuild) and not dry_run:
        _progress("scanned", f"{len(changes)} pages to write or remove, {len(new_chunks)} new chunks")
    if new_keys and not dry_run:
        catalog.remember_file_keys(new_keys)
    if dry_run or (not changes and not rebuild):
        if records != old_records and not dry_run:  # the list changed, no page did
            catalog.record_sources(records)
        report.version = catalog.version
        _count_live_chunks(report, known, [] if dry_run else changes)
        report.seconds = time.perf_counter() - started
        catalog.close()
        return report

    store = open_store(settings, collection_name(settings.collection, signature))
    vectors = _embed(new_chunks, settings, report, progress)
    write = _not_stored(store, new_chunks, stale_ids)
    store.add([new_chunks[i].id for i in write], vectors[write], [new_chunks[i].text for i in write],
              [new_chunks[i].metadata() for i in write])
    _progress("vectors-stored", f"{len(write)} vectors written to {store.description} ({len(new_chunks) - len(write)} "
                                "of the changed pages' chunks were stored as they are); committing the catalog")
    report.version = catalog.commit(changes, signature, summary(report), sources=records)
    _progress("catalog-committed", f"version {report.version} is live")
    if on_live is not None:
        on_live(report.version)
    live = catalog.chunk_ids()
    report.vectors_deleted = _delete_stale(store, stale_ids - live, live, full_sweep=rebuild or bool(stale_ids))
    _progress("stale-deleted", f"{report.vectors_deleted} vectors no longer live deleted")
    report.vectors = check_vectors(store, lambda: dict(catalog.chunks()), settings, _model_embed(settings))
    _progress("vectors-checked", report.vectors.summary())
    if old_signature is not None and old_signature != signature:
        open_store(settings, collection_name(settings.collection, old_signature)).drop()
    _count_live_chunks(report, known, changes)
    report.seconds = time.perf_counter() - started
    catalog.close()
    return report


def _count_live_chunks(report: IngestReport, known: dict[tuple[str, str], PageRecord],
                       changes: Sequence[PageChange]) -> None:
    """Each source's live chunks after the run: its pages kept as they were, and the new pages' chunks."""
    live = {page: len(record.chunk_ids) for page, record in known.items()}
    for change in changes:
        live[(change.source, change.path)] = len(change.chunks) if change.page is not None else 0
    for source_report in report.sources:
        source_report.chunks = sum(n for (source, _), n in live.items() if source == source_report.name)


def _source_list(catalog: PageCatalog, settings: Settings, specs: Sequence[SourceSpec] | None,
                 add: Sequence[SourceSpec], remove: Sequence[str], prune_unlisted: bool,
                 known: dict, report: IngestReport) -> tuple[list[SourceSpec], list[dict], bool]:
    """(the sources this run reads, the index's list of sources after it, whether pages of sources not
    read are removed); the changes to the list and notices go into the report."""
    old = catalog.recorded_sources()
    page_sources = sorted({source for source, _ in known})
    if specs is None:
        plan = index_sources(catalog, Path(settings.sources_file), settings.index_dir)
        base, prune = plan.specs, True
        report.notices.extend(plan.notices)
    else:
        base, prune = list(specs), prune_unlisted
    if add or remove:
        base, prune = with_changes(base, add, remove), True
    if prune:
        records = [spec.to_record() for spec in base]
    else:
        records = [spec.to_record() for spec in merged(recorded_specs(old or [], settings.index_dir), page_sources, base)]
    for record in records:  # a site the app serves: at which address its citations were made
        if is_app_path(record.get("site_url", "")):
            record["published_at"] = published_site_url(SourceSpec.from_record(record, "the index"), settings)
    before = old if old is not None else [{"name": name} for name in page_sources]
    report.source_changes = source_changes(before, records)
    return base, records, prune


def stale_app_addresses(recorded: Sequence[dict] | None, settings: Settings) -> list[str]:
    """Sources the app serves itself whose citations were made for another address of the app
    (another ASSISTANT_PUBLIC_URL or port): a re-ingest gives them this one."""
    return [r["name"] for r in recorded or () if r.get("published_at")
            and r["published_at"] != published_site_url(SourceSpec.from_record(r, "the index"), settings)]


def _embed(chunks: list[Chunk], settings: Settings, report: IngestReport, progress: bool) -> np.ndarray:
    """Vectors for the chunks: from the cache where possible, the rest from the model in batches.
    The prose sentences of the chunks are embedded into the cache too, for answers to read
    (answer/meaning.py)."""
    cache = EmbeddingCache(Path(settings.embedding_cache_dir or settings.index_dir))
    model = embedding_key(settings.embedding_model, settings.embedding_backend)
    embed = _model_embed(settings)
    reader = make_reader(settings, lambda text: embed([text])[0], embed, load_now=False)  # loaded if it embeds
    texts = {c.text_hash: c.embed_text for c in chunks}
    sentences = {sentence_hash(s): s for c in chunks for s in sentences_in_context(c)}
    try:
        with tqdm(desc="embedding", unit="chunk", disable=not progress) as bar:
            def batch_done(number: int, batches: int, size: int) -> None:
                bar.update(size)
                _progress(f"embedded-batch-{number}", f"batch {number} of {batches} ({size} texts) embedded and cached")

            found, embedded = cache.vectors_for(model, texts, embed, settings.embedding_cache_batch, batch_done)
        with tqdm(desc="embedding sentences", unit="sentence", disable=not progress) as bar:
            def sentences_done(number: int, batches: int, size: int) -> None:
                bar.update(size)
                _progress(f"sentences-batch-{number}", f"sentence batch {number} of {batches} embedded and cached")

            report.sentences_embedded = len(cache.vectors_for(reader.key, sentences, reader.sentence_vectors,
                                                              settings.embedding_cache_batch, sentences_done)[1])
    finally:
        cache.close()
    new = set(embedded)
    report.chunks_embedded = len(embedded)
    report.chunks_cached = sum(1 for c in chunks if c.text_hash not in new)
    if not chunks:
        return np.zeros((0, 1), dtype=np.float32)
    return np.stack([found[c.text_hash] for c in chunks])


def _model_embed(settings: Settings) -> Callable[[list[str]], np.ndarray]:
    """The embedding model as a function of texts, loaded on its first call (most runs need none)."""
    embedder: Embedder | None = None

    def embed(texts: list[str]) -> np.ndarray:
        nonlocal embedder
        if embedder is None:
            embedder = get_embedder(settings.embedding_model, settings.embedding_batch_size,
                                    settings.embedding_backend, settings.cache_dir)
            if settings.chunk_max_tokens > embedder.max_tokens:
                raise EmbeddingError(
                    f"chunk_max_tokens={settings.chunk_max_tokens} exceeds the model's input limit of "
                    f"{embedder.max_tokens} word pieces; text would be cut off. Lower ASSISTANT_CHUNK_MAX_TOKENS."
                )
        return embedder.embed_passages(texts)

    return embed


def _progress(point: str, detail: str) -> None:
    """A named point of the run (see the module docstring), logged as `progress <point>: <detail>`."""
    log.info("progress %s: %s", point, detail, extra={"progress": point})


def _not_stored(store: ChromaStore, chunks: list[Chunk], previous: set[str]) -> list[int]:
    """The positions of the chunks to write: all but those of a changed page that are stored as they
    are (the same id, text and metadata as in the page's previous version: a sentence added to one
    paragraph leaves the page's other chunks as they were, and writing them again is most of an
    update's store time)."""
    same_id = [c.id for c in chunks if c.id in previous]
    stored = store.stored(same_id) if same_id else {}
    return [i for i, c in enumerate(chunks) if stored.get(c.id) != (c.text, c.metadata())]


def _delete_stale(store: ChromaStore, stale: set[str], live: set[str], full_sweep: bool) -> int:
    """Delete vectors that are not live, including leftovers of an interrupted earlier run."""
    if full_sweep:
        stale = stale | (store.ids() - live)
    if stale:
        store.delete(sorted(stale))
    return len(stale)
