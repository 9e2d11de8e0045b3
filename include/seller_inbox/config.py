"""The store registry: one YAML file, validated by pydantic, that says which stores exist.

The registry names Airflow connection ids, never credentials. Errors come out as one line
naming the file, the store and the field (``RegistryError``), in the CLI and as a DAG
import error alike. Whatever would break a DAG or a task later (a cron Airflow refuses, an
hour count ``timedelta`` overflows on, a folder name that walks out of the mailbox) is
refused here, and no message echoes more than a short clip of the input.
"""

from __future__ import annotations

import os
import re
import stat
from datetime import datetime, time, timezone
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from croniter import CroniterError, croniter
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError,
                      field_validator, model_validator)

from seller_inbox.domain import marketplaces as mp
from seller_inbox.domain.taxonomy import INTENTS
from seller_inbox.errors import FinalError

REGISTRY_ENV = "SELLER_INBOX_STORES"
DEFAULT_REGISTRY = Path(__file__).resolve().parent.parent / "stores.yaml"

Mode = Literal["listen", "draft", "auto"]
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_CONN_ID = re.compile(r"[A-Za-z0-9_.-]{1,250}")
_SELLER_ID = re.compile(r"[A-Z0-9]{1,32}")
_ROLE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]{0,30}(?:/[A-Za-z0-9_+-]{1,30}){0,2}")
# one item of a cron field: *, a number or three-letter name, a range, a step. Classic cron only
# (no L, W, # or ?), so that Airflow's timetable and its description both accept it.
_CRON_ITEM = r"(?:\*|\d{1,2}|[A-Za-z]{3})(?:-(?:\d{1,2}|[A-Za-z]{3}))?(?:/\d{1,2})?"
_CRON_FIELD = re.compile(_CRON_ITEM + "(?:," + _CRON_ITEM + ")*")

MAX_FILE_BYTES = 5 * 1024 * 1024   # a store takes well under 1 KB; more is a wrong file or an attack
MAX_STORES = 5000
MAX_REPLY_AGE_HOURS = 24 * 30      # older than a month is never a message to auto-answer
MAX_MESSAGE = 500                  # longest error line
_CLIP = 80                         # longest piece of input echoed in an error
_MAX_DEPTH = 16                    # the registry nests 5 levels; deeper YAML is refused before it is built
_YAML_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")}


class RegistryError(FinalError, ValueError):
    """A registry problem, already phrased as one line for a person to act on."""


def _show(value: object) -> str:
    """A piece of input as it may appear in an error: repr (escapes control characters), clipped."""
    if isinstance(value, (list, dict)):
        text = f"<a {type(value).__name__} of {len(value)} items>"
    elif isinstance(value, str):
        text = repr(value[:_CLIP])  # clip first: the value may be megabytes long
    elif isinstance(value, int) and value.bit_length() > 64:
        text = f"<a {value.bit_length()}-bit number>"
    else:
        text = repr(value)
    return text if len(text) <= _CLIP else text[: _CLIP - 3] + "..."


def _one_line(message: str) -> str:
    """Escape anything that would break the line (newlines, U+2028, lone surrogates) and bound the length."""
    message = message[: MAX_MESSAGE * 2]
    message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 3] + "..."


def _plain(value: str) -> str:
    """Text that is printed in UIs, logs and mails: no control or invisible characters, no edge spaces."""
    bad = next((c for c in value if not c.isprintable()), None)
    if bad is not None:
        raise ValueError(f"contains the control or invisible character U+{ord(bad):04X}; remove it")
    if value != value.strip():
        raise ValueError("has leading or trailing spaces; remove them")
    return value


Text = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_plain)]


def _conn_id(value: str) -> str:
    if not _CONN_ID.fullmatch(value):
        raise ValueError(f"{_show(value)} is not a valid Airflow connection id (letters, digits, '_', '.', '-')")
    return value


ConnId = Annotated[str, AfterValidator(_conn_id)]


