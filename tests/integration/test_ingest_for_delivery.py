"""What ingestion keeps for delivery: the buyer's relay alias, only encrypted (replies go to it),
and buyers whom an Amazon bounce says opted out (nothing more is sent to them)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from cryptography.fernet import Fernet

from seller_inbox.config import load_registry
from seller_inbox.delivery import aliases
from seller_inbox_dev.demo.mail import deliver, ensure_maildir
from seller_inbox.mail.ingest import ingest_source
from seller_inbox.mail.sources import MaildirSource

T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)
ALIAS = "k7q2m9x1b3@marketplace.amazon.com"

BUYER = f"""From: "Sam - Amazon Marketplace" <{ALIAS}>
To: support@us-outdoor.demo.example
Subject: Order delivery inquiry from Amazon customer Sam (Order: 111-2223334-4445556)
Date: Fri, 20 Nov 2026 09:00:00 +0000
Message-ID: <buyer-1@relay.example>

------------- Begin message -------------

Where is my parcel?

------------- End message -------------
"""
BOUNCE = f"""From: Mail Delivery System <mailer-daemon@amazon.com>
To: support@us-outdoor.demo.example
Subject: Undeliverable: Re: Order delivery inquiry
Date: Fri, 20 Nov 2026 11:00:00 +0000
Message-ID: <bounce-1@amazon.example>

Your message to {ALIAS} was not delivered: the buyer has opted out of unsolicited messages.
"""


def test_alias_kept_encrypted_and_opt_out_recorded(db, warehouse_dsn, tmp_path, monkeypatch):
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("AIRFLOW_CONN_SELLER_INBOX_CRYPTO", json.dumps({"conn_type": "generic", "extra": {"keys": [key]}}))
    store = load_registry().store("us-outdoor")
    ensure_maildir(tmp_path, ("Sent",))
    deliver(tmp_path, BUYER.encode(), T0 + timedelta(hours=9), "buyer")
    deliver(tmp_path, BOUNCE.encode(), T0 + timedelta(hours=11), "bounce")
    out = ingest_source(store, warehouse_dsn, MaildirSource(tmp_path), T0, T0 + timedelta(days=1))
    assert out["stored"] == 2
    with db.cursor() as cur:
        cur.execute("SELECT thread_id, buyer_alias_hash FROM core.message WHERE message_id = '<buyer-1@relay.example>'")
        thread_id, alias_hash = cur.fetchone()
        cur.execute("SELECT alias_enc FROM core.thread_alias WHERE thread_id = %s", (thread_id,))
        (enc,) = cur.fetchone()
        assert ALIAS not in enc and "k7q2m9x1b3" not in enc  # never in clear
        assert aliases.recall(cur, thread_id) == ALIAS
        cur.execute("SELECT buyer_alias_hash, reason FROM core.buyer_opt_out WHERE store_id = %s", (store.id,))
        (opted,) = cur.fetchall()
        assert opted[0] == alias_hash and "opted out" in opted[1]
        # nothing in clear anywhere in the warehouse's message tables
        cur.execute("SELECT count(*) FROM raw.mail_message WHERE parsed::text LIKE %s", (f"%{ALIAS}%",))
        assert cur.fetchone() == (0,)


def test_without_a_key_nothing_is_kept_and_ingestion_goes_on(db, warehouse_dsn, tmp_path, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_SELLER_INBOX_CRYPTO", raising=False)
    store = load_registry().store("us-outdoor")
    ensure_maildir(tmp_path, ("Sent",))
    deliver(tmp_path, BUYER.encode(), T0 + timedelta(hours=9), "buyer")
    assert ingest_source(store, warehouse_dsn, MaildirSource(tmp_path), T0, T0 + timedelta(days=1))["stored"] == 1
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM core.thread_alias")
        assert cur.fetchone() == (0,)
