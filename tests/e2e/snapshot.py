"""Fingerprint every warehouse table (row count + content hash) to prove reruns change nothing."""

from __future__ import annotations

# what the run did, not what it found: the append-only SP-API call log and the live state of
# the client's rate-limit buckets. Everything else must be identical after a rerun.
APPEND_ONLY = {"ops.api_calls", "ops.api_bucket"}


def fingerprint(conn) -> dict[str, tuple[int, str]]:
    with conn.cursor() as cur:
        cur.execute(
            """SELECT table_schema || '.' || table_name FROM information_schema.tables
               WHERE table_schema IN ('raw','core','kpi','ops') AND table_type = 'BASE TABLE' ORDER BY 1"""
        )
        out = {}
        for (name,) in cur.fetchall():
            if name in APPEND_ONLY:
                continue
            cur.execute(f"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {name} t")
            out[name] = tuple(cur.fetchone())
        return out
