"""The Gradio chat (Danish texts): streamed answers with numbered citation links, a sources panel,
example questions that the pages answer well (a few more on each page load), 👍/👎 with a comment,
and "Ny samtale". (The page is served as Danish by middleware.DanishPage: Gradio's template says "en".)

Everything that comes from pages or people is HTML-escaped here before Gradio sees it; Gradio's own
sanitising is a second line. No answering logic: the respond function drives Assistant.stream, and
the examples come from Assistant.example_questions. The texts are in texts.py.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

import gradio as gr

from assistant.models import MAX_QUESTION_CHARS, Answer, Citation, turns_from
from assistant.serve.feedback import MAX_COMMENT_CHARS, FeedbackStore
from assistant.web import texts
from assistant.web.common import trim_history
from assistant.web.failures import failure

log = logging.getLogger("web")

EXAMPLES_SHOWN = 4

CSS = """
.sources-panel ol { padding-left: 1.4em; margin: .25em 0; }
.sources-panel li { margin: 0 0 .8em; }
.sources-panel blockquote { margin: .3em 0 0; padding: .1em 0 .1em .7em; border-left: 3px solid var(--border-color-primary);
  color: var(--body-text-color-subdued); font-size: .92em; }
.sources-panel .crumb { font-size: .85em; color: var(--body-text-color-subdued); }
.citations { list-style: none; padding-left: 0; margin: .4em 0 0; }
.citations li { margin: .15em 0; }
.notice { font-size: .88em; font-style: italic; opacity: .85; }
.muted { color: var(--body-text-color-subdued); }
#feedback-status p { margin: 0; }
/* The label and the copy/clear icons float over the top of the chat: the messages scroll below them. */
#chat .bubble-wrap { margin-top: 2.4rem; height: calc(100% - 2.4rem); padding-top: .5rem;
  border-top: 1px solid var(--border-color-primary); }
