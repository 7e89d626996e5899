"""The LLM answerer: a langchain chat model (OpenAI-compatible server or Ollama) writes a short cited answer.

The model gets the prompts of prompts.py (rules in the system message, the passages as numbered
sources in the human message) and its tokens are streamed as they come. After the stream the reply is
checked by markers.py: markers that point at no source are dropped, the others are renumbered to
citation numbers in order of first use. An answer without any valid citation falls back to the
extractive answer (with a notice), and a model that says it cannot find the answer abstains with the
closest pages.

Nothing the LLM server does reaches the caller as an exception: connection refused, a timeout (before
the first token or between tokens, `settings.llm_timeout` seconds), an HTTP error or a garbage reply
is logged with the server URL and the reason, and the extractive answer is given with a notice.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from assistant.answer.answerer import AnswerRequest, register
from assistant.answer.citations import not_found_answer
from assistant.answer.extractive import ExtractiveAnswerer, stream_words
from assistant.answer.markers import check_reply
from assistant.answer.prompts import (
    CONDENSE_HISTORY_MESSAGES,
    MAX_SOURCES,
    answer_language,
    answer_messages,
    condense_messages,
    recent_turns,
    standalone_question,
)
from assistant.errors import LLMError
from assistant.models import Answer, History
from assistant.settings import Settings

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 4000  # a model that rambles on is cut here
TOTAL_TIMEOUT_FACTOR = 6  # a whole answer may take at most this many times llm_timeout (at least 30 s)

NOTICE_FAILED = {
    "da": "Sprogmodellen svarede ikke ({reason}); her er uddrag fra dokumentationen.",
    "en": "The language model did not answer ({reason}); here are excerpts from the documentation.",
}
NOTICE_UNCITED = {
    "da": "Sprogmodellens svar havde ingen gyldige kildehenvisninger; her er uddrag fra dokumentationen.",
    "en": "The language model's answer cited no valid sources; here are excerpts from the documentation.",
}
REASONS = {
    "connection": {"da": "ingen forbindelse", "en": "no connection"},
    "timeout": {"da": "intet svar inden for {seconds:g} s", "en": "no reply within {seconds:g} s"},
    "http": {"da": "serverfejl HTTP {status}", "en": "server error HTTP {status}"},
    "invalid": {"da": "ugyldigt svar", "en": "invalid reply"},
    "empty": {"da": "tomt svar", "en": "empty reply"},
    "error": {"da": "fejl", "en": "error"},
}


class _Failure(LLMError):
    """The LLM server failed: `reason` is a REASONS key, `detail` fills its text."""

    def __init__(self, reason: str, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.detail = detail


@register("llm")
class LLMAnswerer:
    name = "llm"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.provider = settings.llm_provider
        self.timeout = float(settings.llm_timeout)
        self.total_timeout = max(30.0, TOTAL_TIMEOUT_FACTOR * self.timeout)
        default_url = "http://localhost:11434" if self.provider == "ollama" else "https://api.openai.com/v1"
        self.url = settings.llm_base_url or default_url  # for log messages (never the key)
        self._model: Any = None
        self._model_lock = threading.Lock()
        self._extractive = ExtractiveAnswerer(settings)

    # -- the model -----------------------------------------------------------------------------------

    @property
    def model(self) -> Any:
        """The langchain chat model, built on first use (once per answerer)."""
        if self._model is None:
            with self._model_lock:
                if self._model is None:
                    self._model = self._build_model()
        return self._model

    def _build_model(self) -> Any:
        s = self.settings
        if self.provider == "ollama":
            from langchain_ollama import ChatOllama

            return ChatOllama(base_url=s.llm_base_url, model=s.llm_model, client_kwargs={"timeout": self.timeout})
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(base_url=s.llm_base_url, model=s.llm_model, api_key=s.llm_api_key or "not-needed",
                          timeout=self.timeout, max_retries=1, streaming=True)

    # -- answering -----------------------------------------------------------------------------------

    def stream(self, request: AnswerRequest) -> Iterator[str | Answer]:
        language = answer_language(request.language)
        sources = request.passages[:MAX_SOURCES]
        if not sources:  # nothing to answer from (the service abstains before this)
            answer = not_found_answer(request.passages, language)
            yield from stream_words(answer.text)
            yield answer
            return
        messages = answer_messages(request)
        pieces: list[str] = []
        try:
            for piece in self._run(lambda model: _texts(model.stream(messages))):
                pieces.append(piece)
                yield piece
                if sum(map(len, pieces)) > MAX_ANSWER_CHARS:
                    break
            text = "".join(pieces).strip()
            if not text:
                raise _Failure("empty", "the model sent no text")
        except _Failure as failure:
            self._warn("answer", failure)
            reason = REASONS[failure.reason][language].format(seconds=self.timeout, **failure.detail)
            yield from self._fallback(request, NOTICE_FAILED[language].format(reason=reason), streamed=bool(pieces))
            return
        checked = check_reply(text, request, sources, language)
        if checked is None:
            log.warning("LLM answer from %s cited no valid source; using the extractive answer", self.url)
            yield from self._fallback(request, NOTICE_UNCITED[language], streamed=True)
            return
        yield checked

    def _fallback(self, request: AnswerRequest, notice: str, streamed: bool) -> Iterator[str | Answer]:
        answer = self._extractive.answer(request.evidence, request.passages, request.language, request.score,
                                          request.parts)
        answer.notice = notice
        if not streamed:  # nothing shown yet: stream the fallback; otherwise the final text replaces it
            yield from stream_words(answer.text)
        yield answer

    # -- follow-up questions -------------------------------------------------------------------------

    def condense_question(self, question: str, history: History) -> str | None:
        """The follow-up `question` rewritten by the LLM as a standalone question (for retrieval), or
        None when the LLM fails or answers something unusable. Without earlier turns the question is
        returned as it is, without asking the LLM."""
        turns = recent_turns(history, CONDENSE_HISTORY_MESSAGES)
        if not any(t.role == "user" for t in turns):
            return question
        messages = condense_messages(question, turns)
        try:
            replies = list(self._run(lambda model: _texts([model.invoke(messages, stream=False)])))
        except _Failure as failure:
            self._warn("condense", failure)
            return None
        rewritten = standalone_question("".join(replies))
        if not rewritten or len(rewritten) > max(500, 3 * len(question)):
            log.warning("LLM at %s gave no usable standalone question", self.url)
            return None
        return rewritten

    # -- calling the model with deadlines ------------------------------------------------------------

    def _run(self, produce: Callable[[Any], Iterable[str | None]]) -> Iterator[str]:
        """The text pieces `produce(model)` yields, read in a worker thread so that no wait exceeds the
        timeout: `llm_timeout` seconds before the first piece and between pieces (also across the
        client's own retry), and `total_timeout` for the whole. Raises _Failure for any failure."""
        try:
            model = self.model
        except Exception as exc:  # noqa: BLE001 - a model that cannot be built is a failed LLM
            raise _classify(exc) from exc
        events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        stop = threading.Event()

        def work() -> None:
            try:
                for piece in produce(model):
                    if stop.is_set():
                        return
                    events.put(("piece", piece))
                events.put(("end", None))
            except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
                events.put(("error", exc))

        threading.Thread(target=work, name="llm-call", daemon=True).start()
        deadline = time.monotonic() + self.total_timeout
        try:
            while True:
                wait = min(self.timeout, deadline - time.monotonic())
                try:
                    kind, value = events.get(timeout=max(wait, 0.0))
                except queue.Empty:
                    raise _Failure("timeout", f"no reply within {self.timeout:g} s") from None
                if kind == "end":
                    return
                if kind == "error":
                    raise _classify(value) from value
                if value:  # None: the model is alive but sent no text (keeps the timeout fresh)
                    yield value
        finally:
            stop.set()  # the worker stops at its next piece; a hung read ends at the client's timeout

    def _warn(self, what: str, failure: _Failure) -> None:
        message = str(failure)
        if self.settings.llm_api_key:
            message = message.replace(self.settings.llm_api_key, "***")
        log.warning("LLM %s failed: server %s (%s, model %s): %s: %s; using the fallback", what, self.url,
                    self.provider, self.settings.llm_model, failure.reason, message[:300])


def _texts(chunks: Iterable[Any]) -> Iterator[str | None]:
    """The text of each message chunk (None for a chunk without text: the model is still alive)."""
    for chunk in chunks:
        content = getattr(chunk, "content", chunk)
        if isinstance(content, list):  # content blocks
            content = "".join(b if isinstance(b, str) else str(b.get("text", "")) for b in content
                              if isinstance(b, str) or (isinstance(b, dict) and b.get("type") == "text"))
        if not isinstance(content, str):
            raise _Failure("invalid", f"unexpected content {type(content).__name__}")
        yield content or None


def _classify(exc: BaseException) -> _Failure:
    """An exception of the LLM client (openai, httpx, ollama, langchain) as a _Failure."""
    if isinstance(exc, _Failure):
        return exc
    names = [cls.__name__ for cls in type(exc).__mro__]
    message = f"{type(exc).__name__}: {exc}"
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status >= 400:
        return _Failure("http", message, status=status)
    if isinstance(exc, TimeoutError) or any("Timeout" in n for n in names):
        return _Failure("timeout", message)
    if isinstance(exc, ConnectionError) or any("Connect" in n or n in ("NetworkError", "RemoteProtocolError")
                                               for n in names):
        return _Failure("connection", message)
    if isinstance(exc, ValueError | TypeError | LookupError | AttributeError):
        return _Failure("invalid", message)
    return _Failure("error", message)
