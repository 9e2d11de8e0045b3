"""Mailbox ingestion: parse, redact, thread and store relay mails exactly once.

Amazon relays every buyer message to the seller's mailbox (there is no API); this package
turns those mails (plus the seller's own replies, Amazon's notices, bounces and
out-of-office replies) into warehouse rows.

- ``parser.parse_bytes(raw, *, salt, source="", folder_role=None, internal_date=None, flags=())``
  -> ``ParsedMail`` (``.to_dict()`` = the ``parse-email`` JSON); raises ``MailParseError(reason)``.
- ``redact.redact(text, names=())`` and ``redact.installation_salt()`` (``$SELLER_INBOX_SALT`` or
  ``$SELLER_INBOX_HOME/alias-salt``, created on first use).
- ``sources.MaildirSource`` / ``sources.ImapSource`` / ``sources.open_source(airflow_conn)``.
- ``ingest.ingest_mailbox(store, dsn, start, end)`` -> ``{"seen", "stored", "duplicates",
  "quarantined", ...}``: reads the store's ``mailbox`` connection, window [start, end).
- ``cli.register(subparsers)``: ``parse-email FILE...``, ``mail ingest`` (``mail demo``, the demo
  relay mail generator, is dev tooling: ``seller_inbox_dev.demo.mail``).
"""
