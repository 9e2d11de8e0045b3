"""E-mail addresses: plain (Amazon's relay aliases ``…@marketplace.amazon.<tld>`` too), split by a
line wrap, and obfuscated ("john dot doe at gmail dot com", "john(at)gmail.com", "john [at] …")."""

from __future__ import annotations

import re

from seller_inbox.redaction.spans import Span

_WRAP = r"(?:[ \t]*\n[ \t]*)?"
# starts only where a run of address characters starts: a long word is scanned once, not per letter
_PLAIN_RE = re.compile(rf"(?<![\w.+'%-])[\w.+'%-]++{_WRAP}@{_WRAP}[\w-]+(?:\.{_WRAP}[\w-]+)+")
_TLD = (r"(?:com|net|org|info|biz|edu|gov|io|me|eu|de|fr|it|es|nl|pl|se|pt|jp|cn|uk|us|ca|mx|br|au|at|ch|be|dk|"
        r"fi|no|ie|cz|ru|in|tr|sg|nz|lu|co\.(?:uk|jp|nz)|com\.(?:br|mx|au)|ne\.jp|or\.jp)")
# "@" said in each served language's own word: arobase, Klammeraffe/ät, chiocciola, arroba, apenstaartje,
# małpa, snabel-a, アットマーク; unambiguous, so no provider check is needed after them
_AT_WORDS = (r"arobase|arrobase|klammeraffe|ät|chiocciola|chiocciolina|arroba|apenstaartje|apestaartje|apestaart|"
             r"małpa|malpa|malpka|snabel-a|snabela|kanelbulle|アットマ[ー-]ク|あっとま[ー-]く|アット")
_AT_MARK = (rf"(?:[ \t]*(?:\(at\)|\[at\]|\{{at\}}|<at>|\(@\)|\[@\]|\(a\)|\[a\]|[(\[]?(?:{_AT_WORDS})[)\]]?)[ \t]*"
            r"|[ \t]+at[ \t]+|[ \t]*@[ \t]*)")
_HAS_AT_WORD = re.compile(rf"(?i){_AT_WORDS}")
_DOT_MARK = r"(?:[ \t]*(?:\(dot\)|\[dot\]|\{dot\}|<dot>|\(\.\)|\[\.\]|\(punkt\)|\(point\))[ \t]*|[ \t]+(?:dot|punkt|point|punto|kropka|kropeczka|punt|ponto|prick|piste)[ \t]+|[ \t]*(?:ドット|どっと|点)[ \t]*|[ \t]+\.[ \t]+|\.)"
_OBFUSCATED_RE = re.compile(
    rf"(?i)(?<![\w.+-])[\w+-]{{1,64}}(?:{_DOT_MARK}[\w+-]{{1,64}}){{0,4}}{_AT_MARK}[\w-]{{1,63}}(?:{_DOT_MARK}[\w-]{{1,63}}){{0,3}}?"
    rf"{_DOT_MARK}{_TLD}(?![\w-])")
# with a bare " at " and real dots, only a personal mail provider makes it an address ("look at amazon.com")
_PROVIDERS = re.compile(
    r"(?i)(?:gmail|googlemail|yahoo|ymail|hotmail|outlook|live|msn|aol|icloud|me|mac|gmx|web|t-online|freenet|"
    r"posteo|mailbox|orange|free|laposte|sfr|wanadoo|libero|virgilio|tiscali|alice|tin|aruba|telefonica|movistar|"
    r"terra|ziggo|kpnmail|planet|hetnet|wp|onet|interia|o2|op|tlen|telia|spray|bredband|sapo|qq|163|126|sina|"
    r"docomo|ezweb|softbank|i\.softbank|proton|protonmail)\b")
_WORD_AT = re.compile(r"(?i)[ \t]+at[ \t]+")
_WORD_DOT = re.compile(r"(?i)[ \t]+(?:dot|punkt|point|punto|kropka|kropeczka|punt|ponto|prick|piste)[ \t]+|[(\[{<](?:dot|\.|punkt|point)[)\]}>]")
# the first half of an address a line wrap cut after a dot, dash or underscore
_CUT_LOCAL = re.compile(r"[\w.+-]*[._-]$")


def find(norm: str) -> list[Span]:
    spans = []
    for m in _PLAIN_RE.finditer(norm):
        start = m.start()
        if start >= 1 and norm[start - 1] == "\n":
            line_start = norm.rfind("\n", 0, start - 1) + 1
            prev = norm[line_start:start - 1].rstrip(" \t")
            cut = _CUT_LOCAL.search(prev)
            if cut and len(cut.group(0)) > 1 and (cut.start() == 0 or prev[cut.start() - 1] in " \t:<(,;"):
                start = line_start + cut.start()
        spans.append(Span(start, m.end(), "EMAIL"))
    if (" at" in norm or "(" in norm or "[" in norm or "{" in norm or "<" in norm or " AT" in norm or " @" in norm
            or _HAS_AT_WORD.search(norm)):
        for m in _OBFUSCATED_RE.finditer(norm):
            s = m.group(0)
            at = _WORD_AT.search(s)
            if at and "@" not in s and not _WORD_DOT.search(s[at.end():]) and not _PROVIDERS.match(s[at.end():]):
                continue
            spans.append(Span(m.start(), m.end(), "EMAIL"))
    return spans
