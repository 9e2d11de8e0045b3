"""Redaction of buyer personal data (names, postal addresses, phones, e-mails) through the public
``redact``, and the gate's phone check; recogniser by recogniser: test_redaction.py (docs/redaction.md)."""

from __future__ import annotations

import re

import pytest

from seller_inbox.redaction import PHONE, UNREDACTED_PHONE_CHECK, installation_salt, redact

CASES = [
    ("Hi, this is John Miller. Please send it to 221B Baker Street, London NW1 6XE instead. My number is "
     "+44 20 7946 0958 or email john.miller@gmail.com.\n\nThanks,\nJohn Miller", ["John"],
     ["John", "Miller", "Baker", "NW1", "7946", "gmail"], ["[NAME]", "[ADDRESS]", "[PHONE]", "[EMAIL]"]),
    ("Ship to 1600 Pennsylvania Avenue NW, Washington, DC 20500. Call (202) 456-1111.\n\nRegards,\nMary Ann Jones\n",
     [], ["Pennsylvania", "20500", "456-1111", "Mary", "Jones"], ["[ADDRESS]", "[PHONE]", "[NAME]"]),
    ("Mein Name ist Klaus Becker, neue Adresse: Hauptstraße 5, 10115 Berlin. Tel. 030 12345678, Mail "
     "klaus.becker@web.de\n\nMit freundlichen Grüßen\nKlaus Becker", [],
     ["Klaus", "Becker", "Hauptstraße", "10115", "12345678", "web.de"], ["[NAME]", "[ADDRESS]", "[PHONE]", "[EMAIL]"]),
    ("Je m'appelle Sophie Laurent, j'habite au 8 rue des Lilas, 75011 Paris. Mon portable : 06 12 34 56 78. "
     "sophie.laurent@orange.fr\n\nCordialement,\nSophie Laurent", ["Sophie"],
     ["Sophie", "Laurent", "Lilas", "75011", "06 12", "orange"], ["[NAME]", "[ADDRESS]", "[PHONE]", "[EMAIL]"]),
    ("Sono Marco Ferrari, abito in Via Garibaldi 12, 20121 Milano. Cell. +39 347 123 4567, marco.ferrari@libero.it"
     "\n\nCordiali saluti,\nMarco Ferrari", [],
     ["Marco", "Ferrari", "Garibaldi", "20121", "347", "libero"], ["[NAME]", "[ADDRESS]", "[PHONE]", "[EMAIL]"]),
    ("Me llamo Javier Ortega, mi dirección es Calle de Alcalá 45, 28014 Madrid. Teléfono 612 345 678. "
     "javier.ortega@hotmail.es\n\nSaludos,\nJavier Ortega", ["Javier"],
     ["Javier", "Ortega", "Alcalá", "28014", "612 345", "hotmail"], ["[NAME]", "[ADDRESS]", "[PHONE]", "[EMAIL]"]),
    ("山田太郎と申します。〒150-0002 東京都渋谷区渋谷2-21-1 に送ってください。電話番号は090-1234-5678です。"
     "taro.yamada@example.jp\n\nよろしくお願いします。\n山田太郎", [],
     ["山田", "太郎", "渋谷", "150-0002", "090-1234", "yamada"], ["[NAME]", "[ADDRESS]", "[PHONE]", "[EMAIL]"]),
    ("佐藤様\n\nお問い合わせありがとうございます。お客様のご注文を確認しました。", [], ["佐藤"], ["[NAME]様", "お客様"]),
    ("Dear Mr. Miller,\n\nwe are sorry. Frau Schneider from our team will call you.", [],
     ["Miller", "Schneider"], ["Dear [NAME]"]),
    ("Hallo Frau Wagner, liebe Grüße", [], ["Wagner"], ["[NAME]"]),
    ("Thanks, Emily", ["Emily"], ["Emily"], ["Thanks, [NAME]"]),
    ("Cheers, Oliver", [], ["Oliver"], ["Cheers, [NAME]"]),
]


@pytest.mark.parametrize("text,names,gone,kept", CASES, ids=[c[0][:20] for c in CASES])
def test_personal_data_is_replaced(text, names, gone, kept):
    out = redact(text, names)
    for g in gone:
        assert g not in out, (g, out)
    for k in kept:
        assert k in out, (k, out)


def test_business_data_survives():
    text = ("Order 111-3958185-1645065, ASIN B07XJ8C8F5, paid 39,90 € on 2026-11-23 (23.11.2026), 3 items, "
            "tracking 1Z999AA10123456784, size 42, 2 x 500 ml. Dear Seller, dear customer.")
    assert redact(text) == text


def test_installation_salt_env_and_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SELLER_INBOX_SALT", "abc")
    assert installation_salt() == b"abc"
    monkeypatch.delenv("SELLER_INBOX_SALT")
    monkeypatch.setenv("SELLER_INBOX_HOME", str(tmp_path))
    first = installation_salt()
    assert len(first) == 64 and (tmp_path / "alias-salt").exists()
    assert installation_salt() == first
    assert oct((tmp_path / "alias-salt").stat().st_mode)[-3:] == "600"


# ---------------------------------------------------------------- the gate's phone check
PHONES = [
    "+44 20 7946 0958", "(202) 456-1111", "202-456-1111", "030 12345678", "+49 (0)30 1234 5678", "06 12 34 56 78",
    "+33 6 12 34 56 78", "+39 347 123 4567", "612 345 678", "+34 612-345-678", "090-1234-5678", "03-1234-5678",
    "０９０－１２３４－５６７８", "（03）1234-5678", "+81 90 1234 5678", "+52 55 1234 5678", "+55 11 91234-5678",
    "1-800-555-0199", "+1 416 555 0199", "0044 20 7946 0958", "090−1234−5678", "０８０ー１２３４ー５６７８",
]
NOT_PHONES = [
    "9400 1111 2222 3333 4444 55", "9400111122223333444455", "1Z999AA10123456784", "111-3958185-1645065",
    "2026-11-23", "23.11.2026", "11/23/2026", "12345678", "39,90", "JD014600006281230704",
    "9261 2901 2345 6789 0123 45", "Order 111-3958185-1645065 and 111-3958185-1645066", "2017-2018",
    "DE 123 456 789", "1234-5678-9012", "XR-1234-5678",
]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_check_finds_unredacted_phones_and_redaction_removes_them(phone):
    text = f"Please call me on {phone} tomorrow."
    assert re.search(UNREDACTED_PHONE_CHECK, text), phone
    out = redact(text)
    assert PHONE in out and not re.search(UNREDACTED_PHONE_CHECK, out), out


@pytest.mark.parametrize("value", NOT_PHONES)
def test_phone_check_ignores_tracking_numbers_order_ids_and_dates(value):
    text = f"My tracking number is {value}, thanks."
    assert not re.search(UNREDACTED_PHONE_CHECK, text), value
    assert redact(text) == text


def test_redacted_text_never_trips_the_phone_check():
    texts = [f"Ref {a} / call {b}!" for a in NOT_PHONES for b in PHONES] + [c[0] for c in CASES]
    texts.append("My USPS tracking number is 9400 1111 2222 3333 4444 55 and my phone 0171 2345678")
    for t in texts:
        out = redact(t)
        assert not re.search(UNREDACTED_PHONE_CHECK, out), (t, out)


def test_phone_check_works_with_pandas_str_contains():
    import pandas as pd

    s = pd.Series([redact("call +44 20 7946 0958"), "USPS 9400 1111 2222 3333 4444 55", "call +44 20 7946 0958"])
    assert s.str.contains(UNREDACTED_PHONE_CHECK, regex=True).tolist() == [False, False, True]
