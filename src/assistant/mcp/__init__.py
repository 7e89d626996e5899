"""MCP: the same Assistant for AI agents: tools and page resources (server.py), over /mcp (http.py) or stdio.
Takes tool calls (search_docs, ask, get_page, list_sources); hands on typed results, as /api shapes them."""

# Named like the SDK (`mcp`), which its modules import absolutely; `python -m assistant.mcp` is __main__.py.
# Importing the package loads nothing.
__all__ = ["http", "server"]
