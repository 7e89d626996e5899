"""Every short Danish text the web app shows people: the chat, the widget, error and refusal messages,
and the admin routes' replies. The widget's texts are served to widget.js (widget.py), so it holds no
copies of its own.

Texts with a blank to fill are `str.format` templates ({name}) or small functions. Whole pages (the
admin page, the login form, the widget's install page, the ingest report) are written where they are
rendered; the MCP tools' bilingual texts are in mcp/. Nothing here decides when a text is shown.
"""

from __future__ import annotations

from assistant.models import MAX_QUESTION_CHARS

# --- shared by the chat and the widget -------------------------------------------------------------
TITLE = "Spørg dokumentationen"
CONVERSATION = "Samtale"
QUESTION_LABEL = "Dit spørgsmål"
QUESTION_PLACEHOLDER = "Skriv et spørgsmål …"
NEW_CONVERSATION = "Ny samtale"
SEARCHING = "Søger i dokumentationen …"
SOURCES = "Kilder"

# --- errors: what a person reads instead of what went wrong (failures.py) --------------------------
GENERIC_ERROR = "Beklager, noget gik galt. Prøv igen om lidt."
UNAVAILABLE = "Dokumentationen kan ikke søges i lige nu. Prøv igen om lidt."
LLM_DOWN = "Sprogmodellen svarer ikke lige nu. Prøv igen om lidt."
DISK_FULL = "Det kunne ikke gemmes lige nu: disken er fuld. Prøv igen senere."
LOADING = "Assistenten indlæses."
VECTORS_MISSING = ("{missing} af {checked} afsnit har ingen læsbar vektor i indekset og findes kun ved ordsøgning "
                   "(se 'vectors'). Genstart appen, når ingen indlæsning kører, eller kør `python -m ingest --full`.")
UNREADABLE_BODY = "Forespørgslens indhold kunne ikke læses: send JSON i UTF-8."
TOO_LARGE = "Forespørgslen er for stor: højst {size}."
TOO_MANY_REQUESTS = "For mange forespørgsler: højst {per_minute} i minuttet. Prøv igen om {retry} sekunder."
WRONG_METHOD = "Metoden {method} bruges ikke her; brug {allow}."
NO_UPLOADS = "Upload af filer er slået fra."

# A request body the API refuses: one sentence per problem (failures.validation_message).
FIELD_NAMES = {"question": "Spørgsmålet", "query": "Søgningen", "history": "Samtalehistorikken",
               "answer": "Svaret", "citations": "Kilderne", "rating": "Vurderingen", "comment": "Kommentaren"}
REQUEST = "Forespørgslen"  # the name of the body as a whole
EMPTY = {"question": "Spørgsmålet er tomt — skriv et spørgsmål.", "query": "Søgningen er tom — skriv et eller flere ord."}
INVALID = {  # by pydantic's error type
    "missing": "{name} mangler.",
    "string_too_long": "{name} må højst være {max_length} tegn.",
    "too_long": "{name} må højst have {max_length} elementer.",
    "literal_error": "{name} skal være {expected}.",
    "json_invalid": "Forespørgslen er ikke gyldig JSON.",
    "not_an_object": "Forespørgslen skal være et JSON-objekt.",
}
INVALID_FIELD = "{name} er ugyldig ({where}: {msg})."
INVALID_REQUEST = "Forespørgslen er ugyldig."
OR = " eller "  # in "'up' eller 'down'"


def not_allowed(origin: str = "") -> str:
    """What a widget on a site that is not in ASSISTANT_ALLOWED_ORIGINS says."""
    site = f"Dette site ({origin})" if origin else "Dette site"
    return (f"{site} har ikke tilladelse til at bruge assistenten. Den, der driver assistenten, "
            "kan give sitet adgang i ASSISTANT_ALLOWED_ORIGINS.")


# --- the Gradio chat (chat.py) ---------------------------------------------------------------------
CHAT_INTRO = ("# Spørg dokumentationen\nSvarene bygger kun på dokumentationen og har numrerede kilder, "
              "der åbner det afsnit, svaret kommer fra.")
