"""Redaction of buyer personal data before anything is stored.

What is replaced (placeholders are stable so classifiers can still see that something was
there): e-mail addresses ``[EMAIL]``, phone numbers ``[PHONE]``, postal addresses
``[ADDRESS]`` (street lines, post codes with towns, Japanese addresses) and person names
``[NAME]`` (known names such as the relay's buyer first name, names after honorifics,
greetings, self-introductions, sign-offs, and name lines above an address).

Order ids (``123-1234567-1234567``) and ASINs are protected and survive untouched.
It is pattern-based and tuned for the marketplaces we serve (EN, DE, FR, IT, ES, JA);
it errs on the side of redacting.
"""

from __future__ import annotations

import re
from typing import Iterable

EMAIL = "[EMAIL]"
PHONE = "[PHONE]"
ADDRESS = "[ADDRESS]"
NAME = "[NAME]"

_ORDER = re.compile(r"\b\d{3}-\d{7}-\d{7}\b")
# starts only where a run of address characters starts: a long word is scanned once, not per letter
_EMAIL_RE = re.compile(r"(?<![\w.+'-])[\w.+'-]++@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Phones. THE definition of a phone number, shared by redaction and the ingest gate's
# "no unredacted phone" check (pandas ``str.contains``): a maximal run of 7-15 digits joined by
# at most three separators each, optionally after "+" or "(", not part of a word, a [PLACEHOLDER]
# or a longer digit group (so order ids 3-7-7, tracking numbers of 16+ digits and "1Z..." stay),
# not a date, and not a plain run of 7-8 digits without separators.
_PHONE_SEP = r"[ \t().\-/\u2010-\u2015\u30fc\u3000\uff08\uff09\uff0d]"
_NOT_MORE_DIGITS = rf"(?!{_PHONE_SEP}{{0,3}}\d)"
UNREDACTED_PHONE_CHECK = (
    r"(?<![0-9A-Za-z\[])"
    rf"(?<!\d{_PHONE_SEP})(?<!\d{_PHONE_SEP}{{2}})(?<!\d{_PHONE_SEP}{{3}})"
    r"\+?\(?"
    rf"(?!\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}{_NOT_MORE_DIGITS})"
    rf"(?!\d{{1,2}}[-/.]\d{{1,2}}[-/.]\d{{2,4}}{_NOT_MORE_DIGITS})"
    rf"(?!\d{{7,8}}{_NOT_MORE_DIGITS})"
    rf"\d(?:{_PHONE_SEP}{{0,3}}\d){{6,14}}{_NOT_MORE_DIGITS}(?![0-9A-Za-z\]])"
)
_PHONE_RE = re.compile(UNREDACTED_PHONE_CHECK)
_CAP = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿß'’\-]+"
_CAPW = rf"(?:{_CAP}|[A-Z]\.)"
_NAME_SEQ = rf"{_CAP}(?:[ \t]+{_CAPW}){{0,2}}"

_STREET_EN = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?(?:[ \t]+{_CAPW}){{1,4}}[ \t]+(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|"
    r"Boulevard|Blvd|Court|Ct|Way|Place|Pl|Terrace|Close|Crescent|Gardens|Parkway|Pkwy|Highway|Hwy|"
    r"Square|Sq|Circle|Cir|Row|Mews)\b\.?(?:,?[ \t]*(?:Apt|Apartment|Suite|Unit|Flat|#)\.?[ \t]*[\w-]+)?"
)
_STREET_DE = re.compile(
    r"\b[A-ZÄÖÜ][\wäöüß-]{0,40}(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|chaussee)"
    r"[ \t]*\d{1,4}[ \t]*[a-zA-Z]?\b"
    r"|\b(?:Am|An der|Im|Auf der|Zum|Zur)[ \t]+[A-ZÄÖÜ][\wäöüß-]+[ \t]+\d{1,4}[a-z]?\b"
)
_STREET_ROMANCE = re.compile(
    r"(?i:\b\d{1,4}(?:[ \t]?(?:bis|ter))?,?[ \t]+(?:rue|avenue|av\.|boulevard|bd|chemin|allée|impasse|place|quai|route)"
    r"\b[^\n,;]{2,50})"
    r"|(?i:\b(?:via|viale|piazza|corso|vicolo|largo|strada|calle|c/|avenida|avda\.?|plaza|paseo|camino|carrer|rúa)"
    r"[ \t]+)[A-ZÀ-Ýa-zà-ÿ'][^\n,;]{1,40}?,?[ \t]*(?:n[ºo°.]?[ \t]*)?\d{1,4}[a-zA-Z]?"
    r"(?:,?[ \t]*\d{1,2}[ºª°][ \t]*[A-Za-z]?)?"
)
_POSTCODE_CITY = re.compile(
    r"\b(?:[A-Z]{1,2}-)?\d{5}[ \t]+[A-ZÀ-Ý][\wà-ÿ'-]+(?:[ \t]+(?:am|an|sur|de|del|di)?[ \t]*[A-ZÀ-Ý][\wà-ÿ'-]+)?"
)
_US_CITY_ZIP = re.compile(rf"\b{_CAP}(?:[ \t]+{_CAP}){{0,6}},[ \t]*[A-Z]{{2}}[ \t]+\d{{5}}(?:-\d{{4}})?\b")
_UK_POSTCODE = re.compile(rf"\b(?:{_CAP}[ \t]+){{0,2}}[A-Z]{{1,2}}\d[A-Z\d]?[ \t]*\d[A-Z]{{2}}\b")
_CA_POSTCODE = re.compile(r"\b[A-Z]\d[A-Z][ \t]?\d[A-Z]\d\b")
_JP_ADDRESS = re.compile(
    r"〒[ \t]?\d{3}[-‐－ー]?\d{4}|(?<!\d)\d{3}[-‐－ー]\d{4}(?=[ \t　]*(?:東京都|北海道|京都府|大阪府|[一-龥]{2,3}県))"
    r"|(?:東京都|北海道|京都府|大阪府|[一-龥]{2,3}県)[一-龥ぁ-んァ-ン0-9０-９\-‐－ー丁目番地号の]{1,40}"
)
_HONORIFIC = re.compile(
    rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Herr|Frau|Hr|Fr|M|Mme|Mlle|Monsieur|Madame|Sig|Sig\.ra|Signor|Signora|"
    rf"Sr|Sra|Srta|Señor|Señora|Don|Doña)\.?[ \t]+{_NAME_SEQ}"
)
_GREETING = re.compile(
    rf"(?m)^([ \t]*(?:Hi|Hello|Hey|Dear|Hallo|Moin|Servus|Liebe|Lieber|Sehr geehrte|Sehr geehrter|Guten Tag|"
    rf"Bonjour|Bonsoir|Salut|Cher|Chère|Ciao|Salve|Gentile|Gentilissima|Gentilissimo|Buongiorno|Buonasera|"
    rf"Hola|Estimado|Estimada|Buenos días|Buenas tardes|Good morning|Good afternoon)"
    rf"(?:[ \t]+(?:Herr|Frau|Mr\.?|Mrs\.?|Ms\.?|Monsieur|Madame|Sig\.?|Sr\.?|Sra\.?))?)[ \t]+{_NAME_SEQ}"
)
_INTRO = re.compile(
    rf"((?i:my name is|my name's|this is|i am|i'm|mein name ist|ich heiße|ich bin|hier ist|"
    rf"je m'appelle|je m’appelle|je suis|moi c'est|mi chiamo|sono|me llamo|mi nombre es|soy)[ \t]+)"
    rf"{_NAME_SEQ}"
)
_CLOSING = (
    r"(?:Thanks(?: again| a lot| so much)?|Thank you(?: very much| so much)?|Many thanks|Regards|Kind regards|"
    r"Best regards|Best wishes|Best|Warm regards|Cheers|Sincerely|Yours sincerely|Yours|Respectfully|Sent from my \w+|"
    r"Mit freundlichen Grüßen|Mit freundlichem Gruß|Freundliche Grüße|Viele Grüße|Beste Grüße|Liebe Grüße|"
    r"Schöne Grüße|Grüße|Gruß|LG|MfG|VG|Danke|Vielen Dank|"
    r"Cordialement|Bien cordialement|Bien à vous|Merci|Merci beaucoup|Salutations|Bonne journée|"
    r"Cordiali saluti|Distinti saluti|Saluti|Grazie|Grazie mille|Un saluto|"
    r"Saludos|Un saludo|Atentamente|Gracias|Muchas gracias|Saludos cordiales|Un abrazo)"
)
_CLOSING_LINE = re.compile(rf"(?im)^[ \t]*+{_CLOSING}[ \t]*+[,.!]*+[ \t]*+$")
_CLOSING_INLINE = re.compile(rf"(?m)^([ \t]*+{_CLOSING}[ \t]*+[,.!]?[ \t]*+)({_NAME_SEQ})[ \t]*$")
_NAME_LINE = re.compile(rf"^[ \t]*(?:(?:{_CAPW}|\[NAME\])[ \t]*){{1,4}}$|^[ \t]*[一-龥ぁ-んァ-ン]{{2,8}}(?:[ \t　][一-龥ぁ-んァ-ン]{{1,6}})?[ \t]*$")
_JP_CLOSING = re.compile(r"(?:よろしくお願い(?:いた)?します|宜しくお願い(?:いた)?します|以上、?よろしくお願いします|敬具)[。.!！]?[ \t]*$")
_JP_SAMA = re.compile(r"([一-龥ァ-ヶー]{1,6}|[ぁ-ん]{2,6})(様|さま|さん|殿)")
_JP_SAMA_KEEP = {"お客", "客", "皆", "お", "ご", "皆々", "各位", "お疲れ", "お世話", "ご苦労", "奥"}
_JP_MOUSHIMASU = re.compile(r"(?:私は)?([一-龥ァ-ヶー]{1,4}[ 　]?[一-龥ぁ-んァ-ヶー]{0,4})(と申します|です。?$)", re.M)
_NAME_TAIL = re.compile(rf"\[NAME\]((?:[ \t]+{_CAP}){{1,2}})")
_PLACEHOLDER_RUN = re.compile(r"\[(EMAIL|PHONE|ADDRESS|NAME)\](?:[ \t,]*\[\1\])+")
# Words that look like names after "I am"/"sono" but are not.
_NOT_NAMES = {
    "Amazon", "Prime", "Not", "So", "Very", "Still", "Sure", "Sorry", "Happy", "Glad", "Just", "Really",
    "Bitte", "Leider", "Sehr", "Noch", "Nicht", "Gerade", "Très", "Vraiment", "Molto", "Ancora", "Muy",
    "The", "A", "An", "It", "Team", "Support", "Seller", "Customer", "Service", "Kundenservice", "Sir", "Madam",
    "Seller,", "Sellers", "Partner", "Verkäufer", "Kunde", "Kundin", "Vendeur", "Client", "Cliente", "Venditore",
    "Vendedor", "All", "Everyone", "There", "Again", "Amazon-Kunde", "Damen", "Herren", "Madame,", "Monsieur,",
}


_SENTENCE_WORDS = {
    "I", "We", "Please", "Thanks", "Thank", "My", "Our", "You", "Your", "Is", "Can", "Could", "Would", "Will",
    "Do", "Does", "Did", "Hello", "Hi", "Dear", "Ich", "Wir", "Bitte", "Danke", "Mein", "Meine", "Je", "Nous",
    "Merci", "Mon", "Ma", "Io", "Grazie", "Il", "La", "Yo", "Gracias", "Mi", "El", "Los", "Las", "Le", "Les",
    "Der", "Die", "Das", "And", "Or", "But", "If", "When", "Where", "What", "How", "Why", "Here", "There",
}


def _fix_intro(m: re.Match) -> str:
    name = m.group(0)[len(m.group(1)):]
    first = name.split()[0].rstrip(".,")
    if first in _NOT_NAMES:
        return m.group(0)
    return m.group(1) + NAME


def _fix_tail(m: re.Match) -> str:
    """``[NAME] Miller``: a capitalised word right after a known first name is its surname."""
    words = m.group(1).split()
    if words[0] in _NOT_NAMES or words[0] in _SENTENCE_WORDS:
        return m.group(0)
    return NAME


def _fix_greeting(m: re.Match) -> str:
    first = m.group(0)[len(m.group(1)):].split()[0].rstrip(".,")
    if first in _NOT_NAMES:
        return m.group(0)
    return m.group(1) + " " + NAME


def redact(text: str, names: Iterable[str] = ()) -> str:
    """Return ``text`` with buyer personal data replaced by placeholders."""
    if not text:
        return text
    text = text.replace("\x00", "")  # NUL marks the protected order ids below (and cannot be stored)
    # protect order ids (they look like phone numbers)
    orders: list[str] = []

    def _keep(m: re.Match) -> str:
        orders.append(m.group(0))
        return f"\x00{len(orders) - 1}\x00"

    t = _ORDER.sub(_keep, text)
    t = _EMAIL_RE.sub(EMAIL, t)
    t = _JP_ADDRESS.sub(ADDRESS, t)
    t = _PHONE_RE.sub(PHONE, t)
    t = _POSTCODE_CITY.sub(ADDRESS, t)
    t = _US_CITY_ZIP.sub(ADDRESS, t)
    t = _STREET_EN.sub(ADDRESS, t)
    t = _STREET_DE.sub(ADDRESS, t)
    t = _STREET_ROMANCE.sub(ADDRESS, t)
    t = _UK_POSTCODE.sub(ADDRESS, t)
    t = _CA_POSTCODE.sub(ADDRESS, t)
    for n in names:
        n = (n or "").strip()
        if len(n) >= 2 and n not in _NOT_NAMES:
            t = re.sub(rf"(?<![0-9A-Za-zÀ-ÖØ-öø-ÿ\[]){re.escape(n)}(?![0-9A-Za-zÀ-ÖØ-öø-ÿ\]])", NAME, t)
        t = _NAME_TAIL.sub(_fix_tail, t)
    t = _HONORIFIC.sub(NAME, t)
    t = _GREETING.sub(_fix_greeting, t)
    t = _INTRO.sub(_fix_intro, t)
    t = _CLOSING_INLINE.sub(lambda m: m.group(1) + NAME, t)
    if "\n" in t:
        t = _lines(t)
    if any("\u3040" <= c <= "\u9fff" for c in t):
        t = _JP_SAMA.sub(lambda m: m.group(0) if m.group(1) in _JP_SAMA_KEEP or m.group(1).endswith("客") else NAME + m.group(2), t)
        t = _JP_MOUSHIMASU.sub(lambda m: NAME + m.group(2) if m.group(2) == "と申します" else m.group(0), t)
    t = _PLACEHOLDER_RUN.sub(lambda m: f"[{m.group(1)}]", t)
    if orders:
        t = re.sub(r"\x00(\d+)\x00", lambda m: orders[int(m.group(1))], t)
    return t


def _lines(t: str) -> str:
    """Line-level rules: names under a sign-off, and name lines just above an address."""
    lines = t.split("\n")
    n = len(lines)
    for i, line in enumerate(lines):
        if _CLOSING_LINE.match(line) or _JP_CLOSING.search(line):
            j, done = i + 1, 0
            while j < n and done < 3:
                s = lines[j]
                if not s.strip():
                    j += 1
                    if done:
                        break
                    continue
                if s.strip() in (NAME, ADDRESS, PHONE, EMAIL):
                    j += 1
                    done += 1
                    continue
                if _NAME_LINE.match(s) and s.split()[0] not in _NOT_NAMES:
                    lines[j] = NAME
                    done += 1
                    j += 1
                    continue
                break
        if ADDRESS in line and i > 0 and _NAME_LINE.match(lines[i - 1]) and lines[i - 1].strip():
            if lines[i - 1].split()[0] not in _NOT_NAMES:
                lines[i - 1] = NAME
    return "\n".join(lines)


# --------------------------------------------------------------------------- installation salt
SALT_ENV = "SELLER_INBOX_SALT"


def installation_salt() -> bytes:
    """The per-installation salt for hashing buyer aliases.

    ``$SELLER_INBOX_SALT`` if set, else ``$SELLER_INBOX_HOME/alias-salt`` (default
    ``<repo>/.seller-inbox/alias-salt``, git-ignored), created with 32 random bytes if missing.
    Changing it changes every alias hash: keep it with the warehouse backups.
    """
    import os
    import secrets

    env = os.environ.get(SALT_ENV)
    if env:
        return env.encode("utf-8")
    from seller_inbox.paths import home

    p = home() / "alias-salt"
    try:
        return p.read_text(encoding="ascii").strip().encode()
    except FileNotFoundError:
        value = secrets.token_hex(32)
        tmp = p.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(value + "\n", encoding="ascii")
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, p)  # atomic create-if-missing; a concurrent winner keeps its value
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        return p.read_text(encoding="ascii").strip().encode()