def _folder(value: str) -> str:
    """A mailbox name as IMAP and the Maildir reader use it: never a path out of the mailbox."""
    if not 1 <= len(value) <= 255:
        raise ValueError("must be 1 to 255 characters")
    _plain(value)
    if "\\" in value or value.startswith("~"):
        raise ValueError(f"{_show(value)} is not a plain mailbox name (no '\\' or leading '~')")
    if any(part in ("", ".", "..") or part.startswith(".") for part in value.split("/")):
        raise ValueError(f"{_show(value)} is not a plain mailbox name: no absolute paths, no empty, '.' or '..' "
                         "parts, no leading '.' (e.g. INBOX, Sent, Archive/2026)")
    return value


def _role(value: str) -> str:
    if not _ROLE.fullmatch(value):
        raise ValueError(f"folder role {_show(value)}: use lower-case letters, digits or '_' (e.g. inbox, sent)")
    return value


def _cron_problem(expr: str) -> str | None:
    """Why Airflow's cron timetable would refuse ``expr`` (None: it accepts it)."""
    if len(expr) > 200:
        return f"{_show(expr)} is {len(expr)} characters; a cron expression is five short fields"
    return _cron_check(expr)


@lru_cache(maxsize=256)
def _cron_check(expr: str) -> str | None:
    """``_cron_problem`` for a short expression, cached: a thousand stores share a handful of crons."""
    fields = expr.split()
    if len(fields) != 5:
        return f"{_show(expr)} is not a 5-field cron expression (minute hour day month weekday, e.g. '0 * * * *')"
    bad = next((f for f in fields if not _CRON_FIELD.fullmatch(f)), None)
    if bad is not None:
        return f"{_show(expr)}: field {_show(bad)} is not classic cron (numbers, names, *, ',', '-', '/')"
    try:
        ref = datetime(2026, 1, 1, tzinfo=timezone.utc)
        croniter(expr, ref).get_next(datetime)
        croniter(expr, ref).get_prev(datetime)
    except (CroniterError, ValueError, OverflowError) as exc:
        return f"{_show(expr)} is not a valid cron expression: {str(exc)[:_CLIP]}"
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MarketplaceConfig(_Strict):
    code: str
    time_zone: str | None = None  # defaults to the marketplace's own zone

    @field_validator("code")
    @classmethod
    def _known(cls, v: str) -> str:
        try:
            mp.get(v if len(v) <= 8 else v[:8] + "...")  # a long code is unknown; its error stays short
        except KeyError as err:
            raise ValueError(err.args[0]) from None
        return v.upper()

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            if not _ZONE.fullmatch(v):
                raise ValueError(v)
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: 'America' is a directory
            raise ValueError(f"unknown time zone {_show(v)} (use an IANA name like Europe/Berlin)") from None
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone or mp.get(self.code).time_zone)

    @property
    def info(self) -> mp.Marketplace:
        return mp.get(self.code)


class Connections(_Strict):
    spapi: ConnId
    mailbox: ConnId
    smtp: ConnId


_HHMM = re.compile(r"(\d{1,2}):(\d\d)")


class QuietHours(_Strict):
    """Local time window (marketplace zone) in which nothing is sent automatically."""

    start: time = time(21, 0)
    end: time = time(8, 0)
    enabled: bool = True  # false: automatic replies go out around the clock

    @field_validator("start", "end", mode="before")
    @classmethod
    def _hhmm(cls, v: object) -> time:
        """Only "HH:MM": pydantic would read 1260 as 00:21 UTC, and YAML reads unquoted 21:00 as 1260."""
        if isinstance(v, time) and v.tzinfo is None:
            return v
        m = _HHMM.fullmatch(v) if isinstance(v, str) else None
        if m and int(m[1]) < 24 and int(m[2]) < 60:
            return time(int(m[1]), int(m[2]))
        if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 24 * 60:
            raise ValueError(f'write the time quoted, "{v // 60:02d}:{v % 60:02d}" '
                             f"(YAML reads an unquoted {v // 60}:{v % 60:02d} as the number {v})")
        raise ValueError(f'{_show(v)} is not a local time; write it quoted as "HH:MM", e.g. "21:00"')

    @model_validator(mode="after")
    def _not_empty(self) -> "QuietHours":
        if self.enabled and self.start == self.end:
            raise ValueError(f"start and end are equal ({self.start:%H:%M}), which would switch quiet hours off "
                             "silently; to send around the clock write quiet_hours: {enabled: false}")
        return self

    def contains(self, t: time) -> bool:
        if not self.enabled:
            return False
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


