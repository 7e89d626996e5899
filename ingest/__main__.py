"""Command line of the ingest pipeline: `python -m ingest --help`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from assistant.offline import go_offline


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Ingest Jekyll documentation sites into the assistant's index (incremental).",
    )
    parser.add_argument("--source", help="a site folder or git URL (default: every source in the sources file)")
    parser.add_argument("--name", help="name of the --source (default: its folder or repository name)")
    parser.add_argument("--site-url", help="published URL of the --source when _config.yml does not give it")
    parser.add_argument("--branch", help="git branch of the --source")
    parser.add_argument("--sources", type=Path, help="sources file (default: corpus/sources.toml)")
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


def run(settings, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from ingest.pipeline import ingest
    from ingest.sources import load_sources, spec_from_argument

    if args.source:
        specs = [spec_from_argument(args.source, args.name, args.site_url, args.branch)]
    else:
        specs = load_sources(settings.sources_file)
    report = ingest(
        settings, specs, full=args.full, dry_run=args.dry_run, prune_unlisted=not args.source,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    if args.dry_run:
        print("dry run: nothing written")
    for line in report.lines():
        print(line)
    return 1 if report.failed else 0


def list_chunks(settings) -> int:  # type: ignore[no-untyped-def]
    from assistant.catalog import open_catalog

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
