"""MailboxTrigger: one per store, run by Airflow's triggerer as the watcher of the asset
``seller_inbox://mail/<store>``; every event it yields becomes an asset event that starts the
store's urgent DAG (``si_<store>_urgent``).

* IMAP (``conn_type=imap``): holds one connection in IDLE on the inbox folder (read-only,
  EXAMINE). ``* n EXISTS`` ends the IDLE; the folder is examined again and an event is yielded
  when UIDNEXT grew. IDLE is renewed every ``idle_renew_s`` (servers drop an IDLE after 30 min;
  RFC 9051 says renew before 29). A dropped or dead connection (EOF, reset, no answer within
  ``command_timeout_s``) is reconnected with exponential backoff and jitter up to
  ``backoff_max_s``; on reconnection an event is yielded if UIDNEXT moved during the outage, so
  mail that arrived then is not missed. Unreachable for ``alert_after_s`` (or stopped for good):
  the incident ``si_<store>_urgent.mailbox_watcher`` opens, the store's channels hear it once,
  and once more when it recovers.
* Maildir (``conn_type=maildir``, the embedded default): polls the inbox's ``new/`` (where a
  delivery agent puts mail) and ``cur/`` (where the demo writes it) every ``poll_s`` (a ``stat``
  of each directory; a listing only when one changed) and yields an event when a mail's unique
  name appears. No new dependency for inotify.

The last UIDNEXT (or the newest file time in the Maildir) is kept in the asset's state store, so a triggerer
restart also yields an event for mail that came while nothing watched. The events only say
"look now": the urgent run reads from the store's watermark (``ops.ingest_watermark``) and
skips what is already stored, so nothing is read twice and a lost event costs a delay, not
mail (the scheduled pipeline stays the safety net).

``serialize()`` carries the store and connection ids and timings only: the connection (and
its password) is resolved inside the triggerer. Payload of an event: ``store``, ``source``,
``reason`` (``idle``, ``reconnect``, ``start``, ``new``), ``uidvalidity``, ``uidnext`` and
``previous_uidnext`` (IMAP) or ``files`` (Maildir), ``seen_at``.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
from datetime import datetime, timezone
from typing import Any, AsyncIterator

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

CLASSPATH = "seller_inbox.realtime.watch.MailboxTrigger"
IDLE_RENEW_S = 25 * 60.0      # below the 29 minutes RFC 9051 asks clients to stay under
POLL_S = 1.0                  # Maildir: a stat of new/ per second
BACKOFF_MAX_S = 60.0
COMMAND_TIMEOUT_S = 30.0
ALERT_AFTER_S = 300.0         # a mailbox unreachable this long is an incident (store's channels hear it once)
_STATE_KEY = "mailbox"
_CODE = re.compile(rb"\[(UIDNEXT|UIDVALIDITY) (\d+)\]", re.I)


class ImapGone(Exception):
    """The IMAP server closed the connection, refused a command, or stopped answering."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _quote(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("IMAP login or password contains a line break")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def inbox_folder(extra: dict, default: str) -> str:
    """The connection's ``folders`` override for the inbox (as ``sources.folders_for`` reads it), else ``default``."""
    over = (extra or {}).get("folders")
    if isinstance(over, dict) and over.get("inbox"):
        return str(over["inbox"])
    if isinstance(over, (list, tuple)) and over:
        return str(over[0])
    return default


