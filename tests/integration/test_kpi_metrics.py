"""One definition per metric: every metric declared in seller_inbox/metrics.py reaches each
consumer — its table column and COMMENT ON, the SQL that fills it, the gate, the data
dictionary, the run command's summary, the views and the UI's query."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from seller_inbox import gate_suites, kpi, metrics
from seller_inbox.ui import queries

KEYS = {"store_id", "marketplace", "day", "computed_at", "fulfillment_channel", "window_start", "window_end"}


def _columns(db, schema: str, table: str) -> dict[str, str | None]:
    with db.cursor() as cur:
        cur.execute("""SELECT a.attname, col_description(a.attrelid, a.attnum)
                       FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped""",
                    (f"{schema}.{table}",))
        return dict(cur.fetchall())


def test_every_declared_metric_is_a_documented_column_and_every_column_is_declared(db):
    for table in metrics.TABLES:
        cols = _columns(db, "kpi", table)
        declared = {m.name: m for m in metrics.of(table)}
        assert set(cols) - KEYS == set(declared), f"kpi.{table}: columns and declarations differ"
        for name, m in declared.items():
            assert cols[name] == m.comment, f"kpi.{table}.{name}: COMMENT ON differs from the declaration"


def test_every_declared_metric_is_computed_gated_and_in_the_dictionary():
    suite = {b.get("metrics"): b for b in gate_suites.load_suite("kpi")["batches"]}
    dictionary = metrics.DICTIONARY.read_text(encoding="utf-8")
    assert dictionary == metrics.render_dictionary(dictionary), "run: python -m seller_inbox.metrics docs"
    for m in metrics.METRICS:
        statement = kpi._SQL if m.table == "store_daily" else kpi._ODR
        insert_list = statement[statement.index(f"INSERT INTO kpi.{m.table}"):statement.index("SELECT %(store)s")]
        assert f" {m.name}" in insert_list, m.name
        batch = suite[m.table]
        assert m.name in batch["sql"]
        checked = {gate_suites.name_of(e) for e in batch["expectations"]}
        assert f"ExpectColumnValuesToBeBetween({m.name})" in checked, m.name
        if m.at_most:
            assert f"ExpectColumnPairValuesAToBeGreaterThanB({m.at_most},{m.name})" in checked
        assert f"| `{m.name}` | {m.unit} |" in dictionary[dictionary.index(f"`kpi.{m.table}`:"):]


def test_views_summary_and_ui_carry_every_metric_that_adds_up(db, warehouse_dsn):
    windows = _columns(db, "kpi", "response_windows")
    by_store = _columns(db, "kpi", "last_30_days_by_store")
    trend = _columns(db, "kpi", "odr_trend")
    cols, _ = kpi.summary(warehouse_dsn, date(2026, 1, 1), date(2026, 1, 2))
    labels = kpi.summary_labels()
    period = queries.kpi_period(db, None, date.today() - timedelta(days=6), date.today())
    assert period == []  # an empty warehouse: the query runs, over every declared column
    for m in metrics.of("store_daily"):
        assert (m.name in windows and m.name in by_store) == bool(m.rollup), m.name
        assert (m.name in cols) == (m.summary and bool(m.rollup)), m.name
        if m.summary:
            assert labels[m.name] == (f"{m.label_en} {m.label_zh}", m.unit)
    for m in metrics.of("order_defect_rate"):
        assert m.name in trend, m.name


def test_adding_a_metric_is_one_declaration(monkeypatch):
    """A new declaration reaches the statement, the gate, the dictionary and the migration text."""
    new = metrics.Metric("gift_messages", "store_daily", "count(*) FILTER (WHERE intent = 'gift')", "integer", "count",
                         "Buyer messages about gifts.", "礼品相关消息。", "gifts", "礼品", "this desk's classifier",
                         "messages", at_most="buyer_messages", summary=True)
    monkeypatch.setattr(metrics, "METRICS", metrics.METRICS + (new,))
    sql = kpi._store_daily_sql()
    assert "count(*) FILTER (WHERE intent = 'gift') AS gift_messages" in sql
    assert "k.gift_messages" in sql and "EXCLUDED.gift_messages" in sql
    names = {gate_suites.name_of(e) for e in metrics.gate_expectations("store_daily")}
    assert {"ExpectColumnValuesToBeBetween(gift_messages)",
            "ExpectColumnPairValuesAToBeGreaterThanB(buyer_messages,gift_messages)"} <= names
    assert "| `gift_messages` | count | Buyer messages about gifts. | 礼品相关消息。 |" in metrics.dictionary_section()
    assert "sum(gift_messages) AS gift_messages" in metrics.rollups("store_daily", only="summary")
    assert metrics.migration_sql("store_daily", ["gift_messages"]).splitlines() == [
        "ALTER TABLE kpi.store_daily ADD COLUMN IF NOT EXISTS gift_messages integer NOT NULL DEFAULT 0;",
        "COMMENT ON COLUMN kpi.store_daily.gift_messages IS 'Buyer messages about gifts. Unit: count. "
        "Source: this desk''s classifier';"]
    assert "sum(s.gift_messages) AS gift_messages" in metrics.views_sql()
    assert dataclasses.replace(new, unit="rate").nullable
