"""Mailbox readers: IMAP (per store, read-only) and Maildir (embedded demo, mail on disk).

Both yield ``MailItem``s for one folder and a window [start, end) on the mailbox's own
receive time (IMAP INTERNALDATE; Maildir file mtime, which is what Dovecot reports as
INTERNALDATE for Maildir too). Items whose ``source_ref`` the caller already stored are
skipped before any body is fetched. ``fetch(folder, role, ref)`` re-reads one item by its
``source_ref`` (``seller-inbox quarantine retry``).

Connection formats (Airflow connection named by ``store.connections.mailbox``):
- ``conn_type=imap``: host, port (default 143, 993 with SSL), login, password;
  extra ``{"use_ssl": bool, "starttls": bool, "folders": {"inbox": "INBOX", "sent": "Sent"}}``
  (``folders`` optional: overrides ``store.mail_folders``; a list of names is accepted too,
  roles then guessed from the names). A sent folder that does not exist falls back to the
  server's ``\\Sent`` special-use folder.
- ``conn_type=maildir``: extra ``{"path": "/abs/maildir/root"}``. Layout is Maildir++ as
  Dovecot uses it: the inbox is the root (``cur/ new/ tmp/``), other folders are
  ``.<Name>`` beside it (``.Sent``). Keywords (``$NoResponseNeeded``) follow Dovecot's
  ``dovecot-keywords`` file: letters ``a``..``z`` in the file name's flag part.

IMAP access is read-only: folders are opened with EXAMINE and bodies fetched with
``BODY.PEEK[]``, so nothing is flagged, moved or deleted.
"""

from __future__ import annotations

import imaplib
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

UTC = timezone.utc
_SENT_NAMES = re.compile(r"(?i)sent|gesendet|envoy|inviat|enviad|送信")


@dataclass
class MailItem:
    role: str                 # inbox / sent
    source: str               # imap:<folder> or maildir:<folder>
    source_ref: str           # uidvalidity:uid, or the Maildir unique name
    internal_date: datetime
    flags: tuple[str, ...]
    raw: bytes | None          # None: already stored (listed for its flags only, body not fetched)
    uid: int | None = None
    uidvalidity: int | None = None


@dataclass
class FolderState:
    """What a reader learnt about a folder (for the watermark)."""
    source: str
    uidvalidity: int | None = None
    max_uid: int | None = None
    flagged_refs: dict | None = None   # source_ref -> flags, for every item in the window


def folders_for(store, extra: dict | None = None) -> dict[str, str]:
    """role -> folder name: the connection's ``folders`` override, else ``store.mail_folders``."""
    over = (extra or {}).get("folders")
    if isinstance(over, dict) and over:
        return {str(k): str(v) for k, v in over.items()}
    if isinstance(over, (list, tuple)) and over:
        out: dict[str, str] = {}
        for i, name in enumerate(over):
            role = "sent" if _SENT_NAMES.search(str(name)) else ("inbox" if i == 0 else f"inbox{i}")
            out.setdefault(role, str(name))
        return out
    return dict(store.mail_folders)


def _utc(d: datetime) -> datetime:
    return d if d.tzinfo else d.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- Maildir
