"""Fuzzing the mail parser and the redaction (Hypothesis, the seeded profile of tests/conftest.py).

Properties: ``parse_bytes`` returns a ParsedMail or raises MailParseError (never anything else,
never a time-budget overrun), and what it returns is storable (no NUL, no lone surrogate, ids
bounded); ``redact`` never raises and redacting twice changes nothing more.
"""

from __future__ import annotations

import base64
import quopri

from hypothesis import example, given, settings
from hypothesis import strategies as st

from seller_inbox.mail.parser import MailParseError, ParsedMail, parse_bytes
from seller_inbox.redaction import redact

from .test_mail_hostile import assert_storable

SALT = b"fuzz"
HEAD = b"From: a@b.example\r\nDate: Sun, 29 Nov 2026 08:00:00 +0000\r\n"
CHARSETS = ["utf-8", "us-ascii", "iso-8859-1", "windows-1252", "shift_jis", "iso-2022-jp", "euc-jp", "utf-7",
            "utf-16", "utf-16-le", "utf-32", "punycode", "idna", "undefined", "base64", "rot13", "unicode_escape",
            "x-unknown", "", "\"utf-8\"", "gb2312", "koi8-r", "bogus-\u00e9"]
ENCODINGS = ["7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "bogus"]
CTYPES = ["text/plain", "text/html", "image/jpeg", "application/pdf", "message/rfc822",
          "message/delivery-status", "text/calendar"]
NASTY = ["=" * 200, "-" * 120 + "x", "<script", "<a ", "<", "<!--", "[ASIN", "=?x?q?a", "(", "\x00", "=00",
         "------------- Begin message -------------", "------------- End message -------------",
         "On Mon, 1 Dec 2026, Buyer wrote:", "> quoted", "Thanks" + " " * 50 + "x", "+2D0-", "\r", "\r\n", "\n",
         "111-3958185-1645065", "9400 1111 2222 3333 4444 55", "\ufffd", "\ud800", "l\u00e1mpara"]


def _check(raw: bytes) -> None:
    try:
        p = parse_bytes(raw, salt=SALT)
    except MailParseError as exc:
        assert "time budget" not in exc.reason, exc.reason
        assert exc.reason and "\n" not in exc.reason
        return
    assert isinstance(p, ParsedMail)
    assert_storable(p)


text_pieces = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=40)), max_size=12).map("".join)


@settings(max_examples=120)
@given(st.binary(max_size=3000))
@example(b"From: a@b.example\r\n\r\n\x00")
@example(HEAD + b"\r\n" + b"=" * 3000 + b"\r\n")
def test_random_bytes(raw):
    _check(raw)
    _check(HEAD + raw)


header_names = st.sampled_from(["Subject", "From", "To", "Cc", "Date", "Received", "Message-ID", "In-Reply-To",
                                "References", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
                                "Auto-Submitted", "Precedence", "X-Autoreply", "MIME-Version"])


@settings(max_examples=120)
@given(st.lists(st.tuples(header_names, text_pieces), max_size=10), text_pieces,
       st.sampled_from(["utf-8", "latin-1", "surrogateescape"]))
@example([("Content-Type", "text/plain; charset=undefined")], "hello", "utf-8")
@example([("To", "(" * 3000)], "hello", "utf-8")
@example([("Subject", "=?x?q?a" * 500)], "hello", "utf-8")
@example([("Message-ID", "<" + "m" * 3000 + "@x>")], "hello", "utf-8")
def test_random_headers(headers, body, how):
    def enc(s: str) -> bytes:
        if how == "surrogateescape":
            return s.encode("utf-8", "surrogatepass")
        return s.encode(how, "replace")

    lines = [HEAD] + [enc(f"{k}: {v}".replace("\r", " ").replace("\n", " ")) + b"\r\n" for k, v in headers]
    _check(b"".join(lines) + b"\r\n" + enc(body))


def _payload(text: str, charset: str, cte: str) -> bytes:
    try:
        data = text.encode(charset.strip('"'), "replace")
    except (LookupError, UnicodeError, TypeError):
        data = text.encode("utf-8", "surrogatepass")
    if cte == "base64":
        return base64.encodebytes(data)
    if cte == "quoted-printable":
        return quopri.encodestring(data)
    return data


leaf = st.builds(
    lambda ctype, charset, cte, text, fname: (
        f"Content-Type: {ctype}; charset={charset}\r\nContent-Transfer-Encoding: {cte}\r\n"
        + (f'Content-Disposition: attachment; filename="{fname}"\r\n' if fname is not None else "")
    ).encode("utf-8", "surrogatepass") + b"\r\n" + _payload(text, charset, cte),
    st.sampled_from(CTYPES), st.sampled_from(CHARSETS), st.sampled_from(ENCODINGS), text_pieces,
    st.none() | text_pieces)


def _multipart(children: list[bytes], subtype: str, depth: int = 0) -> bytes:
    b = f"BND{depth}x{len(children)}".encode()
    out = b'Content-Type: multipart/' + subtype.encode() + b'; boundary="' + b + b'"\r\n\r\npreamble\r\n'
    for c in children:
        out += b"--" + b + b"\r\n" + c + b"\r\n"
    return out + b"--" + b + b"--\r\n"


mime = st.recursive(leaf, lambda kids: st.builds(
    _multipart, st.lists(kids, min_size=1, max_size=4), st.sampled_from(["mixed", "alternative", "report", "related"])),
    max_leaves=8)


@settings(max_examples=120)
@given(mime, st.sampled_from([b"\r\n", b"\n"]))
@example(b"Content-Type: text/plain; charset=utf-7\r\n\r\nwhere +2D0- is it", b"\r\n")
@example(b'Content-Type: image/jpeg\r\nContent-Disposition: attachment; filename="l\xc3\xa1mpara.jpg"\r\n\r\nx',
         b"\r\n")
@example(b"Content-Type: text/plain\r\nContent-Disposition: attachment; filename*=idna''h%C3%A9\r\n\r\nx", b"\n")
@example(b"Content-Type: image/jpeg; charset=idna\r\nContent-Transfer-Encoding: 7bit\r\n\r\n\xc2\x80", b"\r\n")
def test_random_mime_structures(body, eol):
    raw = HEAD + b"Subject: fuzz\r\nMIME-Version: 1.0\r\n" + body
    _check(raw.replace(b"\r\n", eol))


@settings(max_examples=60)
@given(st.sampled_from(NASTY), st.integers(1, 4000), st.sampled_from(["text/plain", "text/html"]))
def test_long_runs_of_nasty_pieces(piece, n, ctype):
    raw = HEAD + f"Subject: run\r\nContent-Type: {ctype}; charset=utf-8\r\n\r\n".encode()
    _check(raw + (piece * n).encode("utf-8", "surrogatepass"))


@settings(max_examples=150)
@given(text_pieces, st.lists(st.from_regex(r"[A-Z][a-z]{1,10}|[\u4e00-\u9fa5]{2,3}", fullmatch=True), max_size=3))
@example("Call +44 20 7946 0958.\n\nThanks,\nJohn Miller", ["John"])
@example("\x000\x00 111-3958185-1645065", [])
@example("Thanks" + " " * 3000 + "x", [])
def test_redact_never_raises_and_is_idempotent(text, names):
    """(Names are name-like: a "name" such as "0:" glues onto neighbouring text.)"""
    once = redact(text, names)
    assert isinstance(once, str)
    assert redact(once, names) == once
