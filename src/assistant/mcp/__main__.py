"""`python -m assistant.mcp [--index DIR]`: the MCP server over stdio, for an agent on the same machine
(VS Code, Cursor, Claude Desktop start it as a subprocess). Same tools and question log as /mcp.

stdout carries the protocol only: logs, progress bars and anything a library prints go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from pathlib import Path

from assistant.offline import go_offline

go_offline()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.mcp", description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, help="the index folder (default: ASSISTANT_INDEX_DIR or data/index)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from assistant.errors import AssistantError
    from assistant.mcp.server import build_server
    from assistant.serve.feedback import FeedbackStore
    from assistant.serve.service import Assistant
    from assistant.settings import Settings

    try:
        settings = Settings.load()
        if args.index:
            settings = settings.model_copy(update={"index_dir": args.index})
        with contextlib.redirect_stdout(sys.stderr):  # before the protocol starts, nothing may reach stdout
            assistant = Assistant.open(settings)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    feedback = FeedbackStore(Path(settings.index_dir).parent / "feedback.sqlite")
    try:
        build_server(lambda: assistant, feedback).run("stdio")
    finally:
        feedback.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
