"""The store registry: valid demo file, and one clear line for each kind of mistake."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest
import yaml

from seller_inbox.config import RegistryError, get_registry, load_registry

DEMO = Path(__file__).resolve().parents[2] / "include" / "stores.yaml"


def test_demo_registry_is_valid():
    reg = load_registry(DEMO)
    assert [s.id for s in reg.stores] == ["us-outdoor", "eu-home", "jp-gadgets"]
    eu = reg.store("eu-home")
    assert eu.marketplace_codes == ["DE", "FR", "IT", "ES"]
    assert eu.marketplace("FR").zone.key == "Europe/Paris"
    assert reg.store("us-outdoor").mode_for("order_status") == "auto"
    assert reg.store("us-outdoor").mode_for("damaged_defective") == "listen"  # default


def _broken(tmp_path, mutate) -> Path:
    data = yaml.safe_load(DEMO.read_text())
    mutate(data)
    p = tmp_path / "stores.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


@pytest.mark.parametrize("mutate, expect", [
    (lambda d: d["stores"][1]["marketplaces"].append({"code": "XX"}), "store 'eu-home': field marketplaces[4].code: unknown marketplace 'XX'"),
    (lambda d: d["stores"].append(copy.deepcopy(d["stores"][0])), "field stores: duplicate store id 'us-outdoor'"),
    (lambda d: d["stores"][2]["marketplaces"][0].update(time_zone="Asia/Tokio"), "store 'jp-gadgets': field marketplaces[0].time_zone: unknown time zone 'Asia/Tokio'"),
    (lambda d: d["stores"][0]["connections"].pop("smtp"), "store 'us-outdoor': field connections.smtp: is required"),
    (lambda d: d["stores"][0]["modes"].update(wheres_my_order="auto"), "store 'us-outdoor': field modes: unknown intent 'wheres_my_order'"),
    (lambda d: d["stores"][0].update(region="eu"), "store 'us-outdoor': field (store): marketplace US is in SP-API region na, not eu"),
    (lambda d: d["stores"][0]["modes"].update(order_status="send"), "store 'us-outdoor': field modes.order_status:"),
])
def test_each_mistake_gets_one_line_naming_file_store_and_field(tmp_path, mutate, expect):
    p = _broken(tmp_path, mutate)
    with pytest.raises(RegistryError) as info:
        load_registry(p)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(str(p)) and expect in msg, msg


def test_cli_validate_exits_nonzero_with_one_line(tmp_path):
    p = _broken(tmp_path, lambda d: d["stores"][1]["marketplaces"][0].update(code="ZZ"))
    out = subprocess.run([sys.executable, "-m", "seller_inbox", "stores", "validate", str(p)], capture_output=True, text=True)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "store 'eu-home'" in lines[0] and "marketplaces[0].code" in lines[0]
    ok = subprocess.run([sys.executable, "-m", "seller_inbox", "stores", "validate", str(DEMO)], capture_output=True, text=True)
    assert ok.returncode == 0 and "3 stores" in ok.stdout


def test_registry_path_from_environment(tmp_path, monkeypatch):
    p = _broken(tmp_path, lambda d: d["stores"].pop())
    monkeypatch.setenv("SELLER_INBOX_STORES", str(p))
    assert [s.id for s in load_registry().stores] == ["us-outdoor", "eu-home"]


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(RegistryError, match="store registry not found"):
        load_registry(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("stores: [\n  - id: a\n   x")
    with pytest.raises(RegistryError, match="not valid YAML"):
        load_registry(bad)


# ---------------------------------------------------------------------------------------------
# What would break a DAG or a task later is refused now, in one bounded line (file, store, field).

DEMO_TEXT = DEMO.read_text()
US_TAIL = "    alert_language: en\n"  # last line of the us-outdoor entry: extra fields go after it


def _us(extra: str) -> str:
    """The demo registry with ``extra`` YAML lines added to the us-outdoor store."""
    assert DEMO_TEXT.count(US_TAIL) == 1
    return DEMO_TEXT.replace(US_TAIL, US_TAIL + extra)


def _sub(old: str, new: str) -> str:
    assert old in DEMO_TEXT, old
    return DEMO_TEXT.replace(old, new, 1)


QUIET = 'quiet_hours: {start: "21:00", end: "08:00"}'
# 9**9 'lol's from eleven lines: expanded, the tester's 2.1 GB error message
BOMB = ('l0: &l0 ["lol"]\n' + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))
        + "stores: [{id: *l9}]\n")

# (case, registry text, what the one line must say); CLI_CASES below also go through the command
REFUSED = [
    ("duplicate key in a store", _us("    kill_switch: true\n    kill_switch: false\n"),
     "line 24: store 'us-outdoor': duplicate key 'kill_switch' (first on line 23)"),
    ("second stores: key", DEMO_TEXT + "stores:\n  - id: other\n", "duplicate key 'stores' (first on line 8)"),
    ("cron out of range", _sub('{pipeline: "0 0 * * *"}   #', '{pipeline: "99 99 * * *"}   #'),
     "store 'us-outdoor': field schedules.pipeline: '99 99 * * *' is not a valid cron expression"),
    ("cron never fires", _sub('{pipeline: "0 0 * * *"}   #', '{pipeline: "0 0 * * *", auth: "0 0 31 2 *"}   #'),
     "store 'us-outdoor': field schedules.auth: '0 0 31 2 *' is not a valid cron expression"),
    ("cron syntax Airflow cannot describe", _sub('{pipeline: "0 0 * * *"}   #', '{pipeline: "0 0 L * *"}   #'),
     "field schedules.pipeline: '0 0 L * *': field 'L' is not classic cron"),
    ("cron with a huge step", _sub('{pipeline: "0 0 * * *"}   #', '{pipeline: "0-59/1000000000000000000000 * * * *"}   #'),
     "field schedules.pipeline: '0-59/1000000000000000000000 * * * *': field"),
    ("six-field cron", _sub('{pipeline: "0 0 * * *"}   #', '{pipeline: "0 0 0 * * *"}   #'),
     "is not a 5-field cron expression"),
    ("cron of a megabyte", _sub('{pipeline: "0 0 * * *"}   #', '{pipeline: "' + "0," * 500_000 + '0 * * * *"}   #'),
     "field schedules.pipeline: '0,0,0,0,"),
    ("hours overflow timedelta", _us("    max_reply_age_hours: 1000000000000\n"),
     "store 'us-outdoor': field max_reply_age_hours: Input should be less than or equal to 720"),
    ("hours zero", _us("    max_reply_age_hours: 0\n"), "field max_reply_age_hours: Input should be greater than or equal to 1"),
    ("hours negative", _us("    max_reply_age_hours: -5\n"), "field max_reply_age_hours: Input should be greater than or equal to 1"),
    ("hours as text", _us('    max_reply_age_hours: "36"\n'), "field max_reply_age_hours: Input should be a valid integer"),
    ("hours infinite", _us("    max_reply_age_hours: .inf\n"), "field max_reply_age_hours:"),
    ("integer too long to read", _us("    max_reply_age_hours: " + "9" * 5000 + "\n"),
     "line 23: store 'us-outdoor': cannot read this value"),
    ("equal quiet hours", _sub(QUIET, 'quiet_hours: {start: "08:00", end: "08:00"}'),
     "store 'us-outdoor': field quiet_hours: start and end are equal (08:00)"),
    ("unquoted quiet hour", _sub(QUIET, 'quiet_hours: {start: 21:00, end: "08:00"}'),
     'field quiet_hours.start: write the time quoted, "21:00"'),
    ("quiet hour with an offset", _sub(QUIET, 'quiet_hours: {start: "21:00+02:00", end: "08:00"}'),
     "field quiet_hours.start: '21:00+02:00' is not a local time"),
    ("quiet hour 24:30", _sub(QUIET, 'quiet_hours: {start: "24:30", end: "08:00"}'), "field quiet_hours.start:"),
    ("folder path traversal", _us("    mail_folders: {inbox: INBOX, sent: ../../../../etc}\n"),
     "store 'us-outdoor': field mail_folders.sent: '../../../../etc' is not a plain mailbox name"),
    ("absolute folder", _us("    mail_folders: {inbox: /etc/passwd}\n"), "field mail_folders.inbox: '/etc/passwd' is not a plain"),
    ("folder with NUL", _us('    mail_folders: {inbox: "IN\\0BOX"}\n'), "field mail_folders.inbox: contains the control"),
    ("folder in a hidden dir", _us("    mail_folders: {inbox: Archive/.hidden}\n"), "field mail_folders.inbox:"),
    ("home folder", _us("    mail_folders: {inbox: ~root}\n"), "field mail_folders.inbox:"),
    ("no mail folders", _us("    mail_folders: {}\n"), "field mail_folders: Dictionary should have at least 1 item"),
    ("folder read twice", _us("    mail_folders: {inbox: INBOX, sent: INBOX}\n"), "folder 'INBOX' is given for two roles"),
    ("odd folder role", _us("    mail_folders: {Inbox Main: INBOX}\n"), "folder role 'Inbox Main'"),
    ("alias bomb in id", BOMB, "line 1: anchors and aliases (&name, *name) are not allowed"),
    ("anchor alone", _sub("  - id: us-outdoor", "  - id: &x us-outdoor"), "line 9: anchors and aliases"),
    ("control character in the file", _us("    name: x\x1f\n"), "line 23: not valid YAML: character #x001f: special characters"),
    ("python tag", "stores: !!python/object/apply:os.system [ls]\n", "tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"),
    ("binary tag", _sub('name: "Outdoor Gear US"', "name: !!binary T3V0ZG9vcg=="), "line 10: store 'us-outdoor': tag"),
    ("deep nesting", "stores: " + "[" * 50_000 + "]" * 50_000 + "\n", "nested more than 16 levels deep"),
    ("newline in id", _sub("id: us-outdoor", 'id: "us-outdoor\\n"'), r"field id: 'us-outdoor\n': use lower-case"),
    ("huge id", _sub("id: us-outdoor", "id: " + "x" * 100_000), "field id: 'xxxx"),
    ("line separator in name", _sub('name: "Outdoor Gear US"', 'name: "Outdoor\\u2028Gear"'),
     "field name: contains the control or invisible character U+2028"),
    ("lone surrogate in name", _sub('name: "Outdoor Gear US"', 'name: "Outdoor\\uD800"'), "field name: Input should be a valid string"),
    ("empty name", _sub('name: "Outdoor Gear US"', 'name: ""'), "field name: String should have at least 1 character"),
    ("seller id with a space", _sub("seller_id: A1DEMOUSOUTDOOR", 'seller_id: "A1DEMO US"'),
     "field seller_id: 'A1DEMO US': an Amazon seller id is"),
    ("connection id with a newline", _sub("spapi: spapi_us_outdoor", 'spapi: "spapi_us_outdoor\\n"'),
     "field connections.spapi: 'spapi_us_outdoor\\n' is not a valid Airflow connection id"),
    ("alert connection id", _sub("alert_channels: [{type: log}]", "alert_channels: [{type: slack, conn_id: '../x y'}]"),
     "field alert_channels[0].conn_id: '../x y' is not a valid Airflow connection id"),
    ("unknown alert channel", _sub("alert_channels: [{type: log}]", "alert_channels: [{type: pager}]"),
     "field alert_channels[0].type: unknown alert channel type 'pager'; types: log, wecom, dingtalk, slack, email"),
    ("alert channel twice", _sub("alert_channels: [{type: log}]", "alert_channels: [{type: log}, {type: log}]"),
     "field alert_channels: alert channel 'log' with conn_id None is listed twice"),
    ("time zone is a directory", _sub("time_zone: America/New_York", "time_zone: America"),
     "field marketplaces[0].time_zone: unknown time zone 'America'"),
    ("time zone path", _sub("time_zone: America/New_York", "time_zone: ../../../etc/passwd"), "unknown time zone '../../../etc/passwd'"),
    ("time zone too long", _sub("time_zone: America/New_York", "time_zone: " + "A" * 5000), "unknown time zone 'AAAA"),
    ("time zone with a NUL", _sub("time_zone: America/New_York", 'time_zone: "UTC\\0"'), "unknown time zone 'UTC\\x00'"),
    ("long marketplace code", _sub("- code: US", "- code: " + "U" * 10_000), "field marketplaces[0].code: unknown marketplace 'UUUUUUUU...'"),
    ("empty store list", "defaults: {owner: seller-ops}\nstores: []\n", "field stores: the list is empty"),
    ("stores not a list", "stores: 7\n", "field stores: Input should be a valid list"),
    ("store not a mapping", "stores: [7]\n", "store '#1': field (store): Input should be a valid dictionary"),
    ("owner with a tab", _sub("owner: seller-ops", 'owner: "seller\\tops"'), "field defaults.owner: contains the control"),
    ("not a mapping", "- just\n- a list\n", "expected a mapping with a 'stores' list"),
    ("empty file", "", "expected a mapping with a 'stores' list"),
    ("two documents", DEMO_TEXT + "---\n" + DEMO_TEXT, "line 51: not valid YAML: expected a single document in the stream, but found another document"),
    ("unknown field", _us("    kill_swich: true\n"), "store 'us-outdoor': field kill_swich: is not a known field"),
]


def _check_line(msg: str, path: Path) -> None:
    assert "\n" not in msg and len(msg.splitlines()) == 1, msg[:1000]
    assert len(msg) <= 500, (len(msg), msg[:1000])
    assert msg.startswith(str(path) + ": "), msg
    msg.encode("utf-8")  # printable on any UTF-8 terminal: no lone surrogates


@pytest.mark.parametrize("case, text, expect", REFUSED, ids=[c[0] for c in REFUSED])
def test_what_would_break_later_is_refused_in_one_bounded_line(tmp_path, case, text, expect):
    p = tmp_path / "stores.yaml"
    p.write_text(text, encoding="utf-8", errors="surrogatepass")
    with pytest.raises(RegistryError) as info:
        load_registry(p)
    msg = str(info.value)
    _check_line(msg, p)
    assert expect in msg, msg


def _unreadable(tmp_path) -> list[tuple[str, Path, str]]:
    """Files the registry cannot even be read from."""
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes(DEMO_TEXT.encode() + "# Gr\xfc\xdfe\n".encode("latin-1"))
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (5 * 1024 * 1024) + b"\nstores: []\n")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    return [
        ("not UTF-8", latin, "line 51: not UTF-8 text (byte 1761); save the file as UTF-8"),
        ("a directory", tmp_path, "is a directory, not the registry file"),
        ("missing", tmp_path / "nope.yaml", "store registry not found (set SELLER_INBOX_STORES"),
        ("below a file", latin / "x.yaml", "cannot be read: Not a directory"),
        ("over 5 MB", big, "is larger than 5242880 bytes"),
        ("a fifo", fifo, "is not a regular file"),
    ]


def test_unreadable_files_give_one_line(tmp_path):
    for case, path, expect in _unreadable(tmp_path):
        with pytest.raises(RegistryError) as info:
            load_registry(path)
        msg = str(info.value)
        _check_line(msg, path)
        assert expect in msg, (case, msg)
    with pytest.raises(RegistryError, match=r"cannot be read: embedded null byte"):
        load_registry(str(tmp_path / "a\0b.yaml"))
    with pytest.raises(RegistryError, match=r"File name too long") as info:
        load_registry(tmp_path / ("x" * 5000))
    assert len(str(info.value)) <= 500
    # get_registry (DAG parsing, tasks) says the same, whatever stat() thinks of the path
    with pytest.raises(RegistryError, match=r"cannot be read: embedded null byte"):
        get_registry(str(tmp_path / "a\0b.yaml"))
    with pytest.raises(RegistryError, match="is a directory"):
        get_registry(tmp_path)


# the tester's problems, each also through the real command (a process per case, so a few)
CLI_CASES = ["duplicate key in a store", "second stores: key", "cron out of range", "hours overflow timedelta",
             "equal quiet hours", "folder path traversal", "alias bomb in id", "huge id", "newline in id",
             "lone surrogate in name", "line separator in name", "time zone is a directory", "empty store list",
             "unknown alert channel", "control character in the file"]


def test_cli_validate_prints_one_line_and_exits_1(tmp_path):
    by_name = {c: (text, expect) for c, text, expect in REFUSED}
    cases = []
    for i, case in enumerate(CLI_CASES):
        text, expect = by_name[case]
        path = tmp_path / f"r{i}.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        cases.append((case, path, expect))
    for case, path, expect in cases + _unreadable(tmp_path):
        out = subprocess.run([sys.executable, "-m", "seller_inbox", "stores", "validate", str(path)],
                             capture_output=True, text=True, timeout=60)
        lines = out.stderr.splitlines()
        assert out.returncode == 1 and out.stdout == "", (case, out)
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}: ") and expect in lines[0], (case, out.stderr[:2000])


def test_clean_variants_still_validate(tmp_path):
    p = tmp_path / "stores.yaml"
    p.write_text(_sub(QUIET, "quiet_hours: {enabled: false}")
                 .replace(US_TAIL, US_TAIL + '    mail_folders: {inbox: INBOX, sent: "[Gmail]/Sent Mail", archive: Archive/2026}\n'
                          "    max_reply_age_hours: 720\n", 1)
                 .replace('{pipeline: "0 0 * * *"}   #', '{pipeline: "*/15 6-22 * * mon-fri", auth: "5 0,6,12,18 * * *"}   #', 1)
                 .replace('name: "Outdoor Gear US"', 'name: "Outdoor Gear US — 户外用品 2026-01-01"', 1))
    us = load_registry(p).store("us-outdoor")
    assert us.quiet_hours.contains(time(23, 0)) is False  # switched off explicitly
    assert us.mail_folders["sent"] == "[Gmail]/Sent Mail" and us.max_reply_age_hours == 720
    assert us.schedules.pipeline == "*/15 6-22 * * mon-fri" and us.name.endswith("2026-01-01")  # a date stays text
    eu = load_registry(p).store("eu-home")
    assert eu.quiet_hours.start == time(21, 0) and eu.quiet_hours.contains(time(23, 0))  # the default window


@pytest.mark.parametrize("case", ["cron out of range", "alias bomb in id"])
def test_refused_registry_is_a_short_dag_import_error(tmp_path, case):
    """The DAG processor shows the same line as the CLI, not a traceback wall."""
    from tests.dags.test_dag_integrity import parse

    text, expect = {c: (t, e) for c, t, e in REFUSED}[case]
    bad = tmp_path / "stores.yaml"
    bad.write_text(text)
    got = parse({"AIRFLOW_HOME": str(tmp_path), "SELLER_INBOX_STORES": str(bad)})
    assert got["dags"] == {}
    (err,) = got["errors"].values()
    last = err.strip().splitlines()[-1]
    assert f"{bad}: " in last and expect in last, err
    assert len(err.strip().splitlines()) <= 8 and len(err) < 2000, err
