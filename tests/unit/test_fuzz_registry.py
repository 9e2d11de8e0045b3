"""Fuzzing the store registry loader: whatever the file holds, the outcome is a usable
Registry or a RegistryError of one line of at most 500 characters — never another exception.

Inputs: random text and bytes, YAML built from tricky fragments (anchors, tags, duplicate
keys, deep nesting), and the demo registry with one field set to a random value of a random
type. A registry that validates must also be usable the way the DAGs and tasks use it, and a
cron it accepts must be accepted by Airflow's own cron timetable.
"""

from __future__ import annotations

import copy
from datetime import datetime, time, timedelta, timezone
from pathlib import Path, PurePosixPath

import pytest
import yaml
from croniter import croniter
from hypothesis import example, given, settings
from hypothesis import strategies as st

from seller_inbox.config import MAX_MESSAGE, RegistryError, load_registry

DEMO = Path(__file__).resolve().parents[2] / "include" / "stores.yaml"
DEMO_DATA = yaml.safe_load(DEMO.read_text())
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def reg_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "stores.yaml"


def outcome(path: Path):
    """Load ``path``; the only outcomes allowed are a usable Registry or a bounded one-line error."""
    try:
        reg = load_registry(path)
    except RegistryError as err:
        msg = str(err)
        assert "\n" not in msg and len(msg.splitlines()) == 1, msg[:1000]
        assert len(msg) <= MAX_MESSAGE, (len(msg), msg[:1000])
        msg.encode("utf-8")  # no lone surrogates: printable on any UTF-8 stderr
        return msg
    for s in reg.stores:  # used the way DAGs and tasks use it: nothing here may raise
        assert T0 - timedelta(hours=s.max_reply_age_hours) < T0
        s.quiet_hours.contains(time(12, 0))
        for m in s.marketplaces:
            T0.astimezone(m.zone)
        for cron in (s.schedules.pipeline, s.schedules.auth):
            croniter(cron, T0).get_next(datetime)
        for folder in s.mail_folders.values():
            parts = PurePosixPath(folder).parts
            assert not PurePosixPath(folder).is_absolute() and ".." not in parts, folder
        for text in (s.id, s.name, s.seller_id, *s.connections.model_dump().values(), *s.mail_folders.values()):
            assert text.isprintable() and text.encode("utf-8"), text
    return reg


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- random text and bytes
@given(st.text(max_size=400))
@example("stores: [")
@example("\x1f")                                            # PyYAML's reader raised before parsing began
@example("stores:\n- id: a\n  id: b\n")
@example("stores: [{id: 2026-13-45}]")                      # an impossible date: a ValueError inside PyYAML
@example("stores: !!timestamp 2026-13-45")
@example("stores: " + "9" * 5000)                           # more digits than int() reads
@example("? [a]\n: b\n")                                    # an unhashable key
@example("stores: {\u2028: 1}")
@example("\ufeffstores: []")
@example("<<: {stores: []}")
@example("stores: [&a [*a]]")                               # a recursive alias
@example("=: 1")
@example("%YAML 1.1\n---\nstores: ~\n")
def test_random_text(reg_file, text):
    outcome(_write(reg_file, text.encode("utf-8", "surrogatepass")))


@given(st.binary(max_size=400))
@example(b"\xff\xfe" + "stores: []".encode("utf-16-le"))
@example(b"stores: [\x00]")
def test_random_bytes(reg_file, data):
    outcome(_write(reg_file, data))