@media (max-width: 600px) { #ask-row { flex-wrap: wrap; } #ask-btn { flex: 1 1 100%; } }
"""

# Runs once on page load. The page is Danish: Gradio's i18n sets <html lang> to the browser's locale
# among its own translations (no Danish: "en"), so lang="da" is put back whenever it changes. And
# each new question is scrolled to the top of the chat and kept there while its answer streams in
# below it (Gradio's autoscroll would follow the answer's end and hide the question), until the
# reader scrolls.
PAGE_JS = """() => {
  const root = document.documentElement;
  const danish = () => { if (root.lang !== "da") root.lang = "da"; };
  danish();
  new MutationObserver(danish).observe(root, {attributes: true, attributeFilter: ["lang"]});
  const chat = document.querySelector("#chat");
  if (!chat || chat.dataset.followsQuestions) return;
  chat.dataset.followsQuestions = "1";
  let seen = 0, pending = null;
  const stop = () => { pending = null; };
  for (const kind of ["wheel", "touchstart", "keydown"]) chat.addEventListener(kind, stop, {passive: true});
  new MutationObserver(() => {
    const questions = chat.querySelectorAll('[data-testid="user"]');
    const wrap = chat.querySelector(".bubble-wrap");
    if (questions.length > seen) {
      pending = questions[questions.length - 1].closest(".message-row") || questions[questions.length - 1];
    }
    seen = questions.length;
    if (!wrap || !pending || !pending.isConnected) return;
    const offset = pending.getBoundingClientRect().top - wrap.getBoundingClientRect().top - 8;
    if (Math.abs(offset) > 1) wrap.scrollTop += offset;
  }).observe(chat, {childList: true, subtree: true, characterData: true});
}"""


def theme() -> gr.themes.Base:
    """Gradio's default theme with colours that meet WCAG 2.1 AA: white on blue-700 buttons, darker
    secondary text."""
    return gr.themes.Default(primary_hue="blue").set(
        button_primary_background_fill="*primary_700", button_primary_background_fill_dark="*primary_700",
        button_primary_background_fill_hover="*primary_800", button_primary_background_fill_hover_dark="*primary_800",
        button_primary_text_color="white", button_primary_text_color_dark="white",
        body_text_color_subdued="*neutral_600", body_text_color_subdued_dark="*neutral_300",
        link_text_color="*primary_700", link_text_color_dark="*primary_300",
        link_text_color_visited="*primary_800", link_text_color_visited_dark="*primary_300",
    )


def citation_label(citation: Citation) -> str:
    return f"{citation.title}{' › ' + citation.heading if citation.heading else ''}"


def link(citation: Citation, text: str) -> str:
    """An escaped link to the cited section. A citation without an absolute http(s) URL (a site
    ingested without its published address) is the title and the page's path as text: a relative
    link would open on this server or the wrong site, and be dead."""
    url = citation.fragment_url or citation.url
    if not url.lower().startswith(("https://", "http://")):
        return html.escape(f"{text} ({page_path(citation)})")
    return f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener">{html.escape(text)}</a>'


def page_path(citation: Citation) -> str:
    """Where the cited page is: its root-relative published path, or else its source file."""
    published = urlsplit(citation.url).path if citation.url.startswith("/") else ""
    return published or citation.path


def render(answer: Answer) -> str:
    """Answer text and citation links, with everything from pages or users HTML-escaped."""
    lines = [html.escape(answer.text).replace("\n", "<br>")]
    if answer.notice:
        lines.append(f"<p class='notice'>{html.escape(answer.notice)}</p>")
    if answer.citations:
        links = [f"<li>[{c.n}] {link(c, citation_label(c))}</li>" for c in answer.citations]
        lines.append("<ol class='citations'>" + "".join(links) + "</ol>")
    # One HTML block: the answer text is shown as written, not re-read as Markdown.
    return "<div class='answer'>" + "\n".join(lines) + "</div>"


def render_error(message: str) -> str:
    return f"<div class='answer error'>{html.escape(message)}</div>"


def render_partial(text: str) -> str:
    """What has streamed so far, escaped, with a cursor."""
    return "<div class='answer-partial'>" + html.escape(text).replace("\n", "<br>") + " ▍</div>"


def render_sources(answer: Answer | None) -> str:
    """The sources panel: each citation's link, breadcrumb and the snippet it quotes."""
    if answer is None or not answer.citations:
        return f"<div class='sources-panel'><h3>{texts.SOURCES}</h3><p class='muted'>{texts.NO_SOURCES}</p></div>"
    heading = texts.SOURCES if answer.answered else texts.MAYBE_RELEVANT
    items = []
    for c in answer.citations:
        crumb = f"<div class='crumb'>{html.escape(c.breadcrumb)}</div>" if c.breadcrumb else ""
        items.append(f"<li>{link(c, citation_label(c))}{crumb}<blockquote>{html.escape(c.snippet)}</blockquote></li>")
    return f"<div class='sources-panel'><h3>{heading}</h3><ol>{''.join(items)}</ol></div>"


def example_updates(questions: list[str], shown: int = EXAMPLES_SHOWN) -> list[Any]:
    """The examples section (hidden when there are none) and one update per example button."""
    buttons = [gr.update(value=q, visible=True) for q in questions[:shown]]
    buttons += [gr.update(visible=False)] * (shown - len(buttons))
    return [gr.update(visible=bool(questions)), *buttons]


def build_chat(get_assistant: Callable[[], Any], feedback: FeedbackStore | None = None,
               shown: int = EXAMPLES_SHOWN) -> gr.Blocks:
    """The chat. The examples are chosen here once, at start-up (which also warms the models up for
    the first user); each page load then shows the next few."""
    get_assistant().example_questions(shown)

    def respond(message: str, messages: list[dict], turns: list[dict]) -> Iterator[dict]:
        """Streams the growing answer into the chat; the final render comes from the final Answer."""
        question = " ".join((message or "").split())
        if not question:
            yield {status: texts.EMPTY_QUESTION}
            return
        if len(question) > MAX_QUESTION_CHARS:
            yield {status: texts.TOO_LONG}
            return
        messages = [*messages, {"role": "user", "content": html.escape(question)},
                    {"role": "assistant", "content": render_partial(texts.SEARCHING)}]
        yield {box: "", chatbot: messages, status: "", feedback_row: gr.update(visible=False)}
        answer: Answer | None = None
        streamed = ""
        try:
            for item in get_assistant().stream(question, trim_history(turns_from(turns))):
                if isinstance(item, Answer):
                    answer = item
                    break
                streamed += item
                messages[-1] = {"role": "assistant", "content": render_partial(streamed)}
                yield {chatbot: messages}
        except Exception as exc:  # noqa: BLE001 - a person sees a friendly message, the log the details
            messages[-1] = {"role": "assistant", "content": render_error(failure(exc, "chat answer").message)}
            yield {chatbot: messages}
            return
        if answer is None:
            log.error("chat answer failed: the stream ended without an Answer")
            messages[-1] = {"role": "assistant", "content": render_error(texts.GENERIC_ERROR)}
            yield {chatbot: messages}
            return
        messages[-1] = {"role": "assistant", "content": render(answer)}
        cited = [asdict(c) for c in answer.citations]
        last_answer = {"question": question, "answer": answer.text, "citations": cited}
        if feedback is not None:
            feedback.log_question(question, answer.answered, cited, "chat")
        yield {chatbot: messages, sources: render_sources(answer), last: last_answer,
               turns_state: [*turns, {"role": "user", "content": question},  # gr.State holds JSON-like turns
                             {"role": "assistant", "content": answer.text}],
               feedback_row: gr.update(visible=True), comment: "", feedback_status: ""}

    def rate(rating: str) -> Callable[[str, dict | None], tuple[str, str]]:
        def store(text: str, last_answer: dict | None) -> tuple[str, str]:
            if not last_answer:
                return text, texts.ASK_FIRST
            if feedback is None:
                return text, texts.FEEDBACK_OFF
            try:
                feedback.add(question=last_answer["question"], answer=last_answer["answer"],
                             citations=last_answer["citations"], rating=rating,  # type: ignore[arg-type]
                             comment=(text or "").strip()[:MAX_COMMENT_CHARS], channel="chat")
            except Exception:  # noqa: BLE001
                log.exception("feedback could not be stored")
                return text, texts.FEEDBACK_FAILED
            return "", texts.FEEDBACK_THANKS

        return store

    def new_conversation() -> tuple:
        return [], [], None, render_sources(None), "", gr.update(visible=False), "", ""

    with gr.Blocks(title=texts.TITLE) as chat:
        gr.Markdown(texts.CHAT_INTRO)
        turns_state = gr.State([])  # plain-text turns for the assistant (the chat shows HTML)
        last = gr.State(None)  # the last answer, for feedback
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                chatbot = gr.Chatbot(label=texts.CONVERSATION, sanitize_html=True, height=460, elem_id="chat",
                                     feedback_options=None, buttons=["copy", "copy_all"], autoscroll=False,
                                     placeholder=texts.CHAT_PLACEHOLDER)
                with gr.Row(elem_id="ask-row"):
                    box = gr.Textbox(label=texts.QUESTION_LABEL, placeholder=texts.QUESTION_PLACEHOLDER,
                                     max_length=MAX_QUESTION_CHARS, scale=4, elem_id="question", autofocus=True,
                                     lines=1, max_lines=6)
                    ask_btn = gr.Button(texts.ASK, variant="primary", scale=1, min_width=90, elem_id="ask-btn")
                status = gr.Markdown("", elem_id="status")
                with gr.Row(visible=False, elem_id="feedback-row") as feedback_row:
                    up = gr.Button(texts.USEFUL, size="sm", elem_id="feedback-up", min_width=90)
                    down = gr.Button(texts.NOT_USEFUL, size="sm", elem_id="feedback-down", min_width=90)
                    comment = gr.Textbox(label=texts.COMMENT, max_length=MAX_COMMENT_CHARS, scale=3, min_width=200,
                                         elem_id="feedback-comment")
                feedback_status = gr.Markdown("", elem_id="feedback-status")
                with gr.Row():
                    new_btn = gr.Button(texts.NEW_CONVERSATION, size="sm", elem_id="new-chat", variant="secondary")
            # Beside the chat on a wide screen, below it on a phone: the sources first, then the examples.
            with gr.Column(scale=2, min_width=280):
                sources = gr.HTML(render_sources(None), elem_id="sources")
                with gr.Column(visible=False, elem_id="examples") as examples_section:  # filled on page load
                    gr.Markdown(f"**{texts.EXAMPLES}**")
                    example_buttons = [gr.Button("", size="sm", min_width=160, visible=False, elem_classes=["example"])
                                       for _ in range(shown)]

        outputs = [box, chatbot, status, feedback_row, sources, last, turns_state, comment, feedback_status]
        common = {"fn": respond, "outputs": outputs, "concurrency_limit": 8, "show_progress": "hidden"}
        box.submit(inputs=[box, chatbot, turns_state], api_name="ask", **common)  # type: ignore[arg-type]
        ask_btn.click(inputs=[box, chatbot, turns_state], api_name="ask_button", api_visibility="private",
                      **common)  # type: ignore[arg-type]
        for i, button in enumerate(example_buttons):
            button.click(inputs=[button, chatbot, turns_state], api_name=f"example_{i}", api_visibility="private",
                         **common)  # type: ignore[arg-type]
        up.click(rate("up"), [comment, last], [comment, feedback_status], api_name="feedback_up",
                 api_visibility="private")
        down.click(rate("down"), [comment, last], [comment, feedback_status], api_name="feedback_down",
                   api_visibility="private")
        cleared = [chatbot, turns_state, last, sources, box, feedback_row, comment, feedback_status]
        new_btn.click(new_conversation, None, cleared, api_name="new_conversation", api_visibility="private")
        chatbot.clear(new_conversation, None, cleared, api_name="clear_conversation", api_visibility="private")
        # Each page load shows the next few examples (and runs PAGE_JS).
        chat.load(lambda: example_updates(get_assistant().example_questions(shown), shown), None,
                  [examples_section, *example_buttons], js=PAGE_JS, api_visibility="private",
                  show_progress="hidden")
    return chat

