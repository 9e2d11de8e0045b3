"""Great Expectations Data Docs of the gates' validations (docs/data-quality.md).

One directory, ``$SELLER_INBOX_DATA_DOCS`` or ``<home>/data-docs``, shared by every worker that
runs gates and by the API server that serves it (several machines: a shared path)::

    expectations/   the suites as validated (one per store, stage and batch), JSON
    validations/    every gate run's validation results, JSON (kept RETENTION_DAYS)
    site/           the Data Docs HTML the UI serves (``index.html`` first)

Every gate run stores its results (cheap); HTML is rendered at once only for a gate run with a
failed expectation, or one re-validating an interval whose failure is on the site (so its fix
shows too). ``seller-inbox data-docs build`` renders the rest and the index. Writers
take an exclusive ``flock`` on ``.lock`` and every file is written to a temporary name and
renamed, so two tasks never interleave and a reader never sees half a page.

GX is imported inside functions only: importing it costs seconds and the UI, which only
reads files from here, never needs it.
"""

from __future__ import annotations

import fcntl
import html
import logging
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

ENV = "SELLER_INBOX_DATA_DOCS"
BUILD_COMMAND = "seller-inbox data-docs build"
RETENTION_DAYS = 30  # validation results older than this are deleted (their pages with them)
INDEX_LIMIT = 300  # the index lists (and loads) at most this many of the newest validations
MAX_INDEX_ROWS = 200  # failing rows listed (by key) per expectation on a validation page
LOCK_TIMEOUT_S = 60.0
SITE_NAME = "local_site"
_SAFE_TYPES = (bool, int, float, type(None))


def root() -> Path:
    """Where the Data Docs project lives: ``$SELLER_INBOX_DATA_DOCS`` or ``<home>/data-docs``."""
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    from seller_inbox.paths import home

    return home() / "data-docs"


def site_dir(base: Path | None = None) -> Path:
    """The HTML site: what the UI serves."""
    return (base or root()) / "site"


# ------------------------------------------------------------------ locking and atomic files
class DocsBusy(RuntimeError):
    pass


@contextmanager
def _locked(base: Path, timeout: float = LOCK_TIMEOUT_S):
    """Exclusive lock of the docs directory across processes (flock: released if the holder dies)."""
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".lock", "a+") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DocsBusy(f"Data Docs at {base} stayed locked for {timeout:.0f} s") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_atomic(path: str, data: bytes) -> None:
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@lru_cache(maxsize=1)
def _atomic_backend_class():
    from great_expectations.data_context.store.tuple_store_backend import TupleFilesystemStoreBackend

    class AtomicFilesystemStoreBackend(TupleFilesystemStoreBackend):
        """GX's filesystem store backend, writing each file to a temporary name and renaming it."""

        def _set(self, key, value, **kwargs):
            if not isinstance(key, tuple):
                key = key.to_tuple()
            path = os.path.join(self.full_base_directory, self._convert_key_to_filepath(key))
            _write_atomic(path, value.encode("utf-8") if isinstance(value, str) else value)
            return path

        def list_keys(self, prefix=()):
            return [k for k in super().list_keys(prefix) if not str(k[-1]).startswith(".tmp-")]

    return AtomicFilesystemStoreBackend


def __getattr__(name: str):
    # GX instantiates store backends by module and class name; the class is built on first use
    # so that importing this module (the UI does) does not import GX.
    if name == "AtomicFilesystemStoreBackend":
        return _atomic_backend_class()
    raise AttributeError(name)


