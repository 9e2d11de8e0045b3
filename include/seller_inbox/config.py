"""The store registry: one YAML file, validated by pydantic, that says which stores exist.

The registry names Airflow connection ids, never credentials. Errors come out as one line
naming the file, the store and the field (``RegistryError``), in the CLI and as a DAG
import error alike.
"""

from __future__ import annotations

import os
import re
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from seller_inbox import marketplaces as mp

REGISTRY_ENV = "SELLER_INBOX_STORES"
DEFAULT_REGISTRY = Path(__file__).resolve().parent.parent / "stores.yaml"

Mode = Literal["listen", "draft", "auto"]
INTENTS = (
    "order_status", "not_received", "damaged_defective", "wrong_item", "return_refund",
    "cancel_order", "address_change", "size_fit", "product_question", "invoice_request",
    "feedback_review", "other", "a_to_z_claim", "account_health", "auto_reply",
)
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_CONN_ID = re.compile(r"^[A-Za-z0-9_.-]{1,250}$")


class RegistryError(ValueError):
    """A registry problem, already phrased as one line for a person to act on."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MarketplaceConfig(_Strict):
    code: str
    time_zone: str | None = None  # defaults to the marketplace's own zone

    @field_validator("code")
    @classmethod
    def _known(cls, v: str) -> str:
        try:
            mp.get(v)
        except KeyError as err:
            raise ValueError(err.args[0]) from None
        return v.upper()

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name like Europe/Berlin)") from None
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone or mp.get(self.code).time_zone)

    @property
    def info(self) -> mp.Marketplace:
        return mp.get(self.code)


class Connections(_Strict):
    spapi: str
    mailbox: str
    smtp: str

    @field_validator("spapi", "mailbox", "smtp")
    @classmethod
    def _conn_id(cls, v: str) -> str:
        if not _CONN_ID.match(v):
            raise ValueError(f"{v!r} is not a valid Airflow connection id")
        return v


class QuietHours(_Strict):
    """Local time window (marketplace zone) in which nothing is sent automatically."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    def contains(self, t: time) -> bool:
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


class AlertChannel(_Strict):
    type: Literal["log", "wecom", "dingtalk", "slack", "email"]
    conn_id: str | None = None  # webhook URL / secret / addresses live in the connection
    min_risk: Literal["high", "medium", "low"] = "high"

    @model_validator(mode="after")
    def _needs_conn(self) -> "AlertChannel":
        if self.type != "log" and not self.conn_id:
            raise ValueError(f"alert channel {self.type!r} needs conn_id")
        return self


class Schedules(_Strict):
    """Cron expressions (UTC) of the store's DAGs; each run owns the interval before it."""

    pipeline: str = "0 * * * *"
    auth: str = "0 */6 * * *"

    @field_validator("pipeline", "auth")
    @classmethod
    def _cron(cls, v: str) -> str:
        if len(v.split()) != 5:
            raise ValueError(f"{v!r} is not a 5-field cron expression")
        return v


class StoreConfig(_Strict):
    id: str
    name: str
    seller_id: str
    region: Literal["na", "eu", "fe"]
    marketplaces: list[MarketplaceConfig] = Field(min_length=1)
    connections: Connections
    modes: dict[str, Mode] = Field(default_factory=dict)  # intent -> mode; missing = default_mode
    default_mode: Mode = "listen"
    quiet_hours: QuietHours = QuietHours()
    alert_channels: list[AlertChannel] = Field(default_factory=lambda: [AlertChannel(type="log")])
    alert_language: Literal["zh", "en"] = "en"
    mail_folders: dict[str, str] = Field(default_factory=lambda: {"inbox": "INBOX", "sent": "Sent"})
    schedules: Schedules = Schedules()
    max_reply_age_hours: int = Field(default=36, ge=1)  # never auto-reply to older messages (backfills)
    enabled: bool = True
    kill_switch: bool = False  # true: this store never sends, whatever its modes say

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"{v!r}: use lower-case letters, digits, '-' or '_' (max 63)")
        return v

    @field_validator("modes")
    @classmethod
    def _intents(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(INTENTS))
        if unknown:
            raise ValueError(f"unknown intent {unknown[0]!r}; intents: {', '.join(INTENTS)}")
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
    owner: str = "seller-ops"
    global_kill_switch: bool = False  # true: no store sends anything


class Registry(_Strict):
    defaults: Defaults = Defaults()
    stores: list[StoreConfig]

    @model_validator(mode="after")
    def _unique(self) -> "Registry":
        seen: set[str] = set()
        for s in self.stores:
            if s.id in seen:
                raise ValueError(f"duplicate store id {s.id!r}")
            seen.add(s.id)
        return self

    @property
    def enabled_stores(self) -> list[StoreConfig]:
        return [s for s in self.stores if s.enabled]

    def store(self, store_id: str) -> StoreConfig:
        for s in self.stores:
            if s.id == store_id:
                return s
        raise KeyError(f"no store {store_id!r} in the registry")


def registry_path(path: str | os.PathLike | None = None) -> Path:
    return Path(path or os.environ.get(REGISTRY_ENV) or DEFAULT_REGISTRY)


def _describe(err: ValidationError, data: dict, path: Path) -> str:
    """Turn pydantic's error list into one line: file, store, field, problem, what to do."""
    e = err.errors()[0]
    loc = list(e["loc"])
    where = ""
    if len(loc) >= 2 and loc[0] == "stores" and isinstance(loc[1], int):
        stores = data.get("stores") or []
        sid = stores[loc[1]].get("id", f"#{loc[1] + 1}") if loc[1] < len(stores) and isinstance(stores[loc[1]], dict) else f"#{loc[1] + 1}"
        where = f"store {sid!r}"
        loc = loc[2:]
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "(store)"
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "missing":
        msg = "is required"
    elif e["type"] == "extra_forbidden":
        msg = "is not a known field (check spelling)"
    more = f" (+{len(err.errors()) - 1} more)" if len(err.errors()) > 1 else ""
    parts = [str(path)] + ([where] if where else []) + [f"field {field}: {msg}{more}"]
    return ": ".join(parts)


def load_registry(path: str | os.PathLike | None = None) -> Registry:
    """Read and validate the registry; raise RegistryError with a one-line message."""
    p = registry_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegistryError(f"{p}: store registry not found (set {REGISTRY_ENV} or create it)") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark else ""
        raise RegistryError(f"{p}:{at} not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict) or "stores" not in data:
        raise RegistryError(f"{p}: expected a mapping with a 'stores' list")
    try:
        return Registry.model_validate(data)
    except ValidationError as exc:
        raise RegistryError(_describe(exc, data, p)) from None


@lru_cache(maxsize=8)
def _cached(path: str, mtime: float) -> Registry:
    return load_registry(path)


def get_registry(path: str | os.PathLike | None = None) -> Registry:
    """Registry cached per file version (DAG parsing and tasks call this often)."""
    p = registry_path(path)
    try:
        mtime = p.stat().st_mtime
    except FileNotFoundError:
        return load_registry(p)
    return _cached(str(p), mtime)


def get_store(store_id: str, path: str | os.PathLike | None = None) -> StoreConfig:
    return get_registry(path).store(store_id)