class ImapIdle:
    """A minimal asyncio IMAP client: LOGIN, EXAMINE, IDLE, DONE, LOGOUT (nothing else is needed)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float):
        self.reader, self.writer, self.timeout, self._n = reader, writer, timeout, 0

    @classmethod
    async def connect(cls, host: str, port: int | None, *, use_ssl: bool, starttls: bool,
                      timeout: float) -> "ImapIdle":
        import ssl

        ctx = ssl.create_default_context() if (use_ssl or starttls) else None
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port or (993 if use_ssl else 143),
                                                           ssl=ctx if use_ssl else None)
        client = cls(reader, writer, timeout)
        greeting = await client.line()
        if not greeting.startswith(b"* OK") and not greeting.startswith(b"* PREAUTH"):
            raise ImapGone(f"unexpected IMAP greeting {greeting[:80]!r}")
        if starttls:
            await client.command("STARTTLS")
            await writer.start_tls(ctx)
        return client

    async def line(self, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout or self.timeout):
                data = await self.reader.readline()
        except asyncio.TimeoutError as exc:
            raise ImapGone("the IMAP server did not answer in time") from exc
        if not data:
            raise ImapGone("the IMAP server closed the connection")
        return data.rstrip(b"\r\n")

    async def send(self, text: str) -> None:
        self.writer.write(text.encode() + b"\r\n")
        await self.writer.drain()

    async def command(self, text: str) -> list[bytes]:
        """Send a tagged command; return its untagged lines; raise unless it ends OK."""
        self._n += 1
        tag = f"w{self._n}"
        await self.send(f"{tag} {text}")
        lines = []
        while True:
            got = await self.line()
            if got.startswith(tag.encode() + b" "):
                if got[len(tag) + 1:].upper().startswith(b"OK"):
                    return lines
                verb = text.split(" ", 1)[0]
                raise ImapGone(f"IMAP {verb} refused: {got[len(tag) + 1:][:200].decode(errors='replace')}")
            lines.append(got)

    async def examine(self, folder: str) -> tuple[int | None, int | None]:
        """(UIDVALIDITY, UIDNEXT) of ``folder``, opened read-only."""
        codes = {}
        for ln in await self.command(f"EXAMINE {_quote(folder)}"):
            for m in _CODE.finditer(ln):
                codes[m.group(1).upper()] = int(m.group(2))
        return codes.get(b"UIDVALIDITY"), codes.get(b"UIDNEXT")

    async def idle(self, renew_s: float) -> bool:
        """IDLE until the folder reports new mail (True) or ``renew_s`` passed (False); then DONE."""
        self._n += 1
        tag = f"w{self._n}"
        await self.send(f"{tag} IDLE")
        first = await self.line()
        if not first.startswith(b"+"):
            raise ImapGone(f"IMAP IDLE refused: {first[:200].decode(errors='replace')}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + renew_s
        arrived = False
        while not arrived:
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                async with asyncio.timeout(left):
                    got = await self.reader.readline()
            except asyncio.TimeoutError:
                break
            if not got:
                raise ImapGone("the IMAP server closed the connection during IDLE")
            arrived = got.rstrip().upper().endswith(b" EXISTS") or got.rstrip().upper().endswith(b" RECENT")
        await self.send("DONE")
        while not (await self.line()).startswith(tag.encode() + b" "):
            pass  # untagged updates sent before the server saw DONE
        return arrived

    async def close(self) -> None:
        try:
            async with asyncio.timeout(2):
                await self.command("LOGOUT")
        except Exception:  # noqa: BLE001 - the connection may be dead already
            pass
        self.writer.close()
        try:
            async with asyncio.timeout(2):
                await self.writer.wait_closed()
        except Exception:  # noqa: BLE001
            pass


class MailboxTrigger(BaseEventTrigger):
    """Yield an event whenever mail arrives in a store's inbox (IMAP IDLE or Maildir ``new/``)."""

    def __init__(self, store_id: str, conn_id: str, folder: str = "INBOX", idle_renew_s: float = IDLE_RENEW_S,
                 poll_s: float = POLL_S, backoff_max_s: float = BACKOFF_MAX_S,
                 command_timeout_s: float = COMMAND_TIMEOUT_S, alert_after_s: float = ALERT_AFTER_S, **kwargs):
        super().__init__(**kwargs)
        self.store_id, self.conn_id, self.folder = store_id, conn_id, folder
        self.idle_renew_s, self.poll_s = float(idle_renew_s), float(poll_s)
        self.backoff_max_s, self.command_timeout_s = float(backoff_max_s), float(command_timeout_s)
        self.alert_after_s = float(alert_after_s)
        self._incident_open = False
        self.reconnects = 0  # for tests and logs: connections lost and made again

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (CLASSPATH, {"store_id": self.store_id, "conn_id": self.conn_id, "folder": self.folder,
                            "idle_renew_s": self.idle_renew_s, "poll_s": self.poll_s,
                            "backoff_max_s": self.backoff_max_s, "command_timeout_s": self.command_timeout_s,
                            "alert_after_s": self.alert_after_s})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            async for event in self._run():
                yield event
        except Exception as exc:  # the watcher stops for good: people must hear of it, not only the log
            await self._incident(f"{type(exc).__name__}: {exc}")
            raise

    async def _incident(self, error: str | None) -> None:
        """Open the store's incident for this watcher (``error``) or resolve it (None), through the
        same incident bookkeeping as a failed task: one alert when it opens, one when it recovers."""
        if (error is None) != self._incident_open:
            return
        try:
            await asyncio.to_thread(_report_incident, self.store_id, error)
            self._incident_open = error is not None
        except Exception as exc:  # noqa: BLE001 - the warehouse may be down too: keep watching
            self.log.error("store %s: mail watcher incident not recorded (%s); the watcher: %s", self.store_id, exc, error)

    async def _run(self) -> AsyncIterator[TriggerEvent]:
        conn = await self._connection()
        extra = conn.extra_dejson or {}
        ctype = (conn.conn_type or "").lower()
        folder = inbox_folder(extra, self.folder)
        if ctype == "maildir" or (not ctype and extra.get("path")):
            stream = self._watch_maildir(extra.get("path") or conn.host, folder)
        elif ctype in ("imap", "imaps"):
            stream = self._watch_imap(conn, extra, folder, ctype == "imaps")
        else:
            raise ValueError(f"store {self.store_id}: connection {self.conn_id!r} has conn_type {conn.conn_type!r}; "
                             "the mail watcher needs imap or maildir (fix the connection)")
        async for event in stream:
            yield event

    async def _connection(self):
        from airflow.sdk import BaseHook

        try:
            return await BaseHook.aget_connection(self.conn_id)
        except Exception as exc:  # noqa: BLE001 - say which store and connection, then let Airflow see it
            raise RuntimeError(f"store {self.store_id}: the mail watcher cannot read connection {self.conn_id!r}: "
                               f"{type(exc).__name__}: {exc} (create it, or fix store.connections.mailbox)") from exc

    # ------------------------------------------------------------------ state across restarts
    async def _load_state(self) -> dict | None:
        store = getattr(self, "asset_state_store", None)
        if store is None:
            return None
        try:
            value = await store.aget(_STATE_KEY)
        except Exception as exc:  # noqa: BLE001 - without it only a triggerer restart can miss an event
            self.log.warning("store %s: mail watcher state unreadable (%s); watching from now", self.store_id, exc)
            return None
        return value if isinstance(value, dict) else None

    async def _save_state(self, value: dict) -> None:
        store = getattr(self, "asset_state_store", None)
        if store is None:
            return
        try:
            await store.aset(_STATE_KEY, value)
        except Exception as exc:  # noqa: BLE001
            self.log.warning("store %s: mail watcher state not saved (%s)", self.store_id, exc)

    # ------------------------------------------------------------------ IMAP
    def _backoff(self, failures: int) -> float:
        return min(self.backoff_max_s, 0.5 * 2 ** min(failures, 16)) * random.uniform(0.5, 1.0)

    async def _watch_imap(self, conn, extra: dict, folder: str, imaps: bool) -> AsyncIterator[TriggerEvent]:
        def flag(v) -> bool:
            return v.lower() in ("1", "true", "yes") if isinstance(v, str) else bool(v)

        use_ssl, starttls = flag(extra.get("use_ssl", imaps)), flag(extra.get("starttls", False))
        source = f"imap:{folder}"
        seen = await self._load_state()
        reason, failures, down_since = "start", 0, None
        loop = asyncio.get_running_loop()
        while True:
            client = None
            try:
                client = await ImapIdle.connect(conn.host, conn.port, use_ssl=use_ssl, starttls=starttls,
                                                timeout=self.command_timeout_s)
                await client.command(f"LOGIN {_quote(conn.login or '')} {_quote(conn.password or '')}")
                uv, nxt = await client.examine(folder)
                failures, down_since = 0, None
                await self._incident(None)
                while True:
                    if seen is not None and (seen.get("uidvalidity") != uv or (nxt or 0) > (seen.get("uidnext") or 0)):
                        yield TriggerEvent({"store": self.store_id, "source": source, "reason": reason,
                                            "uidvalidity": uv, "uidnext": nxt,
                                            "previous_uidnext": seen.get("uidnext"), "seen_at": _now()})
                    if seen is None or (seen.get("uidvalidity"), seen.get("uidnext")) != (uv, nxt):
                        seen = {"uidvalidity": uv, "uidnext": nxt}
                        await self._save_state(seen)
                    reason = "idle"
                    while not await client.idle(self.idle_renew_s):
                        pass  # renewed: IDLE again
                    uv, nxt = await client.examine(folder)
            except (OSError, ImapGone, asyncio.TimeoutError) as exc:
                failures += 1
                self.reconnects += 1
                reason = "reconnect"
                wait = self._backoff(failures)
                down_since = down_since or loop.time()
                if loop.time() - down_since >= self.alert_after_s:
                    await self._incident(f"the mailbox {folder} has been unreachable for "
                                         f"{loop.time() - down_since:.0f} s: {exc}")
                self.log.warning("store %s: IMAP watch of %s lost (%s); reconnecting in %.1f s",
                                 self.store_id, folder, exc, wait)
                await asyncio.sleep(wait)
            finally:
                if client is not None:
                    await client.close()

    # ------------------------------------------------------------------ Maildir
    async def _watch_maildir(self, root: str | None, folder: str) -> AsyncIterator[TriggerEvent]:
        from seller_inbox.mail.sources import MaildirSource

        if not root:
            raise ValueError(f"store {self.store_id}: connection {self.conn_id!r}: maildir needs extra.path")
        fdir = MaildirSource(root).folder_path(folder)
        dirs = (fdir / "new", fdir / "cur")
        state = await self._load_state()
        newest = (state or {}).get("newest_ns")  # set: files newer than it came while nothing watched
        known: dict[str, int] | None = None
        stamp = None
        while True:
            st = tuple(_mtime(d) for d in dirs)
            if st != stamp or known is None:
                names = await asyncio.to_thread(_listing, dirs)
                if known is None:
                    fresh = sorted(n for n, t in names.items() if newest is not None and t > newest)
                else:
                    fresh = sorted(set(names) - set(known))
                if fresh:
                    yield TriggerEvent({"store": self.store_id, "source": f"maildir:{folder}",
                                        "reason": "new" if known is not None else "start",
                                        "files": fresh[:20], "count": len(fresh), "seen_at": _now()})
                top = max(names.values(), default=newest)
                if known is None or top != newest:  # at start too: the state says the watcher runs
                    newest = top
                    await self._save_state({"newest_ns": newest})
                known, stamp = names, st
            await asyncio.sleep(self.poll_s)


