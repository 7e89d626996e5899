"""The web layer: JSON API (api.py) and Gradio chat (chat.py) around one Assistant. No logic here."""