# --------------------------------------------------------------------------- YAML from tricky fragments
FRAGMENTS = [
    "stores:", "defaults:", "\n", "\n  ", "\n    ", "- ", "id: ", "name: ", "quiet_hours: ", "start: ",
    "schedules: ", "pipeline: ", "mail_folders: ", "max_reply_age_hours: ", "&a ", "&b ", "*a", "*b", "<<: ",
    "!!binary ", "!!timestamp ", "!!set ", "!!omap ", "!!python/tuple ", "!ref ", "!!str ", "!!int ",
    "[", "]", "{", "}", ": ", ", ", "'", '"', "\\x00", "\\u2028", "\\uD800", "? ", "|\n  ", ">\n  ",
    "---\n", "...\n", "21:00", "2026-13-45", "1e999", ".nan", "0x1F", "0o17", "1_000", "9" * 300,
    "us-outdoor", "INBOX", "../..", "/etc", "99 99 * * *", "0 0 31 2 *", "Europe/Berlin", "America", "~",
    "null", "yes", "NO", "\t", "#", "%TAG ! tag:x,2000:\n",
]


@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), max_size=40))
@example(["stores:", "\n", "- ", "id: ", "&a ", "x", "\n  ", "name: ", "*a"])
@example(["stores:", "\n", "- ", "id: ", "x", "\n  ", "id: ", "y"])
@example(["stores: ", "[" * 200, "]" * 200])
@example(["\x1f"])
@example(["!!int "])                                        # IndexError inside PyYAML
@example(["stores: ", "!!bool ", "maybe"])                  # KeyError inside PyYAML
@example(["!!float ", "x"])
def test_yaml_fragments(reg_file, parts):
    outcome(_write(reg_file, "".join(parts).encode("utf-8", "surrogatepass")))