CHAT_PLACEHOLDER = "Stil et spørgsmål om dokumentationen."
ASK = "Spørg"
EMPTY_QUESTION = "Skriv et spørgsmål først."
TOO_LONG = f"Spørgsmålet er for langt: højst {MAX_QUESTION_CHARS} tegn."
NO_SOURCES = "Kilderne til det seneste svar vises her."
MAYBE_RELEVANT = "Måske relevant"  # the sources of an answer that was declined
EXAMPLES = "Eksempler på spørgsmål"
USEFUL = "👍 Nyttigt"
NOT_USEFUL = "👎 Ikke nyttigt"
COMMENT = "Kommentar (valgfri)"
ASK_FIRST = "Stil et spørgsmål først."
FEEDBACK_OFF = "Tilbagemeldinger gemmes ikke på denne server."
FEEDBACK_FAILED = "Tilbagemeldingen kunne ikke gemmes. Prøv igen om lidt."
FEEDBACK_THANKS = "Tak for din tilbagemelding!"

# --- the widget (widget.js reads these as TEXT.<key>) ----------------------------------------------
WIDGET = {
    "title": TITLE,
    "close": "Luk",
    "newChat": NEW_CONVERSATION,
    "conversation": CONVERSATION,
    "label": QUESTION_LABEL,
    "placeholder": QUESTION_PLACEHOLDER,
    "hint": "Enter sender. Skift+Enter giver en ny linje.",
    "send": "Send",
    "intro": "Stil et spørgsmål om dokumentationen. Svarene bygger kun på dokumentationen og har links til kilderne.",
    "searching": SEARCHING,
    "sources": SOURCES,
    "you": "Dig",
    "assistant": "Assistenten",
    "answerPrefix": "Svar: ",
    "unreachable": "Assistenten kan ikke nås fra denne side lige nu. Prøv igen senere.",
    "notAllowed": not_allowed(),
    "timeout": "Svaret tog for lang tid. Prøv igen om lidt.",
    "generic": GENERIC_ERROR,
    "useful": "Svaret var nyttigt",
    "notUseful": "Svaret var ikke nyttigt",
    "thanks": "Tak for din tilbagemelding.",
    "cleared": "Samtalen er ryddet.",
}

# --- admin and webhook routes (admin.py, auth.py) --------------------------------------------------
ADMIN_OFF = "Administration er slået fra: sæt ASSISTANT_ADMIN_TOKEN for at bruge den."
WRONG_TOKEN = "Manglende eller forkert adgangsnøgle (Authorization: Bearer …, eller log ind på /admin)."
NO_CSRF = "Forespørgslen mangler sidens CSRF-nøgle (X-CSRF-Token): genindlæs administrationssiden."
TOKEN_IN_URL = "Adgangsnøglen sendes ikke i adressen: skriv den her."
LOGIN_REFUSED = "Forkert adgangsnøgle."
WEBHOOK_SLOW = "Webhook-leveringen blev ikke sendt færdig inden for {seconds} sekunder."
WEBHOOK_BUSY = "Der læses allerede andre webhook-leveringer: prøv igen om 10 sekunder."
TOO_MANY_GUESSES = "For mange forkerte adgangsnøgler fra denne adresse. Prøv igen om {retry} sekunder."
PLAIN_HTTP = ("Siden er åbnet med http://{host}: her gemmer browseren ikke sessionscookien (den er Secure og "
              "gemmes kun over https eller på localhost), så formularen kommer bare igen efter log-ind. Åbn siden "
              "med https (fx bag nginx, se deploy/) eller på http://localhost på selve serveren. Står appen bag en "
              "https-proxy, så sæt ASSISTANT_TRUSTED_PROXIES, så appen kan se, at forbindelsen er https.")
UNKNOWN_JOB = "Ukendt job {job_id!r}."
WEBHOOK_OFF = "Webhook er slået fra: sæt ASSISTANT_WEBHOOK_SECRET."
WRONG_SIGNATURE = "Manglende eller forkert signatur (X-Hub-Signature-256)."
DELIVERED_BEFORE = "Denne levering er allerede modtaget."
OTHER_PUSH = "Push til en anden gren eller et andet repository."
CHANNELS = {"chat": "Chat", "api": "API og widget", "mcp": "MCP (AI-agenter)"}  # where questions came from
JOB_STATES = {"queued": "venter", "running": "kører", "done": "færdig", "failed": "fejlede"}
