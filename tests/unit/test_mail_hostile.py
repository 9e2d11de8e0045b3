"""Hostile mail: no hang, no crash, nothing unstorable; CRLF and LF mail parse identically."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seller_inbox.mail import parser
from seller_inbox.mail.parser import MailParseError, ParsedMail, bound_msgid, parse_bytes, sanitize_text
from seller_inbox.redaction import UNREDACTED_PHONE_CHECK

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
HOSTILE = FIX / "hostile"
sys.path.insert(0, str(HOSTILE))
from make_hostile import EXPECT  # noqa: E402

SALT = b"test-salt"


def assert_storable(p: ParsedMail) -> None:
    """Every string PostgreSQL and JSON will see: no NUL, no lone surrogate; ids bounded."""
    d = p.to_dict()
    strings = [v for v in d.values() if isinstance(v, str)] + list(d["references"])
    strings += [a[k] for a in d["attachments"] for k in ("name", "type") if a.get(k)]
    for s in strings:
        assert "\x00" not in s
        s.encode("utf-8")  # raises on a lone surrogate
    for mid in [p.message_id, p.in_reply_to or "", *p.references]:
        assert len(mid) <= parser.MAX_MSGID
    json.dumps(d, ensure_ascii=False).encode("utf-8")


def _parse(raw: bytes):
    try:
        return parse_bytes(raw, salt=SALT)
    except MailParseError as exc:
        return exc


def test_hostile_corpus_is_complete():
    assert {p.stem for p in HOSTILE.glob("*.eml")} == set(EXPECT)
    readme = (HOSTILE / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}.eml`" in readme for name in EXPECT)


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_hostile_mail_parses_within_budget_and_storable(name):
    raw = (HOSTILE / f"{name}.eml").read_bytes()
    r = _parse(raw)
    if EXPECT[name] == "ok":
        assert isinstance(r, ParsedMail), getattr(r, "reason", r)
        assert_storable(r)
    else:
        assert isinstance(r, MailParseError) and r.reason.startswith(EXPECT[name]), r
        assert "\n" not in r.reason


def test_decoded_nul_is_dropped_not_binary():
    raw = (b"From: a@b.example\r\nDate: Sun, 29 Nov 2026 08:00:00 +0000\r\nSubject: x\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n\r\nwhere is my parcel=00?\r\n")
    assert parse_bytes(raw, salt=SALT).text == "where is my parcel?"
    assert parse_bytes((HOSTILE / "utf16_labelled_ascii.eml").read_bytes(), salt=SALT).text == "where is my parcel?"
    assert parse_bytes((HOSTILE / "nul_in_subject_header.eml").read_bytes(), salt=SALT).subject == "parcel late"
    with pytest.raises(MailParseError, match="binary data"):  # a raw NUL up front still is binary
        parse_bytes(b"From: a@b.example\r\nSubject: \x00\r\n\r\nx", salt=SALT)


def test_raw_utf8_filename_and_odd_charsets():
    p = parse_bytes((HOSTILE / "utf8_raw_filename.eml").read_bytes(), salt=SALT)
    assert [(a["name"], a["type"], a["size"]) for a in p.attachments] == [("lámpara.jpg", "image/jpeg", 30)]
    assert parse_bytes((HOSTILE / "charset_punycode.eml").read_bytes(), salt=SALT).text == "dónde está?"
    assert parse_bytes((HOSTILE / "charset_utf7_lone_surrogate.eml").read_bytes(), salt=SALT).text == \
        "where \ufffd is my parcel?"


def test_long_ids_are_hashed_stably_and_threading_survives():
    raw = (HOSTILE / "long_message_ids.eml").read_bytes()
    p = parse_bytes(raw, salt=SALT)
    long_ref = "<" + "r" * 5000 + "@x.example>"
    assert p.message_id == bound_msgid("<" + "m" * 5000 + "@x.example>")
    assert p.message_id.endswith("@hashed.seller-inbox.invalid>") and len(p.message_id) <= 255
    assert p.in_reply_to == bound_msgid(long_ref) == p.references[0]
    assert p.references[1] == "<short@x.example>"
    assert parse_bytes(raw, salt=b"other").message_id == p.message_id
    # the reply to it, whose own id is short, threads onto the hashed id
    assert bound_msgid("<ok@x>") == "<ok@x>"


def test_sanitize_text():
    assert sanitize_text("a\x00b") == "ab"
    assert sanitize_text("x\ud800y") == "x\ufffdy"
    assert sanitize_text("\ud83d\ude00") == "\U0001F600"  # a surrogate pair is joined, not replaced
    assert sanitize_text("plain ü") == "plain ü"


def test_time_budget_raises_a_parse_error(monkeypatch):
    monkeypatch.setattr(parser, "PARSE_BUDGET_S", -1.0)
    with pytest.raises(MailParseError, match="parse exceeded the time budget"):
        parse_bytes((FIX / "corpus" / "us_product_details.eml").read_bytes(), salt=SALT)


def test_mime_depth_and_line_limits():
    with pytest.raises(MailParseError, match="nested too deeply"):
        parse_bytes((HOSTILE / "nested_multipart_60.eml").read_bytes(), salt=SALT)
    many_lines = b"From: a@b.example\nDate: Sun, 29 Nov 2026 08:00:00 +0000\nSubject: x\n\n" + b"x\n" * 1_100_000
    with pytest.raises(MailParseError, match="too complex"):
        parse_bytes(many_lines, salt=SALT)


def _crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _lf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n")


def _as_dict(r) -> dict:
    if isinstance(r, MailParseError):
        return {"error": r.reason}
    d = r.to_dict()
    d.pop("size_bytes")  # the size of the bytes as delivered, line endings included
    return d


@pytest.mark.parametrize("folder", ["corpus", "hostile"])
def test_crlf_and_lf_mail_parse_identically(folder):
    files = sorted((FIX / folder).glob("*.eml"))
    assert files
    for f in files:
        raw = f.read_bytes()
        assert _as_dict(_parse(_lf(raw))) == _as_dict(_parse(_crlf(raw))), f.name


def test_crlf_relay_markers_and_quotes_are_cut():
    raw = _crlf((FIX / "corpus" / "us_buyer_reply_with_quote.eml").read_bytes())
    text = parse_bytes(raw, salt=SALT).text
    for junk in ("Begin message", "wrote:", "\n>"):
        assert junk not in text


def test_tracking_number_kept_and_not_a_phone():
    import re

    p = parse_bytes((HOSTILE / "tracking_number_usps.eml").read_bytes(), salt=SALT)
    assert "9400 1111 2222 3333 4444 55" in p.text
    assert not re.search(UNREDACTED_PHONE_CHECK, p.subject + " " + p.text)


def test_cli_reports_bad_files_and_goes_on(tmp_path):
    surrogate = str(HOSTILE / "charset_utf7_lone_surrogate.eml")
    good = str(FIX / "corpus" / "us_product_details.eml")
    unreadable = tmp_path / "unreadable.eml"
    unreadable.write_bytes(b"x")
    unreadable.chmod(0)
    files = [str(tmp_path), surrogate, str(tmp_path / "missing.eml"), good, str(unreadable)]
    env = {**os.environ, "SELLER_INBOX_SALT": "cli-salt"}
    r = subprocess.run([sys.executable, "-m", "seller_inbox.mail.cli", "parse-email", *files],
                       capture_output=True, env=env, timeout=60)
    assert r.returncode == 1 and b"Traceback" not in r.stderr, r.stderr
    lines = [json.loads(x) for x in r.stdout.decode("utf-8").splitlines()]  # strict UTF-8: no lone surrogates
    assert [x["file"] for x in lines] == files
    assert "directory" in lines[0]["error"]
    assert lines[1]["text"] == "where \ufffd is my parcel?"
    assert "error" in lines[2] and lines[3]["kind"] == "buyer_message"
    assert "error" in lines[4]  # unreadable, or (as root) read and not a mail
