"""Errors the assistant reports to people, each with what happened and what to do next.

AssistantError is the base class; the CLI and the web app turn it into one line or one JSON body.
Subclasses:
    SourceError         a source folder, git URL or sources.toml entry cannot be used
    IndexMismatchError  the index was built with another model or other chunking settings
    IndexMissingError   there is no index yet
    IngestLockedError   another ingest is running on the same index
    EmbeddingError      the embedding model cannot be loaded or fails
    StoreError          the vector store (embedded Chroma or a Chroma server) fails
    LLMError            the LLM server is down, slow or answers garbage
    QuestionError       a question that cannot be answered as asked (empty, too long)
    StorageFullError    the disk is full: nothing could be written
    ConfigError         a setting (ASSISTANT_* variable) is invalid
    ReaderError         the trained reader model is missing or damaged (answers fall back to the cosine)
"""

import errno
import shutil
import sqlite3
from pathlib import Path


class AssistantError(Exception):
    """Base class: the message is meant for a person and says what to do next."""


class SourceError(AssistantError):
    pass


class IndexMismatchError(AssistantError):
    pass


class IndexMissingError(AssistantError):
    pass


class IngestLockedError(AssistantError):
    pass


class EmbeddingError(AssistantError):
    pass


class StoreError(AssistantError):
    pass


class LLMError(AssistantError):
    pass


class QuestionError(AssistantError):
    pass


class StorageFullError(AssistantError):
    pass


class ConfigError(AssistantError):
    pass


class ReaderError(AssistantError):
    pass


def is_disk_full(exc: BaseException, folder: Path | None = None) -> bool:
    """SQLite's "database or disk is full", or ENOSPC from the OS, anywhere in the exception's chain;
    or a vague "disk I/O error" while `folder`'s disk has (almost) no space left."""
    seen: BaseException | None = exc
    while seen is not None:
        if folder is not None and "i/o error" in str(seen).lower() and _free_bytes(folder) < 16 * 1024 * 1024:
            return True
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(seen, sqlite3.OperationalError | sqlite3.DatabaseError) and "full" in str(seen).lower():
            return True
        if "no space left on device" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _free_bytes(folder: Path) -> float:
    for candidate in (folder, *folder.parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return float("inf")
