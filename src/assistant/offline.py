"""Switch off every network attempt of the ML libraries before they are imported.

Called once at the start of each entry point (CLI, app, tests). It only sets environment
variables that are not set yet, so a deployment with internet can still opt back in.
"""

import os

_OFFLINE_DEFAULTS = {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    # Batches are tokenised on every core (the chunker counts a page's units in one call); our
    # processes never fork without exec, which is what the library's default guards against.
    "TOKENIZERS_PARALLELISM": "true",
}


def go_offline() -> None:
    for name, value in _OFFLINE_DEFAULTS.items():
        os.environ.setdefault(name, value)
