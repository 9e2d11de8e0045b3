"""What CONTRIBUTING.md's "how to add" checklists promise, kept honest: a KPI column is
documented, a marketplace is complete, an alert channel is registered (test_alert_channels.py),
a template exists in every locale (test_templates.py), an SP-API operation is served by the
simulator at the client's rate (test_sandbox_contract.py)."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

from seller_inbox.domain import languages, marketplaces

DOCS = Path(__file__).resolve().parents[2] / "docs"
KEYS = {"store_id", "marketplace", "day", "computed_at", "updated_at"}


def test_every_kpi_column_is_in_the_data_dictionary(db):
    with db.cursor() as cur:
        cur.execute("SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'kpi' AND table_name = 'store_daily'")
        columns = {r[0] for r in cur.fetchall()} - KEYS
    assert len(columns) >= 10
    dictionary = (DOCS / "data-dictionary.md").read_text()
    kpi_section = dictionary[dictionary.index("## kpi"):dictionary.index("## ops")]
    documented = set(re.findall(r"`([a-z_0-9]+)`", kpi_section))
    assert columns <= documented, f"add to docs/data-dictionary.md: {sorted(columns - documented)}"


def test_every_marketplace_is_complete():
    domains = [m.domain for m in marketplaces.MARKETPLACES.values()]
    assert len(set(domains)) == len(domains)
    for m in marketplaces.MARKETPLACES.values():
        assert m.language in languages.SERVED, m.code
        assert ZoneInfo(m.time_zone) and m.region in marketplaces.SPAPI_HOSTS, m.code
        assert re.fullmatch(r"A[0-9A-Z]{9,13}", m.marketplace_id), m.code
        assert marketplaces.BY_ID[m.marketplace_id] is m and marketplaces.get(m.code.lower()) is m
