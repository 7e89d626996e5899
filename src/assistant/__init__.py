"""Documentation Q&A assistant for Danish public-sector Jekyll sites.

The library shared by the ingest pipeline (`ingest/`) and the web app (`app.py`).
"""
