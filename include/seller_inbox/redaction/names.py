"""Personal names in running text: the buyer's own display name anywhere and in any case, names
after honorifics, greetings and self-introductions ("my name is …", "hier ist der …",
"je m'appelle …", 私は…と申します, 我叫…), after a sign-off on the same line ("Grüße, Jürgen
Müller") and after a dash ("- john"). Name lines of a signature are in ``signatures``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

from seller_inbox.redaction import lexicon as lx
from seller_inbox.redaction.spans import Span

UP = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĘĚĹĽŁŃŇŐŒŔŘŚŞŠŢŤŮŰŹŻŽ"
LO = "a-zß-öø-ÿāăąćčďđęěĺľłńňőœŕřśşšţťůűźżž"
CAP = rf"(?:[{UP}][{LO}]{{0,30}}(?:['’-][{UP}{LO}][{LO}]{{1,30}}|[{UP}][{LO}]{{1,30}})?[{LO}]|[{UP}]{{2,30}}(?:-[{UP}]{{2,30}})?|[{UP}]\.)"
WORD = rf"[{UP}{LO}][{LO}{UP}'’-]{{0,40}}"
_PARTICLE = r"(?:van|von|der|den|de|da|di|del|della|la|le|lo|li|du|do|dos|das|dal|dalla|ten|ter|zu|y|e|bin|al)"
# up to four name words: "María Dolores Fuentes Ibáñez", "Casilda Urquiza de la Fuente"
_CAP_SEQ = rf"{CAP}(?:[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}{CAP}){{0,3}}"
# an initial counts as a word ("C. Frantzen", "q. harrowgate", "Ambrose N.")
_ANY_WORD = rf"(?:[{UP}{LO}]\.(?=[ \t]+[{UP}{LO}])|{WORD}(?:[ \t]+[{UP}]\.(?=[ \t]*+$|[ \t]*+\n))?)"
_ANY_SEQ = rf"{_ANY_WORD}(?:[ \t]+{_ANY_WORD}){{0,4}}"
KANJI = "一-龥々〆ヶ"
# a separator between a cue and a name: punctuation with optional spaces, or spaces; possessive, so
# that 20,000 spaces after "Thanks" are not tried split by split
_SEP = r"(?:[ \t]*+[,:.!–—-]++[ \t]*+|[ \t]++)"
_SEP_COMMA = r"(?:[ \t]*+[,:]++[ \t]*+|[ \t]++)"
_END = r"[ \t]*+[.!]?[ \t]*+$"


def _alts(words: Iterable[str]) -> str:
    return "|".join(sorted(set(words), key=len, reverse=True))


_CLOSING = _alts(w for v in lx.CLOSINGS.values() for w in v.split("|"))
_GREETING = _alts(w for v in lx.GREETINGS.values() for w in v.split("|"))
# "Frau Dr. Anna Berger": a second honorific may follow the first
_HONORIFIC_RE = re.compile(rf"\b({lx.HONORIFICS})(\.?)(?:[ \t]+(?:{lx.HONORIFICS})\.)?[ \t]+({_CAP_SEQ})")
_GREETING_RE = re.compile(
    rf"(?im)^[ \t]*+(?:{_GREETING})(?:[ \t]++(?-i:{lx.HONORIFICS})\.?)?{_SEP_COMMA}({_ANY_SEQ})(?=[ \t]*+(?:[,!.:;]|$))")
_STRONG_RE = re.compile(rf"(?i:\b(?:{lx.STRONG_INTROS})){_SEP_COMMA}({_ANY_SEQ})")
# "Sou o Anacleto", "aqui é a Marilene", "sono la Giulia": an article may stand before the name
_WEAK_RE = re.compile(rf"(?i:\b(?:{lx.WEAK_INTROS}))(?:[ \t]+(?:o|a|la|il|el))?[ \t]+({_CAP_SEQ})")
# a third person named after who they are to the buyer: two Title-case words are a name wherever they stand
_RELATION_RE = re.compile(rf"(?i:\b(?:{lx.RELATIONS}))(?:[ \t]*+,)?[ \t]++({_CAP_SEQ})")
_HANDOVER_RE = re.compile(rf"(?i:\b(?:{lx.HANDOVERS}))[ \t]++({_CAP_SEQ})")
# an initial and a surname in running text ("ask C. Frantzen"), not after another initial ("U.S. Army")
_INITIAL_RE = re.compile(rf"(?<![\w.'’-])[{UP}]\.[ \t]?([{UP}][{LO}]{{2,30}}(?:-[{UP}][{LO}]{{2,30}})?)(?![\w'’-])")
# not on the first line: "Best Choice Products" is a shop, "Best, Jo" under a message a name
_CLOSING_INLINE_RE = re.compile(rf"(?im)(?:(?<=\n)|(?<=[.!?] ))[ \t]*+(?:{_CLOSING}){_SEP}({_ANY_SEQ}){_END}")
_CLOSING_TAIL_RE = re.compile(rf"(?m)^[ \t]*+(?i:{_CLOSING})\b[^\n]{{0,80}}?,[ \t]*+({_CAP_SEQ}){_END}")
_DASH_RE = re.compile(rf"(?m)(?:^|(?<=[.!?)]))[ \t]*+(?:[-–—~]{{1,2}}|/)[ \t]*+({_ANY_SEQ}|[{KANJI}]{{2,5}}){_END}")
# a form-like line: "Name: John Miller", "Nom : Dupont", "お名前：山田太郎"
_LABELLED_RE = re.compile(
    r"(?im)^[ \t]*(?:full name|name|first name|last name|surname|vorname|nachname|nom|prénom|nom complet|nome|cognome|"
    r"nombre|apellidos?|naam|voornaam|achternaam|imię|nazwisko|imię i nazwisko|namn|förnamn|efternamn|nome completo|"
    rf"recipient|empfänger|destinataire|destinatario|ontvanger|odbiorca|mottagare|"
    rf"fdo\.?|firmado|signed|unterschrift|assinado|assinatura|podpis|signé)[ \t]*+[:：][ \t]*+({_ANY_SEQ})[ \t]*+$")
_CJK_LABELLED_RE = re.compile(rf"(?m)(?:お名前|氏名|名前|姓名|收件人|收货人|联系人|寄件人|受取人|受け取り人|ご依頼主|依頼主|"
                              rf"注文者|購入者|お届け先名|宛名|收件人姓名|收货人姓名|购买人|订购人)[ \t　]*[:：][ \t　]*([{KANJI}ぁ-んァ-ヶー]{{2,8}}(?:[ 　][{KANJI}ぁ-んァ-ヶー]{{1,6}})?)")
# "Thank you Sarah for your help": a capitalised name right after a thank-you
_THANKS_RE = re.compile(rf"(?i:\b(?:thank you|thanks|thx|danke|merci|grazie|gracias|obrigad[oa]|dziękuję|dzięki|tack|"
                        rf"bedankt|dank je))[ \t]+({_CAP_SEQ})(?=[ \t]*[,.!;]|[ \t]+[{LO}])")
# "Herzliche Grüße von Anna Schmidt" ("Greetings from Berlin" is a town: a first name is required)
_CLOSING_FROM_RE = re.compile(rf"(?i:\b(?:{_CLOSING}){_SEP_COMMA}(?:von|from|de la part de|da parte di|de parte de))"
                              rf"[ \t]+({_CAP_SEQ})")
_JA_INTRO_RE = re.compile(rf"(?:私は|わたしは|私、)?([{KANJI}ァ-ヶー]{{1,6}}[ 　]?[{KANJI}ぁ-んァ-ヶー]{{0,5}}?)(?:と申します|といいます|と言います)")
_JA_NAME_IS_RE = re.compile(r"(?:私の名前は|名前は)([^\s。、,.]{1,12}?)です")
_JA_SAMA_RE = re.compile(rf"([{KANJI}ァ-ヶー]{{1,6}}|[ぁ-ん]{{2,6}}|(?<![A-Za-zÀ-ÿ])[A-ZÀ-Þ][A-Za-zß-ÿ]{{1,15}}(?:[ 　][A-ZÀ-Þ][A-Za-zß-ÿ]{{1,15}})?)"
                         r"(?:[ 　]?)(?:様|さま|さん|殿|くん|ちゃん)")
_CJK_CLOSING_NAME_RE = re.compile(rf"(?m)(?:{lx.CJK_CLOSINGS})[。.!！]?[ \t　]*([{KANJI}]{{2,5}}|[{KANJI}]{{1,3}}[ 　][{KANJI}]{{1,3}})[ \t　]*$")
# "中島宛", "田中様宛て": the addressee of a parcel
_JA_ATE_RE = re.compile(rf"(?<![{KANJI}])([{KANJI}]{{2,4}}?)(?:[ 　]?(?:様|さま|殿))?(?:宛て?|あて)")
# "田中より" closing a message, "张伟敬上", "山本です。" opening one, "我的名字是李娜", "本人张伟"
_CJK_FROM_RE = re.compile(rf"(?m)^[ \t　]*([{KANJI}]{{2,5}}?)[ \t　]?(?:より|敬上|拜上|上|谨上)[ \t　。.]*$"
                          rf"|^[ \t　]*([{KANJI}]{{2,5}})です[。、,.！!]|(?:我的名字是|我的名字叫|本人)([{KANJI}]{{2,4}}?)(?=[，。,.!！?？\s、]|$)")
# after a sentence too: "いつもお世話になっております。森田です。", "石川より。" (a Japanese surname of two or three characters)
_JA_DESU_RE = re.compile(rf"(?<=[。、！!])[ \t　]*([{KANJI}]{{2,4}}?)(?:です|より)(?=[。、！!\s]|$)")
# "マイケル・ブラウンです", "ジョン・スミス様": katakana joined by ・ before an introduction or honorific
_KATAKANA_NAME_RE = re.compile(r"([ァ-ヶー]{2,10}[・･][ァ-ヶー]{2,10})(?=と申します|様|さん|より)"
                               r"|(?<=[、は])([ァ-ヶー]{2,10}[・･][ァ-ヶー]{2,10})(?=です)")
# Chinese: "我的邻居林晓东", "请寄给周海燕收", "王先生", "李女士"
_ZH_RELATION_RE = re.compile(rf"(?:我的|我|转交给|交给|寄给|给)(?:邻居|朋友|同事|家人|妈妈|爸爸|丈夫|妻子|老公|老婆|室友|房东|"
                             rf"儿子|女儿|哥哥|姐姐|弟弟|妹妹)([{KANJI}]{{2,3}})(?=[，。,.!！?？\s、收]|$)"
                             rf"|(?:寄给|交给|转交给|给|至)([{KANJI}]{{2,3}})[ 　]?收")
_ZH_TITLE_RE = re.compile(rf"([{KANJI}]{{1,4}})(?:先生|女士|小姐)")
_ZH_INTRO_RE = re.compile(rf"我(?:叫|是|姓)([{KANJI}]{{2,4}}?)(?=[，。,.!！?？\s、]|$)")
_JA_HONORIFIC_KEEP = {"お客", "客", "皆", "お", "ご", "皆々", "各位", "お疲れ", "お世話", "ご苦労", "奥", "神", "王",
                      "店長", "担当", "担当者", "業者", "配達員", "運送屋", "宅配業者", "販売者", "出品者", "お店", "皆様"}


def _name_words(seq: str, start: int, trust: str) -> Span | None:
    """The leading name words of ``seq`` (which starts at ``start``), or None.

    ``trust`` is how strong the cue is. "strong" ("my name is"): words in any case. "case": a
    Title-case word, or a lower-case / SHOUTED one that is a first name of the bank ("hi john",
    "GRÜSSE, JÜRGEN"; not "Saludos cordialles", "THIS IS RIDICULOUS"). "bank": even a Title-case
    first word must be a first name of the bank ("Hi, Great, …", "danke Wie kann …").
    """
    end, first_banked = None, False
    for i, w in enumerate(re.finditer(r"\S+", seq)):
        token = w.group(0).strip(",.;:!?")
        low = token.lower()
        if i and end is not None and re.fullmatch(_PARTICLE, low) and w.group(0) == token:
            continue  # "Fleur de Vries": kept only if a name word follows
        if not token or low in lx.NOT_NAMES or not any(c.isalpha() for c in token) or (
                i == 0 and re.fullmatch(_PARTICLE, token)):
            break
        title = (token[0].isupper() and not token.isupper() or re.fullmatch(r"[^\W\d_]\.", w.group(0)) is not None
                 or cjk_surname(token))
        if i == 0:
            first_banked = low in lx.FIRST_NAMES
            ok = trust == "strong" or first_banked or (title and trust == "case")
        else:
            ok = trust == "strong" or title or first_banked
        if not ok:
            break
        end = start + w.start() + len(w.group(0).rstrip(",.;:!?"))
    return Span(start, end, "NAME") if end is not None else None


@lru_cache(maxsize=256)
def _known_res(names: tuple[str, ...]) -> tuple[re.Pattern | None, re.Pattern | None]:
    free, exact = [], []
    for n in names:
        n = " ".join((n or "").split())
        if n.lower() in lx.NOT_NAMES or sum(c.isalpha() for c in n) < 2:  # "J." alone would hit every "j."
            continue
        (exact if n.lower() in lx.AMBIGUOUS_NAMES else free).append(re.escape(n))
    # a name stands alone ("_" separates too: passport_John_Miller); a CJK name needs no spaces
    b, a = r"(?<![^\W_]|\[)", r"(?![^\W_]|\])"
    tail = rf"(?:[ \t_]+{CAP}){{0,2}}"
    cjk = [n for n in free if re.search(f"[{KANJI}ぁ-んァ-ヶ]", n)]
    latin = [n for n in free if n not in cjk]
    alts = "|".join(x for x in (rf"{b}(?i:{_alts(latin)}){a}" if latin else "", _alts(cjk)) if x)
    free_re = re.compile(rf"(?:{alts}){tail}") if free else None
    exact_re = re.compile(rf"{b}(?:{_alts(w[0].upper() + w[1:] for w in exact)}){a}{tail}") if exact else None
    return free_re, exact_re


def _known(text: str, names: tuple[str, ...]) -> list[Span]:
    spans = []
    for rx in _known_res(names):
        if rx is None:
            continue
        for m in rx.finditer(text):
            end = m.end()
            # a capitalised word after a known name is its surname, unless it is an ordinary word
            parts = list(re.finditer(r"[^\s_]+", m.group(0)))
            keep = 1
            for p in parts[1:]:
                if p.group(0).lower() in lx.NOT_NAMES:
                    break
                keep += 1
            end = m.start() + parts[keep - 1].end()
            if rx is not _known_res(names)[0] and keep == 1 and _sentence_word(text, m.start(), end):
                continue  # "Will you ship it?": an ordinary word that is also the buyer's name
            spans.append(Span(m.start(), end, "NAME"))
    return spans


def _lone_word(text: str, m: re.Match) -> bool:
    """"Hi, Xiomara, …": one capitalised word between commas after a greeting."""
    word = m.group(1).split()[0]
    return word[:1].isupper() and not word.isupper() and re.match(r"[ \t]*+[,!]", text[m.start(1) + len(word):]) is not None


def cjk_surname(word: str) -> bool:
    """Whether a Han-character word starts with a common Chinese or Japanese surname (多谢 does not)."""
    return bool(word) and "\u3400" <= word[0] <= "\u9fff" and (word[:2] in lx.CJK_SURNAMES or word[:3] in lx.CJK_SURNAMES
                                                              or word[0] in lx.CJK_SURNAMES)


_FILLER = {"here", "hier", "ici", "qui", "aquí", "aqui", "again", "encore", "ancora", "otra", "vez", "här", "tutaj"}


def _only_filler(rest: str) -> bool:
    """Whether what follows the name words is only punctuation or "here" ("hi, john here.")."""
    return all(w.strip(",.;:!?").lower() in _FILLER for w in rest.split())


_AFTER_NAME = re.compile(r"[ \t]*(?:[,.!;:)\n]|$|(?i:from|here|and|und|et|e|y|i|och|en|speaking|calling|again|"
                         r"aus|z|från|uit|ordered|bestellt|placed|on|at|will|is|has|hat|a|à|al|w)\b)")


def _name_ends(text: str, s: Span) -> bool:
    """After a weak cue: a name ends the clause, or is a first name from the bank."""
    first = text[s.start:s.end].split()[0].lower()
    return first in lx.FIRST_NAMES or _AFTER_NAME.match(text, s.end) is not None


def _sentence_word(text: str, start: int, end: int) -> bool:
    """Whether the word at ``start`` opens a sentence and a lower-case word follows it."""
    before = text[max(0, start - 3):start].rstrip(" \t")
    opens = not before or before.endswith(("\n", ".", "!", "?", '"', "("))
    return opens and re.match(r"[ \t]+[a-zß-ÿ]", text[end:end + 3]) is not None


def find(text: str, names: tuple[str, ...] = (), has_cjk: bool = False) -> list[Span]:
    spans = _known(text, names) if names else []
    for m in _HONORIFIC_RE.finditer(text):
        if m.group(1) in lx.DOTTED_HONORIFICS and not m.group(2):
            continue
        s = _name_words(m.group(3), m.start(3), "case")
        if s:  # the honorific goes too: it says who the person is as much as the name does
            spans.append(Span(m.start(), s.end, "NAME"))
    for rx, trust, whole in ((_GREETING_RE, "case", True), (_STRONG_RE, "strong", False), (_WEAK_RE, "case", False),
                             (_CLOSING_INLINE_RE, "case", True), (_CLOSING_TAIL_RE, "case", True), (_DASH_RE, "case", True),
                             (_LABELLED_RE, "strong", True), (_THANKS_RE, "bank", True), (_CLOSING_FROM_RE, "bank", False)):
        for m in rx.finditer(text):
            if rx is _GREETING_RE and "," in text[m.start():m.start(1)] and not _lone_word(text, m):
                trust = "bank"  # "Hi, Great idea": after "Hi," words are a name only if they are one
            elif rx is _GREETING_RE:
                trust = "case"
            s = _name_words(m.group(1), m.start(1), trust)
            # where the cue is weaker ("Dzień dobry, paczka nie dotarła") every word must be a name
            if s and (not whole or _only_filler(text[s.end:m.end(1)])):
                if rx is _WEAK_RE and not _name_ends(text, s):
                    continue  # "This is Amazing quality", "Sono Soddisfatto del prodotto"
                if rx is _WEAK_RE and _company(text, s.start):
                    continue  # "c/o Brandt Logistik GmbH": a firm receives the parcel, not a person
                spans.append(s)
            elif s is None and rx in (_CLOSING_INLINE_RE, _DASH_RE) and _signs_off(text, m, rx is _DASH_RE):
                lone = _lone_sign_off(m.group(1), m.start(1))  # "Cheers, ragnhild" closing the message
                if lone:
                    spans.append(lone)
    spans.extend(_third_persons(text))
    if has_cjk:
        spans.extend(_cjk(text))
    return spans


def _company(text: str, start: int) -> bool:
    """Whether the words from ``start`` to the end of the line name a firm ("Harbour Freight Ltd")."""
    end = text.find("\n", start)
    words = text[start:end if end >= 0 else len(text)].replace(",", " ").split()[:6]
    return any(w.lower().strip(".()?!;:") in lx.BUSINESS for w in words)


def trim_cjk_tail(text: str, s: Span) -> Span:
    """A Chinese name without the 收 ("recipient") written after it ("张伟 收")."""
    end = s.end
    while end - s.start > 2 and text[end - 1] in "收啟启":
        end -= 1
        while end > s.start and text[end - 1] in " \t　":
            end -= 1
    return Span(s.start, end, s.kind)


def _signs_off(text: str, m: re.Match, dash: bool) -> bool:
    """The cue opens the message's last line (or is a dash after a sentence: "thanks!! - bo") and a
    comma or dash sets the word off ("Cheers, bo")."""
    line_start = text.rfind("\n", 0, m.start(1)) + 1
    cue = text[line_start:m.start(1)]
    return (text[m.end():].strip() == "" and re.search(r"[,:–—-][ \t]*+$", cue) is not None
            and (dash or text[line_start:m.start()].strip() == ""))


def _lone_sign_off(word: str, start: int) -> Span | None:
    """One word in lower case or capitals signing off the message: a name, unless it is a word."""
    w = word.strip()
    if " " in w or not w.isalpha() or not 2 <= len(w) <= 20 or w.lower() in lx.NOTICE_WORDS:
        return None
    return Span(start, start + len(w), "NAME")


# after "C. Frantzen" the clause ends: "size L. Why is …" and "la S. Non esiterò" are sentences
_INITIAL_END = re.compile(rf"[ \t]*+(?:[,;:)\n]|$|\.(?:\s|$)|[ \t][{UP}][{LO}])")


def _third_persons(text: str) -> list[Span]:
    """Names after a relationship word ("my neighbour Oona Pettersen") and initial + surname."""
    spans = []
    for m in _RELATION_RE.finditer(text):
        s = _name_words(m.group(1), m.start(1), "case")
        if s and (" " in text[s.start:s.end] or _name_ends(text, s)):
            spans.append(s)
    for m in _HANDOVER_RE.finditer(text):  # two name words at least: "deliver to Reception" is a desk
        s = _name_words(m.group(1), m.start(1), "case")
        words = text[s.start:s.end].split() if s else []
        if (len(words) >= 2 and not any(w.lower().strip(".,") in lx.NOTICE_WORDS for w in words)
                and not _company(text, s.start)):
            spans.append(s)
    for m in _INITIAL_RE.finditer(text):
        if m.group(1).lower() not in lx.NOTICE_WORDS and _INITIAL_END.match(text, m.end()):
            spans.append(Span(m.start(), m.end(), "NAME"))
    return spans


def _cjk(text: str) -> list[Span]:
    spans = []
    for rx in (_JA_INTRO_RE, _JA_NAME_IS_RE, _ZH_INTRO_RE, _CJK_CLOSING_NAME_RE, _CJK_LABELLED_RE, _JA_ATE_RE):
        for m in rx.finditer(text):
            if rx in (_CJK_CLOSING_NAME_RE, _JA_ATE_RE) and not cjk_surname(m.group(1)):
                continue
            if m.group(1).strip() not in lx.CJK_NOT_NAMES:
                spans.append(Span(m.start(1), m.end(1), "NAME"))
    for m in _JA_DESU_RE.finditer(text):
        w = m.group(1)
        if (w[:2] in lx.CJK_SURNAMES or w[:3] in lx.CJK_SURNAMES) and w not in lx.CJK_NOT_NAMES:
            spans.append(Span(m.start(1), m.end(1), "NAME"))
    for m in _KATAKANA_NAME_RE.finditer(text):
        k = 1 if m.group(1) else 2
        spans.append(Span(m.start(k), m.end(k), "NAME"))
    for m in _ZH_RELATION_RE.finditer(text):
        k = 1 if m.group(1) else 2
        if cjk_surname(m.group(k)):
            spans.append(Span(m.start(k), m.end(k), "NAME"))
    for m in _ZH_TITLE_RE.finditer(text):
        run = m.group(1)
        lead = len(run) - len(run.lstrip("谢请问给和与跟向对把被让叫感致"))  # "谢谢王先生": thanks, then the name
        k = next((i for i in range(max(lead, len(run) - 3), len(run)) if run[i] in lx.CJK_SURNAMES), None)
        if k is not None:
            spans.append(Span(m.start(1) + k, m.end(1), "NAME"))
    for m in _CJK_FROM_RE.finditer(text):
        k = next(g for g in (1, 2, 3) if m.group(g))
        if cjk_surname(m.group(k)) and m.group(k) not in lx.CJK_NOT_NAMES:
            spans.append(Span(m.start(k), m.end(k), "NAME"))
    for m in _JA_SAMA_RE.finditer(text):
        s = _sama_name(text, m)
        if s:
            spans.append(s)
    return spans


_SAMA_END = re.compile(r"[、。,.!！?？\s」）)]|へ|宛|$")


def _sama_name(text: str, m: re.Match) -> Span | None:
    """The name before 様/さん: from a surname of the bank inside the run ("本日田中様" is 田中), or
    the whole run when 様 closes the phrase ("Lucía様、"); 仕様, 同様, 様々 and お客様 are words."""
    run, start = m.group(1), m.start(1)
    if run in _JA_HONORIFIC_KEEP or run in lx.CJK_NOT_NAMES or run.endswith("客") or run.startswith(("お", "ご")):
        return None
    for k in range(len(run)):
        if run[k:k + 2] in lx.CJK_SURNAMES or run[k] in lx.CJK_SURNAMES:
            return Span(start + k, m.end(1), "NAME")
    if _SAMA_END.match(text, m.end()) and not run[-1:] in "仕同模多異左各一有":
        return Span(start, m.end(1), "NAME")
    return None
