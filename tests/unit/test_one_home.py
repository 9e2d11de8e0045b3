"""One home per domain fact: the order-id pattern, the response clock, the intent list, the
risk order, the served languages and Amazon's domains are defined in ``seller_inbox.domain``
and only imported elsewhere (docs/domain.md). This walks the runtime code, the DAGs, the
plugins and the gate suites and fails on a second definition."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from seller_inbox.domain import languages, marketplaces, taxonomy

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "include" / "seller_inbox"
DOMAIN = PACKAGE / "domain"
SOURCES = [p for d in ("include", "dags", "plugins") for p in sorted((ROOT / d).rglob("*"))
           if p.suffix in (".py", ".sql", ".yaml", ".yml") and p.is_file() and DOMAIN not in p.parents]

ORDER_ID_PATTERN = re.compile(r"\\d\{3\}-\\d\{7\}-\\d\{7\}")
RESPONSE_CLOCK = re.compile(r"hours\s*=\s*24\b|'24 hours?'|interval\s+'24")
TLDS = [re.escape(m.domain) for m in marketplaces.MARKETPLACES.values() if "." in m.domain]


def _rel(p: Path) -> str:
    return str(p.relative_to(ROOT))


def _string_sequences(tree: ast.AST):
    """Tuple, list and set literals made only of string constants, with where they stand."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            yield node.lineno, {e.value for e in node.elts}


def test_the_sources_were_found():
    assert len(SOURCES) > 80
    assert any(p.name == "parser.py" for p in SOURCES) and any(p.suffix == ".yaml" for p in SOURCES)


def test_no_second_order_id_pattern():
    hits = [f"{_rel(p)}:{i}" for p in SOURCES for i, line in enumerate(p.read_text().splitlines(), 1)
            if ORDER_ID_PATTERN.search(line)]
    assert not hits, f"order-id pattern defined outside seller_inbox/domain/identifiers.py: {hits}"


def test_no_second_response_clock():
    hits = [f"{_rel(p)}:{i}: {line.strip()}" for p in SOURCES if p.suffix == ".py"
            for i, line in enumerate(p.read_text().splitlines(), 1) if RESPONSE_CLOCK.search(line)]
    assert not hits, f"the 24-hour clock belongs to seller_inbox/domain/response_clock.py: {hits}"


def test_no_second_intent_risk_or_language_list():
    intents, langs = set(taxonomy.INTENTS), set(languages.SERVED)
    hits = []
    for p in SOURCES:
        if p.suffix != ".py":
            continue
        tree = ast.parse(p.read_text(), filename=str(p))
        for lineno, values in _string_sequences(tree):
            if len(values & intents) >= 5:
                hits.append(f"{_rel(p)}:{lineno}: a list of intents")
            if len(values) >= 5 and values <= langs:
                hits.append(f"{_rel(p)}:{lineno}: a list of served languages")
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "RISK_ORDER" for t in node.targets):
                hits.append(f"{_rel(p)}:{node.lineno}: RISK_ORDER")
    assert not hits, f"defined outside seller_inbox/domain: {hits}"


def test_no_second_list_of_amazon_domains():
    hits = []
    for p in SOURCES:
        text = p.read_text()
        for i, line in enumerate(text.splitlines(), 1):
            if sum(t in line for t in TLDS) >= 3:
                hits.append(f"{_rel(p)}:{i}")
    assert not hits, f"Amazon's domains belong to seller_inbox/domain/marketplaces.py: {hits}"


def test_the_checks_catch_a_second_definition():
    """The patterns above are not vacuous: each recognises the thing it forbids."""
    assert ORDER_ID_PATTERN.search(r'_ORDER = re.compile(r"\b\d{3}-\d{7}-\d{7}\b")')
    assert RESPONSE_CLOCK.search("SLA_WINDOW = timedelta(hours=24)")
    assert RESPONSE_CLOCK.search("first_reply_at <= received_at + interval '24 hours'")
    tree = ast.parse('INTENTS = ("order_status", "not_received", "damaged_defective", "wrong_item", "other")')
    assert any(len(v & set(taxonomy.INTENTS)) >= 5 for _, v in _string_sequences(tree))
    assert sum(t in r"amazon\.(?:com|co\.uk|co\.jp|com\.mx|com\.au)" for t in TLDS) >= 3


