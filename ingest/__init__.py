"""The ingest pipeline: Jekyll sources → pages → heading-aware chunks → embeddings → vector store."""