class AlertChannel(_Strict):
    type: str  # a key of alerts/channel_registry.py (one module per channel)
    conn_id: ConnId | None = None  # webhook URL / secret / addresses live in the connection
    min_risk: Literal["high", "medium", "low"] = "high"

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        from seller_inbox.alerts.channel_registry import TYPES

        if v not in TYPES:
            raise ValueError(f"unknown alert channel type {_show(v)}; types: {', '.join(TYPES)}")
        return v

    @model_validator(mode="after")
    def _needs_conn(self) -> "AlertChannel":
        from seller_inbox.alerts.channel_registry import NO_CONNECTION

        if self.type not in NO_CONNECTION and not self.conn_id:
            raise ValueError(f"alert channel {self.type!r} needs conn_id")
        return self


class Schedules(_Strict):
    """Cron expressions (UTC) of the store's DAGs; each run owns the interval before it."""

    pipeline: str = "0 * * * *"
    auth: str = "0 */6 * * *"
    deliver: str = "*/5 * * * *"   # the outbox is also drained whenever act queued something

    @field_validator("pipeline", "auth", "deliver")
    @classmethod
    def _cron(cls, v: str) -> str:
        problem = _cron_problem(v)
        if problem:
            raise ValueError(problem)
        return v


class GateSettings(_Strict):
    """Per-store data-quality settings (docs/data-quality.md): expectation levels by
    ``<stage>.<expectation name>`` (names as the suites and ``ops.dq_results`` show them),
    the share of a batch that may be set aside, and the mail volume below which an empty
    interval is a quiet one rather than a dead mailbox."""

    levels: dict[str, Literal["error", "quarantine", "warn"]] = Field(default_factory=dict, max_length=200)
    max_quarantine_share: float | None = Field(default=None, gt=0, le=1)
    min_expected_mails: float = Field(default=5, ge=0, le=100_000)

    @field_validator("levels")
    @classmethod
    def _known(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            return v
        from seller_inbox.gate_suites import all_expectations

        known = all_expectations()
        for key in v:
            if key not in known:
                near = sorted(k for k in known if k.split(".", 1)[0] == key.split(".", 1)[0])[:6]
                raise ValueError(f"unknown gate expectation {_show(key)} (use <stage>.<expectation>; e.g. "
                                 f"{', '.join(near or sorted(known)[:6])})")
        return v


def _default_folders() -> dict[str, str]:
    return {"inbox": "INBOX", "sent": "Sent"}


class StoreConfig(_Strict):
    id: str
    name: Text
    seller_id: str
    region: Literal["na", "eu", "fe"]
    marketplaces: list[MarketplaceConfig] = Field(min_length=1, max_length=len(mp.MARKETPLACES))
    connections: Connections
    modes: dict[str, Mode] = Field(default_factory=dict)  # intent -> mode; missing = default_mode
    default_mode: Mode = "listen"
    quiet_hours: QuietHours = QuietHours()
    alert_channels: list[AlertChannel] = Field(default_factory=lambda: [AlertChannel(type="log")], max_length=10)
    alert_language: Literal["zh", "en"] = "en"
    mail_folders: dict[Annotated[str, AfterValidator(_role)], Annotated[str, AfterValidator(_folder)]] = Field(
        default_factory=_default_folders, min_length=1, max_length=10)  # role -> mailbox name
    schedules: Schedules = Schedules()
    # never auto-reply to older messages (backfills); bounded so that timedelta(hours=...) cannot overflow
    max_reply_age_hours: int = Field(default=36, ge=1, le=MAX_REPLY_AGE_HOURS, strict=True)
    enabled: bool = True
    kill_switch: bool = False  # true: this store never sends, whatever its modes say
    # delivery limits read at send time (docs/delivery.md)
    daily_send_cap: int = Field(default=200, ge=1, le=100_000, strict=True)
    max_sends_per_order: int = Field(default=5, ge=1, le=100, strict=True)
    approval_ttl_hours: int = Field(default=48, ge=1, le=MAX_REPLY_AGE_HOURS, strict=True)
    hold_replies_in_quiet_hours: bool = False
    # proactive messages the daily scan queues (opt-in; docs/delivery.md): confirmDeliveryDetails =
    # a delivery confirmation with carrier and tracking number for merchant-fulfilled orders on their way
    proactive: list[Literal["confirmDeliveryDetails"]] = Field(default_factory=list, max_length=5)
    gates: GateSettings = GateSettings()

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.fullmatch(v):
            raise ValueError(f"{_show(v)}: use lower-case letters, digits, '-' or '_' (max 63)")
        return v

    @field_validator("seller_id")
    @classmethod
    def _seller_id(cls, v: str) -> str:
        if not _SELLER_ID.fullmatch(v):
            raise ValueError(f"{_show(v)}: an Amazon seller id is upper-case letters and digits, e.g. A1DEMOUSOUTDOOR")
        return v

    @field_validator("modes")
    @classmethod
    def _intents(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(INTENTS))
        if unknown:
            raise ValueError(f"unknown intent {_show(unknown[0])}; intents: {', '.join(INTENTS)}")
        return v

    @field_validator("alert_channels")
    @classmethod
    def _channels_once(cls, v: list[AlertChannel]) -> list[AlertChannel]:
        seen = set()
        for c in v:
            if (c.type, c.conn_id) in seen:
                raise ValueError(f"alert channel {c.type!r} with conn_id {c.conn_id!r} is listed twice (it would alert twice)")
            seen.add((c.type, c.conn_id))
        return v

    @field_validator("mail_folders")
    @classmethod
    def _folders_once(cls, v: dict[str, str]) -> dict[str, str]:
        names = list(v.values())
        twice = next((n for n in names if names.count(n) > 1), None)
        if twice is not None:
            raise ValueError(f"folder {_show(twice)} is given for two roles; each folder is read once")
        return v

    @model_validator(mode="after")
    def _region_matches(self) -> "StoreConfig":
        codes = [m.code for m in self.marketplaces]
        dupes = {c for c in codes if codes.count(c) > 1}
        if dupes:
            raise ValueError(f"marketplace {sorted(dupes)[0]} listed twice")
        for m in self.marketplaces:
            if m.info.region != self.region:
                raise ValueError(
                    f"marketplace {m.code} is in SP-API region {m.info.region}, not {self.region}"
                )
        return self

    def mode_for(self, intent: str) -> Mode:
        return self.modes.get(intent, self.default_mode)

    def marketplace(self, code: str) -> MarketplaceConfig:
        for m in self.marketplaces:
            if m.code == code:
                return m
        raise KeyError(f"store {self.id}: no marketplace {code}")

    @property
    def marketplace_codes(self) -> list[str]:
        return [m.code for m in self.marketplaces]


class Defaults(_Strict):
    owner: Text = "seller-ops"
    global_kill_switch: bool = False  # true: no store sends anything


class Registry(_Strict):
    defaults: Defaults = Defaults()
    stores: list[StoreConfig]

    @field_validator("stores", mode="before")
    @classmethod
    def _some(cls, v: object) -> object:
        if isinstance(v, list) and not v:
            raise ValueError("the list is empty; add at least one store (switch one off with enabled: false)")
        if isinstance(v, list) and len(v) > MAX_STORES:
            raise ValueError(f"{len(v)} stores; at most {MAX_STORES} fit in one registry")
        return v

    @field_validator("stores")
    @classmethod
    def _unique(cls, v: list[StoreConfig]) -> list[StoreConfig]:
        first: dict[str, int] = {}
        for i, s in enumerate(v):
            if s.id in first:
                raise ValueError(f"duplicate store id {s.id!r} (entries {first[s.id] + 1} and {i + 1}); ids must be unique")
            first[s.id] = i
        return v

    @property
    def enabled_stores(self) -> list[StoreConfig]:
        return [s for s in self.stores if s.enabled]

    def store(self, store_id: str) -> StoreConfig:
        for s in self.stores:
            if s.id == store_id:
                return s
        raise KeyError(f"no store {store_id!r} in the registry")


class _Refused(yaml.MarkedYAMLError):
    """Valid YAML that the registry refuses (duplicate key, anchor, tag, depth)."""


class _RegistryLoader(yaml.SafeLoader):
    """SafeLoader that refuses what a registry never needs and a mistake or an attack uses.

    Duplicate keys (YAML keeps the last one silently), anchors and aliases (an alias bomb
    expands to gigabytes), nesting deeper than the schema, and tags beyond strings, numbers,
    booleans, null, lists and mappings. Dates, merge keys and '=' stay plain strings.
    """

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag in _YAML_TAGS]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused(
                None, None, "anchors and aliases (&name, *name) are not allowed in the store registry; "
                "write each value out", event.start_mark)
        if self._depth >= _MAX_DEPTH:
            raise _Refused(
                None, None, f"nested more than {_MAX_DEPTH} levels deep; a store registry needs 5", event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node, deep=False):
        if node.tag not in _YAML_TAGS:
            raise _Refused(
                None, None, f"tag {_show(node.tag)} is not allowed in the store registry", node.start_mark)
        try:
            return super().construct_object(node, deep)
        # PyYAML's scalar constructors raise these on odd values: an integer of more than 4300
        # digits (ValueError), an empty '!!int' (IndexError), '!!bool maybe' (KeyError)
        except (ValueError, OverflowError, LookupError, TypeError) as exc:
            raise _Refused(
                None, None, f"cannot read this value: {_show(str(exc))}", node.start_mark) from None

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool, type(None))):
                    continue  # the base class reports an unhashable key
                if key in seen:
                    raise _Refused(
                        None, None, f"duplicate key {_show(key)} (first on line {seen[key]}); YAML would keep only "
                        "the last one: remove one", key_node.start_mark)
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def registry_path(path: str | os.PathLike | None = None) -> Path:
    return Path(path or os.environ.get(REGISTRY_ENV) or DEFAULT_REGISTRY)