# ------------------------------------------------------------------ the GX project
def _context(base: Path):
    """An in-memory GX context whose suites, validation results and Data Docs site are files under base."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    def backend(sub: str) -> dict:
        return {"class_name": "AtomicFilesystemStoreBackend", "module_name": __name__,
                "root_directory": str(base), "base_directory": sub}

    defaults = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    stores = dict(defaults.stores)
    stores[defaults.expectations_store_name] = {"class_name": "ExpectationsStore", "store_backend": backend("expectations/")}
    stores[defaults.validation_results_store_name] = {"class_name": "ValidationResultsStore",
                                                      "store_backend": backend("validations/")}
    cfg = DataContextConfig(
        store_backend_defaults=defaults, stores=stores, analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        data_docs_sites={SITE_NAME: {
            "class_name": "SiteBuilder", "show_how_to_buttons": False, "store_backend": backend("site/"),
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "validation_results_limit": INDEX_LIMIT},
        }})
    return gx.get_context(mode="ephemeral", project_config=cfg)


def suite_name(store_id: str, stage: str, batch: str) -> str:
    """``<store>.<stage>.<batch>``: levels and value sets differ per store, so do the suites."""
    return f"{store_id}.{stage}.{batch}"


def run_name(start: datetime, end: datetime) -> str:
    """The gate's interval, filesystem- and URL-safe (GX makes it a directory of the site)."""
    return f"{start.astimezone(timezone.utc):%Y-%m-%dT%H%MZ}_{end.astimezone(timezone.utc):%Y-%m-%dT%H%MZ}"


