"""Serve: the Assistant, the one object every entry point calls, and what it keeps beside the index.
Takes questions, re-ingest requests and webhooks; hands on answers, pages, examples, gaps and feedback."""

from assistant.serve.feedback import FeedbackStore
from assistant.serve.gaps import Gap, gaps_csv, group_gaps
from assistant.serve.jobs import IngestJobs, Poller
from assistant.serve.pages import DocPage, SiteInfo
from assistant.serve.privacy import mask_personal_data
from assistant.serve.service import Assistant, Retrieval
from assistant.serve.webhooks import RecentDeliveries, Signature, push_matches

__all__ = ["Assistant", "DocPage", "FeedbackStore", "Gap", "IngestJobs", "Poller", "RecentDeliveries", "Retrieval",
           "Signature", "SiteInfo", "gaps_csv", "group_gaps", "mask_personal_data", "push_matches"]
