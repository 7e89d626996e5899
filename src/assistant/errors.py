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
"""


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
