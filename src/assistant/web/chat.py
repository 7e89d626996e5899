"""The Gradio chat (Danish texts): answers with numbered citation links to the cited sections."""

from __future__ import annotations

import html

import gradio as gr

from assistant.errors import AssistantError
from assistant.models import Answer

EXAMPLES = [
    "Hvad er Dokumentationsassistenten?",
    "Hvordan indlejrer jeg widgetten på mit site?",
    "Hvem leverer vedligeholdelsen af OS2forms?",
]


def render(answer: Answer) -> str:
    """Answer text and citation links, with everything from pages or users HTML-escaped."""
    lines = [html.escape(answer.text).replace("\n", "<br>")]
    if answer.citations:
        links = [
            f'<li>[{c.n}] <a href="{html.escape(c.fragment_url, quote=True)}" target="_blank" rel="noopener">'
            f"{html.escape(c.title)}{' › ' + html.escape(c.heading) if c.heading else ''}</a></li>"
            for c in answer.citations
        ]
        lines.append("<ol class='citations' style='list-style:none;padding-left:0'>" + "".join(links) + "</ol>")
    return "\n".join(lines)


def build_chat(get_assistant) -> gr.Blocks:  # type: ignore[no-untyped-def]
    def respond(message: str, history: list[dict]) -> str:
        turns = [{"role": t["role"], "content": str(t.get("content", ""))} for t in history][-8:]
        try:
            return render(get_assistant().ask(message, turns))
        except AssistantError as exc:
            return html.escape(f"Beklager: {exc}")
        except Exception:  # noqa: BLE001 - a person sees a friendly message, the log the details
            import logging

            logging.getLogger("web").exception("chat failed")
            return "Beklager, noget gik galt. Prøv igen om lidt."

    with gr.Blocks(title="Spørg dokumentationen") as chat:
        gr.Markdown("## Spørg dokumentationen\nSvarene bygger kun på dokumentationen og har kildehenvisninger.")
        gr.ChatInterface(respond, examples=EXAMPLES, api_name="ask", save_history=False,
                         chatbot=gr.Chatbot(sanitize_html=True, height=480, label="Samtale"))
    return chat
