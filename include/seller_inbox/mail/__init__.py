"""Mailbox ingestion: parse, redact, thread and store relay mails (buyer messages, seller
replies, Amazon notices, bounces) exactly once. See ``parser``, ``sources``, ``ingest``, ``demo``."""
