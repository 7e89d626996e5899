"""Answerers: extractive (default, no LLM) and LLM (langchain chat models), with shared citation rules."""
