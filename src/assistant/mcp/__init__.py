"""The documentation for AI agents: an MCP server (the official `mcp` SDK) around the same Assistant
as every other entry point.

    server.py    the tools (search_docs, ask, get_page, list_sources) and a resource per page
    http.py      /mcp in the web app: Streamable HTTP, stateless, behind the optional bearer token
    __main__.py  `python -m assistant.mcp --index DIR`: the same server over stdio, for local agents

This package is named like the SDK (`mcp`) but imports it absolutely; nothing here answers questions.
"""