class MaildirSource:
    kind = "maildir"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def folder_path(self, folder: str) -> Path:
        """INBOX is the root; others are Maildir++ ``.Name`` (``Sent/`` as a plain maildir also works)."""
        if folder.upper() == "INBOX":
            return self.root
        plus = self.root / ("." + folder.strip("./").replace("/", "."))
        plain = self.root / folder.strip("/")
        if not plus.exists() and (plain / "cur").is_dir():
            return plain
        return plus

    def _keywords(self, fdir: Path) -> dict[str, str]:
        kw = {}
        try:
            for line in (fdir / "dovecot-keywords").read_text(encoding="utf-8").splitlines():
                idx, _, name = line.partition(" ")
                if idx.isdigit() and int(idx) < 26 and name:
                    kw[chr(ord("a") + int(idx))] = name
        except FileNotFoundError:
            pass
        return kw

    def scan(self, folder: str, role: str, start: datetime, end: datetime, known: Callable[[str], bool],
             state: FolderState) -> Iterator[MailItem]:
        fdir = self.folder_path(folder)
        source = f"maildir:{folder}"
        if not self.root.is_dir():
            raise FileNotFoundError(f"Maildir root {self.root} does not exist (check the connection's extra.path)")
        kw = self._keywords(fdir)
        start, end = _utc(start).timestamp(), _utc(end).timestamp()
        state.flagged_refs = {}
        entries = []
        for sub in ("cur", "new"):
            d = fdir / sub
            try:
                it = os.scandir(d)
            except FileNotFoundError:
                continue
            with it:
                for e in it:
                    if e.name.startswith(".") or not e.is_file():
                        continue
                    mtime = e.stat().st_mtime
                    if not (start <= mtime < end):
                        continue
                    entries.append((mtime, e.name, e.path))
        entries.sort()
        for mtime, name, path in entries:
            unique, flags = self._name_flags(name, kw)
            state.flagged_refs[unique] = flags
            if known(unique):
                yield MailItem(role, source, unique, datetime.fromtimestamp(mtime, UTC), flags, None)
                continue
            try:
                raw = Path(path).read_bytes()
            except FileNotFoundError:  # moved new/ -> cur/ under us: look again
                matches = list((fdir / "cur").glob(unique + ":*")) + list((fdir / "new").glob(unique))
                if not matches:
                    continue
                raw = matches[0].read_bytes()
            yield MailItem(role, source, unique, datetime.fromtimestamp(mtime, UTC), flags, raw)

    @staticmethod
    def _name_flags(name: str, kw: dict[str, str]) -> tuple[str, tuple[str, ...]]:
        """A Maildir file name -> (unique name, flags incl. Dovecot keywords)."""
        unique, _, info = name.partition(":")
        letters = info[2:] if info.startswith("2,") else ""
        return unique, tuple(
            {"S": "\\Seen", "R": "\\Answered", "F": "\\Flagged", "T": "\\Deleted", "D": "\\Draft"}.get(c) or kw.get(c, c)
            for c in letters
        )

    def fetch(self, folder: str, role: str, ref: str) -> MailItem | None:
        """The mail with unique name ``ref`` in ``folder`` (cur/ or new/), or None if it is gone."""
        fdir = self.folder_path(folder)
        for sub in ("cur", "new"):
            try:
                it = os.scandir(fdir / sub)
            except FileNotFoundError:
                continue
            with it:
                hits = [e for e in it if e.name == ref or e.name.startswith(ref + ":")]
            for e in hits:
                try:
                    raw = Path(e.path).read_bytes()
                    mtime = e.stat().st_mtime
                except FileNotFoundError:  # moved new/ -> cur/ under us: cur/ is read next
                    continue
                unique, flags = self._name_flags(e.name, self._keywords(fdir))
                return MailItem(role, f"maildir:{folder}", unique, datetime.fromtimestamp(mtime, UTC), flags, raw)
        return None

    def resolve_folder(self, folder: str, role: str) -> str:
        return folder

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- IMAP
_FETCH_META = re.compile(
    rb"UID (\d+)|INTERNALDATE \"([^\"]+)\"|FLAGS \(([^)]*)\)", re.I)


def _imap_date(d: datetime) -> str:
    return d.strftime("%d-%b-%Y")


def _parse_internaldate(s: str) -> datetime:
    return datetime.strptime(s.strip(), "%d-%b-%Y %H:%M:%S %z").astimezone(UTC)