def _scalar(mapping: yaml.Node, key: str) -> yaml.Node | None:
    """The value node of ``key`` in a composed mapping (None if absent or not a mapping)."""
    if not isinstance(mapping, yaml.MappingNode):
        return None
    return next((v for k, v in mapping.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)


def _store_at(root: yaml.Node | None, mark: yaml.Mark) -> str:
    """'store <id>: ' for the store entry of the composed document that holds ``mark``, else ''."""
    stores = _scalar(root, "stores")
    if not isinstance(stores, yaml.SequenceNode):
        return ""
    at = (mark.line, mark.column)
    for i, item in enumerate(stores.value):
        if (item.start_mark.line, item.start_mark.column) <= at < (item.end_mark.line, item.end_mark.column):
            sid = _scalar(item, "id")
            return f"store {_show(sid.value if isinstance(sid, yaml.ScalarNode) else f'#{i + 1}')}: "
    return ""


def _describe(err: ValidationError, data: dict) -> str:
    """Turn pydantic's error list into one line: store, field, problem, what to do."""
    e = err.errors()[0]
    loc = list(e["loc"])
    where = ""
    if len(loc) >= 2 and loc[0] == "stores" and isinstance(loc[1], int):
        stores = data.get("stores") or []
        entry = stores[loc[1]] if isinstance(stores, list) and loc[1] < len(stores) else None
        sid = entry.get("id", f"#{loc[1] + 1}") if isinstance(entry, dict) else f"#{loc[1] + 1}"
        where = f"store {_show(sid)}: "
        loc = loc[2:]
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{str(p)[:_CLIP]}" for p in loc).lstrip(".") or "(store)"
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "missing":
        msg = "is required"
    elif e["type"] == "extra_forbidden":
        msg = "is not a known field (check spelling)"
    more = f" (+{len(err.errors()) - 1} more)" if len(err.errors()) > 1 else ""
    return f"{where}field {field}: {msg}{more}"


def _read(p: Path) -> str:
    """The file's text, or a RegistryError saying why it cannot be read."""
    try:
        st = p.stat()
        if stat.S_ISREG(st.st_mode) and st.st_size <= MAX_FILE_BYTES:
            with open(p, "rb") as fh:
                raw = fh.read(MAX_FILE_BYTES + 1)  # the file may grow after stat
    except FileNotFoundError:
        raise RegistryError(f"store registry not found (set {REGISTRY_ENV} or create it)") from None
    except PermissionError:
        raise RegistryError("cannot be read: permission denied (check the file's owner and mode)") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise RegistryError(f"cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise RegistryError("is a directory, not the registry file (point at the .yaml file)")
    if not stat.S_ISREG(st.st_mode):
        raise RegistryError("is not a regular file (point at the .yaml file)")
    if st.st_size > MAX_FILE_BYTES or len(raw) > MAX_FILE_BYTES:
        raise RegistryError(f"is larger than {MAX_FILE_BYTES} bytes; a store registry is far smaller")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RegistryError(f"line {line}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None


def _parse(text: str) -> object:
    """YAML text to plain data with ``_RegistryLoader``; errors name the line (and the store when known)."""
    loader = root = None
    try:
        loader = _RegistryLoader(text)  # its reader already refuses control characters
        root = loader.get_single_node()
        return loader.construct_document(root) if root is not None else None
    except yaml.reader.ReaderError as exc:  # a control character in the file itself
        line = text[: exc.position].count("\n") + 1
        raise RegistryError(f"line {line}: not valid YAML: character #x{exc.character:04x}: {exc.reason}; "
                            "remove it") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}: " if mark else ""
        store = _store_at(root, mark) if mark else ""
        if isinstance(exc, _Refused):
            raise RegistryError(f"{at}{store}{exc.problem}") from None
        problem = ", ".join(str(x) for x in (getattr(exc, "context", None), getattr(exc, "problem", None)) if x)
        raise RegistryError(f"{at}{store}not valid YAML: {problem or exc}") from None
    except RecursionError:  # belt and braces: the depth limit above stops this first
        raise RegistryError("nested too deeply; a store registry needs 5 levels") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_registry(path: str | os.PathLike | None = None) -> Registry:
    """Read and validate the registry; raise RegistryError with a one-line message."""
    p = registry_path(path)
    try:
        data = _parse(_read(p))
        if data is None:
            data = {}
        if not isinstance(data, dict) or "stores" not in data:
            raise RegistryError("expected a mapping with a 'stores' list")
        try:
            return Registry.model_validate(data)
        except ValidationError as exc:
            raise RegistryError(_describe(exc, data)) from None
    except RegistryError as err:
        raise RegistryError(_one_line(f"{str(p)[:200]}: {err}")) from None


@lru_cache(maxsize=8)
def _cached(path: str, mtime_ns: int, size: int) -> Registry:
    return load_registry(path)


def get_registry(path: str | os.PathLike | None = None) -> Registry:
    """Registry cached per file version (DAG parsing and tasks call this often)."""
    p = registry_path(path)
    try:
        st = p.stat()
    except (OSError, ValueError):
        return load_registry(p)  # raises the one-line error
    return _cached(str(p), st.st_mtime_ns, st.st_size)


def get_store(store_id: str, path: str | os.PathLike | None = None) -> StoreConfig:
    return get_registry(path).store(store_id)