def test_one_way_to_open_a_warehouse_connection():
    hits = [f"{_rel(p)}:{i}" for p in SOURCES if p.suffix == ".py" and p.name != "warehouse.py"
            and PACKAGE in p.parents for i, line in enumerate(p.read_text().splitlines(), 1)
            if "psycopg2.connect(" in line or "psycopg.connect(" in line]
    assert not hits, f"open warehouse connections with seller_inbox.warehouse.connect: {hits}"


# ------------------------------------------------------------------ one writer module per table
DEV_PACKAGE = ROOT / "include" / "seller_inbox_dev"   # seeds demo and test data: out of scope
MIGRATIONS = PACKAGE / "sql" / "migrations"          # shape the tables: no runtime writer
DATA_DICTIONARY = ROOT / "docs" / "data-dictionary.md"
WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|MERGE\s+INTO)\s+"
                   r"((?:raw|core|ops|kpi)\.\w+)")
OWNER_ROW = re.compile(r"^(?:\| )?((?:`(?:raw|core|ops|kpi)\.\w+`(?: / )?)+).*\bwritten by `([\w.]+)`", re.M)


def _module(p: Path) -> str:
    """``seller_inbox.mail.messages`` for include/seller_inbox/mail/messages.py (a package's
    ``__init__.py``: the package); files outside ``include`` by their path."""
    if ROOT / "include" not in p.parents:
        return _rel(p)
    parts = p.relative_to(ROOT / "include").with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _writers() -> dict[str, set[str]]:
    """Each table to the modules holding a statement that writes it. Table names built at run
    time (``sql.Identifier``) are not seen: their owner is only what the dictionary says."""
    out: dict[str, set[str]] = {}
    for p in SOURCES:
        if DEV_PACKAGE in p.parents or MIGRATIONS in p.parents:
            continue
        for m in WRITE.finditer(p.read_text()):
            out.setdefault(m.group(1), set()).add(_module(p))
    return out


def _documented_owners() -> dict[str, str]:
    """Table to owner module, from the "written by `module`" of docs/data-dictionary.md's rows."""
    return {t: module for names, module in OWNER_ROW.findall(DATA_DICTIONARY.read_text())
            for t in re.findall(r"`([\w.]+)`", names)}


def test_each_table_is_written_by_its_one_owner_module():
    """Every statement writing a table lives in the table's owner module (docs/data-dictionary.md);
    other modules call the owner's functions with their cursor. A new writer is a conscious
    change of the dictionary, not a stray INSERT."""
    owners = _documented_owners()
    hits = []
    for table, modules in sorted(_writers().items()):
        if table not in owners:
            hits.append(f"{table}: written by {sorted(modules)} but no owner in docs/data-dictionary.md")
        elif modules != {owners[table]}:
            hits.append(f"{table}: owned by {owners[table]}, also written by {sorted(modules - {owners[table]})}")
    assert not hits, "move these statements into the owner module and call its functions: " + "; ".join(hits)


def test_the_documented_owners_are_modules():
    owners = _documented_owners()
    missing = {t: m for t, m in owners.items() if not any(_module(p) == m for p in SOURCES if p.suffix == ".py")}
    assert not missing, f"docs/data-dictionary.md names owner modules that do not exist: {missing}"


def test_the_writer_scan_is_not_vacuous():
    """The scan sees known writers (a statement over several lines too) and no reads."""
    writers, owners = _writers(), _documented_owners()
    assert writers["core.outbox"] == {"seller_inbox.delivery.outbox"}
    assert writers["ops.alert_log"] == {"seller_inbox.alerts.alert_log"}
    assert {"core.message", "raw.orders", "kpi.store_daily"} <= set(writers)
    assert owners["core.message"] == "seller_inbox.mail.messages" and owners["ops.proactive_scan_day"]
    assert len(owners) >= 25
    assert [m.group(1) for m in WRITE.finditer("UPDATE core.outbox o\n   SET status = 'x'; DELETE FROM\n raw.orders")] \
        == ["core.outbox", "raw.orders"]
    assert not WRITE.search("SELECT 1 FROM core.outbox WHERE k = %s FOR UPDATE")
    assert not WRITE.search("ON CONFLICT (k) DO UPDATE SET status = EXCLUDED.status")
    assert any(WRITE.search(p.read_text()) for p in DEV_PACKAGE.rglob("*.py")), "the dev package exclusion is moot"