def _mtime(path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return None


def _listing(dirs) -> dict[str, int]:
    """Unique name (without the ``:2,flags`` part: a flag change or a move new/ -> cur/ is no new
    mail) -> mtime (ns), over the Maildir directories ``dirs``."""
    out: dict[str, int] = {}
    for path in dirs:
        try:
            with os.scandir(path) as it:
                for e in it:
                    if e.name.startswith("."):
                        continue
                    try:
                        out[e.name.partition(":")[0]] = e.stat().st_mtime_ns
                    except FileNotFoundError:  # moved to cur/ meanwhile: seen there
                        continue
        except FileNotFoundError:
            continue
    return out


def _report_incident(store_id: str, error: str | None) -> None:
    """Blocking (runs in a thread): the incident ``si_<store>_urgent.mailbox_watcher`` opened or resolved."""
    from seller_inbox import incidents
    from seller_inbox.config import get_registry
    from seller_inbox.warehouse import dsn

    store, url = get_registry().store(store_id), dsn()
    dag_id = f"si_{store_id}_urgent"
    if error is None:
        incidents.task_succeeded(store, url, dag_id, "mailbox_watcher", "triggerer")
    else:
        incidents.task_failed(store, url, dag_id, "mailbox_watcher", "triggerer",
                              RuntimeError(f"store {store_id}: mail watcher: {error} (check the mailbox connection "
                                           f"{store.connections.mailbox!r}; the scheduled pipeline still reads the mail)"))
    incidents.deliver_now(store, url)


def watcher_for(store) -> "Any":
    """The ``AssetWatcher`` of ``store``'s mailbox (DAG parse time: no look-up, only env for timings)."""
    from airflow.sdk import AssetWatcher

    trigger = MailboxTrigger(
        store_id=store.id, conn_id=store.connections.mailbox, folder=store.mail_folders.get("inbox", "INBOX"),
        idle_renew_s=float(os.environ.get("SELLER_INBOX_IDLE_RENEW_S") or IDLE_RENEW_S),
        poll_s=float(os.environ.get("SELLER_INBOX_MAILDIR_POLL_S") or POLL_S))
    return AssetWatcher(name=f"si_{store.id}_mailbox", trigger=trigger)