def _escape(v):
    """HTML-escape every string: GX's page templates insert values unescaped, and the values come
    from mail (a Message-ID is the sender's choice) while the pages are served on Airflow's origin."""
    if isinstance(v, str):
        return html.escape(v, quote=True)
    if isinstance(v, dict):
        return {k: _escape(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_escape(x) for x in v]
    return v


def _scrub(res: dict, key: list[str], column: str | None) -> dict:
    """A result for the docs without personal data: failing rows by their key columns only; the
    failing values themselves only when they are the key or not text (a message body that failed
    'no unredacted e-mail address' holds that address)."""
    keep_values = column in key

    def safe(v):
        return v if keep_values or isinstance(v, _SAFE_TYPES) else "[hidden]"

    def rows(lst):
        return [{k: (v if k in key else safe(v)) for k, v in row.items()} if isinstance(row, dict) else row
                for row in lst[:MAX_INDEX_ROWS]]

    out = {k: v for k, v in res.items() if k not in ("unexpected_list", "unexpected_index_query")}
    if "partial_unexpected_list" in out:
        out["partial_unexpected_list"] = [safe(v) for v in out["partial_unexpected_list"]]
    if "partial_unexpected_counts" in out:
        out["partial_unexpected_counts"] = [{**c, "value": safe(c.get("value"))} for c in out["partial_unexpected_counts"]]
    for k in ("partial_unexpected_index_list", "unexpected_index_list"):
        if k in out:
            out[k] = rows(out[k])
    return out


# ------------------------------------------------------------------ writing
def record(kept: list[tuple], store_id: str, stage: str, start: datetime, end: datetime, run_id: str = "",
           render: bool = False, levels: dict | None = None) -> list | None:
    """Store one gate run's validation results; render their pages and the index when ``render``
    (a failed expectation) or when this interval already has a rendered page (its fix shows).
    ``kept``: ``(batch, key, suite, result)`` from the gate, consumed already (scrubbed in place);
    ``levels``: ``(batch, name) -> level`` as the gate finally judged (a quarantine escalated to error).
    Never raises: the docs are a view of the gate, not part of its verdict."""
    if not kept:
        return None
    try:
        return _record(kept, store_id, stage, start, end, run_id, render, levels or {})
    except Exception as exc:  # noqa: BLE001 - a docs problem must never change a gate's outcome
        log.warning("store %s: Data Docs of gate %s not written (%s: %s); the gate's outcome stands, see "
                    "ops.gate_run", store_id, stage, type(exc).__name__, str(exc).splitlines()[0][:300] if str(exc) else "")
        return None


def _record(kept, store_id, stage, start, end, run_id, render, levels) -> list:
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    base = root()
    rid = RunIdentifier(run_name=run_name(start, end), run_time=datetime.now(timezone.utc))
    with _locked(base):
        ctx = _context(base)
        keys = []
        for batch, key, suite, result in kept:
            name = suite.name
            doc = suite.to_json_dict()
            doc.pop("id", None)
            doc["meta"] = {**(doc.get("meta") or {}), "store": store_id, "stage": stage,
                           "batch": batch, "key": list(key)}
            for e in doc["expectations"]:
                e.pop("id", None)
                e["kwargs"] = _escape(e["kwargs"])
            ctx.suites.add_or_update(gx.ExpectationSuite(**doc))
            result.meta = {**result.meta, "run_id": rid, "store": store_id, "stage": stage, "batch": batch,
                           "interval": f"{start.isoformat()} – {end.isoformat()}", "airflow_run_id": _escape(run_id),
                           "batch_spec": {**result.meta.get("batch_spec", {}), "data_asset_name": f"{stage}.{batch}"}}
            for r in result.results:
                cfg = r.expectation_config
                column = cfg.kwargs.get("column") if cfg else None
                r.result = _escape(_scrub(r.result or {}, list(key), column))
                r.exception_info = _escape(r.exception_info or {})
                if cfg:  # the gate's name and level head each row (GX's full wording is on the suite's page)
                    attrs = (cfg.meta or {}).get("attributes", {})
                    level = levels.get((batch, attrs.get("name")), attrs.get("level"))
                    cfg.description = _escape(f"{attrs.get('name')} · level {level} · {cfg.type}({column or ''})")
                    cfg.kwargs = _escape(cfg.kwargs)
            suite_key = ExpectationSuiteIdentifier(name=name)
            vkey = ValidationResultIdentifier(expectation_suite_identifier=suite_key, run_id=rid, batch_identifier=store_id)
            ctx.validation_results_store.set(vkey, result)
            keys += [suite_key, vkey]
            render = render or _page_dir(base, vkey).exists()
        if render:
            _prune(base)
            ctx.build_data_docs(site_names=[SITE_NAME], resource_identifiers=keys)
    return keys


def _page_dir(base: Path, vkey) -> Path:
    """The site's directory of this suite's pages for this interval (any run time)."""
    suite_parts = vkey.expectation_suite_identifier.name.split(".")
    return site_dir(base) / "validations" / Path(*suite_parts) / vkey.run_id.run_name


def _prune(base: Path) -> int:
    """Delete validation results older than RETENTION_DAYS (the index build then drops their pages)."""
    cutoff = time.time() - timedelta(days=RETENTION_DAYS).total_seconds()
    n = 0
    for dirpath, _dirs, files in os.walk(base / "validations"):
        for f in files:
            p = os.path.join(dirpath, f)
            if f.endswith(".json") and os.path.getmtime(p) < cutoff:
                os.unlink(p)
                n += 1
    return n


def build(base: Path | None = None) -> Path:
    """Render every stored validation (the newest INDEX_LIMIT) and the index; returns index.html."""
    base = base or root()
    with _locked(base, timeout=10 * LOCK_TIMEOUT_S):
        _prune(base)
        ctx = _context(base)
        ctx.build_data_docs(site_names=[SITE_NAME])
    return site_dir(base) / "index.html"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["build"]:
        print(f"usage: {BUILD_COMMAND}   (Data Docs under ${ENV} or <home>/data-docs)", file=sys.stderr)
        return 2
    base = root()
    if not (base / "validations").is_dir():
        print(f"no validation results under {base}/validations yet: run a pipeline (its gates store them), "
              f"or point {ENV} at the shared Data Docs directory", file=sys.stderr)
        return 1
    try:
        index = build(base)
    except DocsBusy as exc:
        print(f"{exc}; try again when the running gates are done", file=sys.stderr)
        return 1
    print(f"Data Docs built: {index}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
