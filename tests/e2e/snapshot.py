"""Fingerprint every warehouse table (row count + content hash) to prove reruns change nothing."""

from __future__ import annotations

# append-only logs of what the run did (one row per API call): they grow with every run by design
APPEND_ONLY = {"ops.api_calls"}


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
