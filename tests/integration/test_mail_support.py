"""Shared helpers for the mail integration tests (real Maildir / Dovecot / PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from seller_inbox.config import StoreConfig
from seller_inbox_dev.demo.mail import _mail, deliver, ensure_maildir

UTC = timezone.utc


def make_store(store_id: str = "t-store", mailbox_conn: str = "mailbox_t_store", code: str = "US",
               seller_id: str = "A1DEMOUSOUTDOOR") -> StoreConfig:
    region = {"US": "na", "DE": "eu", "JP": "fe"}[code]
    return StoreConfig(
        id=store_id, name="Test Store", seller_id=seller_id, region=region, marketplaces=[{"code": code}],
        connections={"spapi": "spapi_t", "mailbox": mailbox_conn, "smtp": "smtp_t"},
    )


def t(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


def buyer_mail(mid: str, when: datetime, text: str, *, alias: str = "buyer1@marketplace.amazon.com",
               order: str | None = "111-1111111-0000001", name: str = "Cherri") -> bytes:
    subj = f"Inquiry from Amazon customer {name}" + (f" (Order: {order})" if order else "")
    body = ((f"Order ID {order}:\n" if order else "") + "\n------------- Begin message -------------\n\n"
            + text + "\n\n------------- End message -------------\n\nFor Your Information: we retain all messages.\n"
            "[commMgrTok:X1]\n")
    return _mail(f'"{name} - Amazon Marketplace" <{alias}>', "shop@store.example", subj, when, mid, body)


def reply_mail(mid: str, when: datetime, text: str, *, to: str = "buyer1@marketplace.amazon.com",
               order: str | None = "111-1111111-0000001", in_reply_to: str | None = None, auto: bool = False) -> bytes:
    subj = "RE: Inquiry from Amazon customer Cherri" + (f" (Order: {order})" if order else "")
    extra = {}
    if in_reply_to:
        extra["In-Reply-To"] = in_reply_to
    if auto:
        extra["Auto-Submitted"] = "auto-replied"
    return _mail("Shop <shop@store.example>", to, subj, when, mid, text, extra=extra)


class Box:
    """A Maildir++ mailbox for one store (inbox at the root, .Sent)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        ensure_maildir(self.root, ("Sent",))

    def inbox(self, raw: bytes, when: datetime, key: str, nrn: bool = False) -> None:
        deliver(self.root, raw, when, key, nrn=nrn)

    def sent(self, raw: bytes, when: datetime, key: str) -> None:
        deliver(self.root / ".Sent", raw, when, key)

    def raw_file(self, raw: bytes, when: datetime, name: str, folder: str = "") -> Path:
        import os

        d = (self.root / folder if folder else self.root) / "cur"
        p = d / f"{name}:2,"
        p.write_bytes(raw)
        os.utime(p, (when.timestamp(), when.timestamp()))
        return p


def rows(db, sql: str, *args) -> list[tuple]:
    with db.cursor() as cur:
        cur.execute(sql, args or None)
        return cur.fetchall()


def one(db, sql: str, *args):
    return rows(db, sql, *args)[0][0]


def test_box_layout_is_read_back_by_maildir_source(tmp_path):
    """The helper mailbox is real Maildir++: the source lists it by window, with keywords."""
    from seller_inbox.mail.sources import FolderState, MaildirSource

    box = Box(tmp_path / "m")
    box.inbox(buyer_mail("<a@x>", t("2026-11-01T10:00:00"), "hello"), t("2026-11-01T10:00:00"), "a", nrn=True)
    box.inbox(buyer_mail("<b@x>", t("2026-11-02T10:00:00"), "hello"), t("2026-11-02T10:00:00"), "b")
    box.sent(reply_mail("<r@x>", t("2026-11-01T11:00:00"), "hi"), t("2026-11-01T11:00:00"), "r")
    src = MaildirSource(tmp_path / "m")
    st = FolderState("maildir:INBOX")
    items = list(src.scan("INBOX", "inbox", t("2026-11-01T00:00:00"), t("2026-11-02T00:00:00"), lambda r: False, st))
    assert len(items) == 1 and items[0].flags == ("$NoResponseNeeded",) and b"<a@x>" in items[0].raw
    sent = list(src.scan("Sent", "sent", t("2026-11-01T00:00:00"), t("2026-11-03T00:00:00"), lambda r: False, st))
    assert [b"<r@x>" in i.raw for i in sent] == [True]


def test_maildir_plain_subfolder_layout_and_missing_root(tmp_path):
    """``Sent/`` as a plain maildir is read when ``.Sent`` is absent; a missing root is an error."""
    import pytest

    from seller_inbox_dev.demo.mail import deliver
    from seller_inbox.mail.sources import FolderState, MaildirSource

    root = tmp_path / "m"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
        (root / "Sent" / sub).mkdir(parents=True)
    when = t("2026-11-01T11:00:00")
    deliver(root / "Sent", reply_mail("<r@x>", when, "hi"), when, "r")
    items = list(MaildirSource(root).scan("Sent", "sent", t("2026-11-01T00:00:00"), t("2026-11-02T00:00:00"),
                                          lambda r: False, FolderState("maildir:Sent")))
    assert len(items) == 1 and b"<r@x>" in items[0].raw
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list(MaildirSource(tmp_path / "nope").scan("INBOX", "inbox", when, when, lambda r: False, FolderState("x")))
