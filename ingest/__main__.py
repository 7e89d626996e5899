"""Command line of the ingest pipeline: `python -m ingest --help`.

Without source arguments it re-ingests the sources the index records (a new index: the sources
file); the list changes only with --sources FILE, --add-source, --remove-source or --source."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.offline import go_offline

if TYPE_CHECKING:
    from assistant.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Ingest Jekyll documentation sites into the assistant's index (incremental).",
    )
    parser.add_argument("--source", help="ingest only this site folder or git URL now (added to the index's sources "
                                         "when new; default: every source the index was built from)")
    parser.add_argument("--add-source", metavar="FOLDER_OR_GIT_URL",
                        help="add a site to the index's sources (or replace the one of the same --name), then re-ingest")
    parser.add_argument("--remove-source", metavar="NAME", action="append", default=[],
                        help="remove a source and its pages from the index (repeatable)")
    parser.add_argument("--name", help="name of the --source/--add-source (default: its folder or repository name)")
    parser.add_argument("--site-url", help="published URL of the --source/--add-source when its _config.yml (url) and "
                                           "CNAME do not give it; needed for citation links")
    parser.add_argument("--branch", help="git branch of the --source/--add-source")
    parser.add_argument("--sources", type=Path, help="make the index's sources those of this file (a new index "
                                                     "reads ASSISTANT_SOURCES_FILE, default corpus/sources.toml)")
    parser.add_argument("--index", type=Path, help="index folder (default: data/index)")
    parser.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    parser.add_argument("--full", action="store_true", help="re-chunk every page (and switch model/chunking)")
    parser.add_argument("--list", action="store_true", help="print every stored chunk as one JSON line")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    go_offline()
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    from assistant.errors import AssistantError
    from assistant.settings import Settings

    try:
        updates: dict = {}
        if args.index:
            updates["index_dir"] = args.index
        if args.sources:
            updates["sources_file"] = args.sources
        settings = Settings.load().model_copy(update=updates)
        if args.list:
            return list_chunks(settings)
        return run(settings, args)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `--list | head`
        return 0
    except KeyboardInterrupt:
        print("interrupted: the index keeps its previous version", file=sys.stderr)
        return 130


def run(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.errors import SourceError
    from assistant.sites.sources import load_sources, spec_from_argument
    from ingest.pipeline import ingest

    if args.source and (args.add_source or args.remove_source or args.sources):
        raise SourceError("--source ingests one site now; use it alone, or --sources/--add-source/--remove-source")
    given = args.source or args.add_source
    if not given and (args.name or args.site_url or args.branch):
        raise SourceError("--name, --site-url and --branch describe a --source or --add-source")
    spec = spec_from_argument(given, args.name, args.site_url, args.branch) if given else None
    progress = not args.quiet and sys.stderr.isatty()
    if spec is not None and args.source:
        report = ingest(settings, [spec], full=args.full, dry_run=args.dry_run, progress=progress)
    else:
        report = ingest(
            settings, load_sources(settings.sources_file) if args.sources else None,
            add=[spec] if spec else [], remove=args.remove_source, prune_unlisted=True,
            full=args.full, dry_run=args.dry_run, progress=progress,
        )
    if args.dry_run:
        print("dry run: nothing written")
    for line in report.lines():
        print(line)
    return 1 if report.failed else 0


def list_chunks(settings: Settings) -> int:
    from assistant.index.factory import open_catalog

    catalog = open_catalog(settings, must_exist=True)
    for _, chunk in catalog.chunks():
        row = {
            "source": chunk.source, "path": chunk.path, "title": chunk.title,
            "breadcrumb": list(chunk.breadcrumb), "heading": chunk.heading, "headings": list(chunk.headings),
            "anchor": chunk.anchor, "url": chunk.url, "text": chunk.text,
        }
        print(json.dumps(row, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
