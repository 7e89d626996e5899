"""Web: HTTP routes around one Assistant (API, chat, widget, admin, served sites, llms.txt); no logic.
Takes requests; hands on JSON, HTML and SSE, errors as Danish messages (failures.py, texts.py)."""

# Each module is imported where the app is built (app.py): importing the package loads nothing.
__all__ = ["admin", "api", "auth", "chat", "common", "connections", "cors", "failures", "guide", "headers",
           "ingest_report", "llms_txt", "middleware", "texts", "widget"]