# --------------------------------------------------------------------------- the real schema, one field random
def _paths(node, prefix=()):
    """Every path into the demo data, plus the schema's fields the demo leaves at their defaults."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


STORE_DEFAULTED = [("max_reply_age_hours",), ("enabled",), ("kill_switch",), ("mail_folders",), ("mail_folders", "sent"),
                   ("mail_folders", "inbox"), ("schedules", "auth"), ("quiet_hours", "enabled"), ("alert_channels", 0, "conn_id"),
                   ("alert_channels", 0, "min_risk"), ("connections", "extra")]
PATHS = sorted(set(_paths(DEMO_DATA)) | {("stores", 0) + p for p in STORE_DEFAULTED}
               | {("defaults", "global_kill_switch"), ("defaults", "owner")}, key=repr)

INTERESTING = st.sampled_from([
    "99 99 * * *", "0 0 31 2 *", "0 0 L * *", "*/0 * * * *", "0-59/1000000000000000000000 * * * *", "@daily",
    "21:00", "24:00", "08:00", "21:00+02:00", 1260, -1, 0, 10**12, 2**63, 1e308, float("inf"), float("nan"),
    "../../../../etc", "/etc/passwd", "INBOX/..", ".Sent", "~root", "a\\b", "", " ", "\x00", "x\u2028y", "\ud800",
    "America", "Europe/Berlin", "../../etc/passwd", "UTC\x00", "A" * 300, "log", "pager", "slack", "auto", "send",
    "US", "XX", "us", "na", "eu", True, False, None, [], {}, {"type": "slack"}, [{"type": "log"}, {"type": "log"}],
    {"start": "08:00", "end": "08:00"}, {"enabled": False}, {"inbox": "INBOX", "sent": "INBOX"},
])
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats() | st.text(max_size=30) | INTERESTING,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10) | st.sampled_from(
        ["id", "code", "type", "start", "end", "inbox", "sent", "pipeline"]), inner, max_size=4),
    max_leaves=8,
)


def _has(node, key) -> bool:
    return isinstance(node, dict) and key in node or isinstance(node, list) and isinstance(key, int) and key < len(node)


def _set(data, path, value, op):
    """Apply one edit at ``path`` (set, delete, or duplicate a list entry); skip it if the path is gone."""
    if not path:
        return value if op == "set" else data
    parent = data
    for p in path[:-1]:
        if not _has(parent, p):
            return data
        parent = parent[p]
    key = path[-1]
    if not (isinstance(parent, dict) or _has(parent, key)):  # a dict may gain a key; a list only changes entries
        return data
    if op == "delete":
        if isinstance(parent, dict):
            parent.pop(key, None)
        else:
            del parent[key]
    elif op == "duplicate":
        if isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
    else:
        parent[key] = value
    return data


@settings(max_examples=300)
@given(st.lists(st.tuples(st.sampled_from(PATHS), VALUES, st.sampled_from(["set", "set", "set", "delete", "duplicate"])),
                min_size=1, max_size=3), st.booleans())
@example([(("stores", 0, "max_reply_age_hours"), 10**12, "set")], False)
@example([(("stores", 0, "quiet_hours"), {"start": "08:00", "end": "08:00"}, "set")], False)
@example([(("stores", 0, "quiet_hours", "start"), 1260, "set")], False)
@example([(("stores", 0, "mail_folders"), {"inbox": "INBOX", "sent": "../../../../etc"}, "set")], False)
@example([(("stores", 0, "schedules", "pipeline"), "99 99 * * *", "set")], False)
@example([(("stores", 2, "marketplaces", 0, "time_zone"), "America", "set")], False)
@example([(("stores", 0, "name"), "\ud800", "set")], True)
@example([(("stores", 0, "id"), "a" * 100_000, "set")], False)
@example([(("stores",), [], "set")], False)
@example([(("stores", 0), None, "duplicate")], False)
@example([(("stores", 1, "marketplaces"), None, "set"), (("stores", 1, "marketplaces", 1), None, "delete")], False)
def test_schema_with_random_values(reg_file, edits, unicode):
    data = copy.deepcopy(DEMO_DATA)
    for path, value, op in edits:
        data = _set(data, path, copy.deepcopy(value), op)
    text = yaml.safe_dump(data, allow_unicode=unicode, sort_keys=False)
    outcome(_write(reg_file, text.encode("utf-8", "surrogatepass")))


# --------------------------------------------------------------------------- crons: ours agree with Airflow's
CRON_ITEM = st.sampled_from(["*", "0", "5", "7", "12", "23", "29", "30", "31", "59", "60", "99", "mon", "fri", "jan",
                             "dec", "xyz", "L", "W", "15W", "1#2", "?", "H", "-1", "1000000000000000000000"])
CRON_FIELD = st.builds(lambda a, b, step: a + (f"-{b}" if b else "") + (f"/{step}" if step else ""),
                       CRON_ITEM, st.none() | CRON_ITEM, st.none() | st.sampled_from(["0", "1", "2", "6", "15", "61", "999"]))
CRON = st.lists(st.lists(CRON_FIELD, min_size=1, max_size=3).map(",".join), min_size=4, max_size=6).map(" ".join)


@given(CRON)
@example("0-59/1000000000000000000000 * * * *")   # Airflow takes it; the registry refuses a 22-digit step
@example("0 0 31 4 *")                            # croniter parses it, but it never fires
@example("* * * * *")                             # the scheduler needs pendulum datetimes here
@example("* *,* * * *")
@example("0 0 31 4,5 *")
@example("*/15 6-22 * * mon-fri")
def test_a_cron_the_registry_accepts_is_one_airflow_schedules(reg_file, cron):
    import pendulum
    from airflow.sdk import CronDataIntervalTimetable as SdkCron
    from airflow.serialization.encoders import encode_timetable
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.interval import CronDataIntervalTimetable as CoreCron

    data = copy.deepcopy(DEMO_DATA)
    data["stores"][0]["schedules"] = {"pipeline": cron}
    got = outcome(_write(reg_file, yaml.safe_dump(data).encode()))
    if isinstance(got, str):
        assert "field schedules.pipeline:" in got, got
        return
    sdk = SdkCron(cron, timezone="UTC")  # what the DAG file builds
    sdk.validate()
    encode_timetable(sdk)                # what the DAG processor serializes
    core = CoreCron(cron, "UTC")         # what the scheduler runs ('* *,* * * *' has no UI description: fine)
    start = pendulum.instance(T0)  # Airflow's timetables take pendulum datetimes
    nxt = core.next_dagrun_info(last_automated_data_interval=None, restriction=TimeRestriction(start, None, False))
    assert nxt is not None and nxt.data_interval.end > nxt.data_interval.start