def _quote_folder(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSource:
    kind = "imap"
    META_CHUNK = 500
    BODY_CHUNK = 50

    def __init__(self, host: str, port: int | None, login: str, password: str, *, use_ssl: bool = False,
                 starttls: bool = False, timeout: float = 60.0):
        if use_ssl:
            self.conn = imaplib.IMAP4_SSL(host, port or 993, timeout=timeout)
        else:
            self.conn = imaplib.IMAP4(host, port or 143, timeout=timeout)
            if starttls:
                self.conn.starttls()
        typ, data = self.conn.login(login, password)
        if typ != "OK":
            raise RuntimeError(f"IMAP login failed: {data!r}")

    def _check(self, typ, data, what: str):
        if typ != "OK":
            raise RuntimeError(f"IMAP {what} failed: {data!r}")
        return data

    def scan(self, folder: str, role: str, start: datetime, end: datetime, known: Callable[[str], bool],
             state: FolderState, *, after: tuple[int | None, int] | None = None) -> Iterator[MailItem]:
        """``after=(uidvalidity, uid)``: only UIDs above ``uid`` - ignored if UIDVALIDITY changed."""
        c = self.conn
        source = f"imap:{folder}"
        typ, data = c.select(_quote_folder(folder), readonly=True)  # EXAMINE: read-only
        if typ != "OK":
            raise RuntimeError(f"IMAP folder {folder!r} cannot be opened: {data!r}")
        uv = c.response("UIDVALIDITY")[1]
        uidvalidity = int(uv[0]) if uv and uv[0] else None
        state.uidvalidity = uidvalidity
        after_uid = after[1] if after and after[0] == uidvalidity else None
        start, end = _utc(start), _utc(end)
        # the server's SINCE/BEFORE are whole days in its own zone: widen by a day, filter exactly below
        crit = ["SINCE", _imap_date(start - timedelta(days=1)), "BEFORE", _imap_date(end + timedelta(days=1))]
        if after_uid is not None:
            crit = ["UID", f"{after_uid + 1}:*"] + crit
        data = self._check(*c.uid("SEARCH", None, *crit), "SEARCH")
        uids = [int(x) for x in (data[0] or b"").split()]
        if after_uid is not None:
            uids = [u for u in uids if u > after_uid]
        state.flagged_refs = {}
        wanted: list[tuple[int, datetime, tuple[str, ...]]] = []
        for i in range(0, len(uids), self.META_CHUNK):
            chunk = uids[i: i + self.META_CHUNK]
            data = self._check(*c.uid("FETCH", ",".join(map(str, chunk)), "(UID INTERNALDATE FLAGS)"), "FETCH")
            for line in data:
                if isinstance(line, tuple):
                    line = line[0]
                if not line:
                    continue
                uid = idate = flags = None
                for m in _FETCH_META.finditer(line):
                    if m.group(1):
                        uid = int(m.group(1))
                    elif m.group(2):
                        idate = _parse_internaldate(m.group(2).decode())
                    else:
                        flags = tuple(m.group(3).decode().split())
                if uid is None or idate is None or not (start <= idate < end):
                    continue
                wanted.append((uid, idate, flags or ()))
        wanted.sort()
        if wanted:
            state.max_uid = wanted[-1][0]
        todo = []
        for uid, idate, flags in wanted:
            ref = f"{uidvalidity}:{uid}"
            state.flagged_refs[ref] = flags
            if known(ref):
                yield MailItem(role, source, ref, idate, flags, None, uid, uidvalidity)
            else:
                todo.append((uid, idate, flags))
        for i in range(0, len(todo), self.BODY_CHUNK):
            chunk = todo[i: i + self.BODY_CHUNK]
            meta = {u: (d, f) for u, d, f in chunk}
            data = self._check(*c.uid("FETCH", ",".join(str(u) for u, _, _ in chunk), "(UID BODY.PEEK[])"), "FETCH")
            got: dict[int, bytes] = {}
            pending: bytes | None = None  # a literal whose UID comes after it (server's choice of order)
            for part in data:
                if isinstance(part, tuple) and len(part) >= 2:
                    m = re.search(rb"UID (\d+)", part[0])
                    if m:
                        got[int(m.group(1))] = part[1]
                        pending = None
                    else:
                        pending = part[1]
                elif isinstance(part, bytes) and pending is not None:
                    m = re.search(rb"UID (\d+)", part)
                    if m:
                        got[int(m.group(1))] = pending
                    pending = None
            for uid, _, _ in chunk:
                if uid in got:
                    d, f = meta[uid]
                    yield MailItem(role, source, f"{uidvalidity}:{uid}", d, f, got[uid], uid, uidvalidity)

    def fetch(self, folder: str, role: str, ref: str) -> MailItem | None:
        """The mail at ``ref`` = ``uidvalidity:uid`` in ``folder``, or None if it is gone (no such
        folder or UID, or the folder's UIDVALIDITY changed so the UID means another mail)."""
        c = self.conn
        uv_s, _, uid_s = ref.partition(":")
        if not (uv_s.isdigit() and uid_s.isdigit()):
            return None
        typ, _ = c.select(_quote_folder(folder), readonly=True)  # EXAMINE: read-only
        if typ != "OK":
            return None
        uv = c.response("UIDVALIDITY")[1]
        if not uv or not uv[0] or int(uv[0]) != int(uv_s):
            return None
        idate = flags = None
        for line in self._check(*c.uid("FETCH", uid_s, "(UID INTERNALDATE FLAGS)"), "FETCH"):
            for m in _FETCH_META.finditer(line[0] if isinstance(line, tuple) else (line or b"")):
                if m.group(2):
                    idate = _parse_internaldate(m.group(2).decode())
                elif m.group(3) is not None:
                    flags = tuple(m.group(3).decode().split())
        if idate is None:
            return None
        data = self._check(*c.uid("FETCH", uid_s, "(UID BODY.PEEK[])"), "FETCH")
        raw = next((part[1] for part in data if isinstance(part, tuple) and len(part) >= 2), None)
        if raw is None:
            return None
        return MailItem(role, f"imap:{folder}", ref, idate, flags or (), raw, int(uid_s), int(uv_s))

    def resolve_folder(self, folder: str, role: str) -> str:
        """The folder to read: ``folder`` if it exists; for the sent role a missing name falls
        back to the server's ``\\Sent`` special-use folder ("Sent Items", "Gesendet"...)."""
        typ, _ = self.conn.select(_quote_folder(folder), readonly=True)
        if typ == "OK" or role != "sent":
            return folder
        return self.special_use_folder("\\Sent") or folder

    def special_use_folder(self, attr: str) -> str | None:
        """The folder carrying a special-use attribute (RFC 6154), e.g. ``\\Sent``."""
        typ, data = self.conn.list()
        if typ != "OK":
            return None
        for line in data or []:
            if isinstance(line, tuple):
                line = line[0]
            m = re.match(rb'\(([^)]*)\) (?:"[^"]*"|NIL) (.+)$', line or b"")
            if m and attr.lower().encode() in m.group(1).lower().split():
                name = m.group(2).strip()
                if name.startswith(b'"') and name.endswith(b'"'):
                    name = name[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
                return name.decode("utf-8", "replace")
        return None

    def close(self) -> None:
        try:
            self.conn.logout()
        except Exception:  # noqa: BLE001 - closing a dead connection is fine
            pass


def open_source(conn) -> "MaildirSource | ImapSource":
    """A reader for an Airflow connection object (``conn_type`` imap or maildir)."""
    extra = conn.extra_dejson or {}
    ctype = (conn.conn_type or "").lower()
    if ctype == "maildir" or (not ctype and extra.get("path")):
        path = extra.get("path") or conn.host
        if not path:
            raise ValueError(f"connection {conn.conn_id!r}: maildir needs extra.path")
        return MaildirSource(path)
    if ctype in ("imap", "imaps"):
        def flag(v) -> bool:
            return v.lower() in ("1", "true", "yes") if isinstance(v, str) else bool(v)

        return ImapSource(conn.host, conn.port, conn.login or "", conn.password or "",
                          use_ssl=flag(extra.get("use_ssl", ctype == "imaps")), starttls=flag(extra.get("starttls", False)))
    raise ValueError(f"connection {conn.conn_id!r}: conn_type {conn.conn_type!r} is not imap or maildir")
