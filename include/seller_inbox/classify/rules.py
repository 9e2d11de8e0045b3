"""Cheapest layer: rules on sender, subject and the mail parser's ``kind``.

Amazon's A-to-z and account-health notices, auto-replies and bounces are recognised here
without the model. Also: the text the later layers look at (the buyer's own words, without
Amazon's relay frame and without quoted history).
"""

from __future__ import annotations

import re

_A = re.IGNORECASE

# --- senders --------------------------------------------------------------------------
_AMAZON_SENDER = re.compile(r"@(?:[\w-]+\.)*amazon\.(?:com|ca|com\.mx|com\.br|co\.uk|de|fr|it|es|nl|pl|se|co\.jp|com\.au|sg|in|ae|sa|com\.tr|com\.be)\b", _A)
_RELAY_SENDER = re.compile(r"@marketplace\.amazon\.", _A)
_ATOZ_SENDER = re.compile(r"(?:atoz|a-to-z|guarantee|garantie|claims?)[\w.+-]*@", _A)
_HEALTH_SENDER = re.compile(r"(?:seller-performance|performance-notification|seller-notification|account-health|policy|compliance|listing-quality|product-compliance|notice-dispute)[\w.+-]*@", _A)
_BOUNCE_SENDER = re.compile(r"(?:mailer-daemon|postmaster|mail-daemon|no-?reply-bounce)@", _A)

# --- subjects ------------------------------------------------------------------------
_ATOZ_TEXT = re.compile(
    r"a-?to-?z|a\s+to\s+z\s+(?:guarantee|claim)|a-bis-z|a\s+bis\s+z|garantie\s+(?:de\s+)?a\s+(?:à|a)\s+z"
    r"|garanzia\s+dalla\s+a\s+alla\s+z|garant[ií]a\s+de\s+la\s+a\s+a\s+la\s+z|a-tot-z|"
    r"マーケットプレイス保証|Aから\s?Zまで保証|A-?Z保証|a-z-garantie|a-z guarantee|a-z claim", _A)
_HEALTH_TEXT = re.compile(
    r"policy\s+(?:warning|violation)|account\s+health|selling\s+privileges|listing[s]?\s+(?:has\s+been\s+|have\s+been\s+|was\s+|were\s+)?(?:deactivated|removed|suppressed)"
    r"|account\s+(?:deactivat|suspen|at\s+risk|review)|performance\s+notification|order\s+defect\s+rate|"
    r"intellectual\s+property|authenticity\s+complaint|plan\s+of\s+action|"
    r"richtlinienwarnung|richtlinienversto[sß]|kontozustand|verkaufsberechtigung|angebot\s+deaktiviert|deaktiviert|leistungsbenachrichtigung|"
    r"avertissement|violation\s+de\s+(?:la\s+)?politique|sant[ée]\s+du\s+compte|privil[eè]ges\s+de\s+vente|d[ée]sactiv|"
    r"avviso\s+(?:relativo\s+alle\s+)?(?:policy|normative)|violazione\s+(?:delle\s+)?(?:normative|policy)|stato\s+dell'account|privilegi\s+di\s+vendita|disattivat|"
    r"advertencia|infracci[oó]n\s+de\s+(?:la\s+)?pol[ií]tica|estado\s+de\s+la\s+cuenta|privilegios\s+de\s+venta|desactivad|"
    r"ポリシー違反|アカウント健全性|出品停止|出品が停止|出品者の権限|アカウントの停止|規約違反|警告", _A)
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:(?:re|aw|fw|fwd|wg)\s*:\s*)*(?:automatic\s+reply|auto(?:matic)?[\s-]*reply|auto(?:matic)?[\s-]*response|autoreply|out\s+of\s+(?:the\s+)?office|"
    r"abwesenheits?notiz|automatische\s+antwort|abwesend|r[ée]ponse\s+automatique|absence|absent|risposta\s+automatica|fuori\s+(?:sede|ufficio)|"
    r"respuesta\s+autom[áa]tica|fuera\s+de\s+(?:la\s+)?oficina|automatisch\s+antwoord|afwezig|自動返信|自動応答|不在|自动回复|"
    r"delivery\s+status\s+notification|undeliverable|undelivered\s+mail|mail\s+delivery\s+(?:failed|failure|subsystem)|returned\s+mail|"
    r"delivery\s+failure|message\s+not\s+delivered|unzustellbar|nicht\s+zustellbar|non\s+remis|non\s+distribuibile|no\s+se\s+puede\s+entregar|"
    r"配信不能|送信できませんでした|退信)", _A)
_AUTO_BODY = re.compile(
    r"this\s+is\s+an\s+automatic(?:ally\s+generated)?\s+(?:reply|response|message)|i\s+am\s+(?:currently\s+)?out\s+of\s+(?:the\s+)?office|"
    r"delivery\s+to\s+the\s+following\s+recipients?\s+failed|could\s+not\s+be\s+delivered|the\s+following\s+message\s+to\s+<|"
    r"your\s+message\s+could\s+not\s+be\s+delivered|has\s+opted\s+out\s+of|"
    r"ich\s+bin\s+(?:bis|vom|derzeit|zurzeit)\b.*\b(?:abwesend|nicht\s+im\s+b[üu]ro)|diese\s+nachricht\s+wurde\s+automatisch|"
    r"je\s+suis\s+(?:actuellement\s+)?absente?|ceci\s+est\s+une\s+r[ée]ponse\s+automatique|"
    r"sono\s+(?:attualmente\s+)?fuori\s+(?:sede|ufficio)|questa\s+[èe]\s+una\s+risposta\s+automatica|"
    r"estoy\s+(?:actualmente\s+)?fuera\s+de\s+la\s+oficina|esta\s+es\s+una\s+respuesta\s+autom[áa]tica|"
    r"このメールは自動(?:返信|送信)|自動返信メール|不在にしております", _A | re.S)
_AUTO_HEADERS = ("auto-submitted", "x-autoreply", "x-autorespond", "precedence")

# --- buyer text ----------------------------------------------------------------------
_BEGIN = re.compile(r"-{3,}\s*(?:begin message|nachricht beginnt|d[ée]but du message|inizio messaggio|inicio del mensaje|メッセージ開始)\s*-{3,}", _A)
_END = re.compile(r"-{3,}\s*(?:end message|nachricht endet|fin du message|fine messaggio|fin del mensaje|メッセージ終了)\s*-{3,}", _A)
_QUOTE_HEAD = re.compile(
    r"^(?:on\s.{4,80}\swrote:|am\s.{4,80}\sschrieb.{0,60}:|le\s.{4,80}\sa\s[ée]crit\s?:|il\s.{4,80}\sha\s+scritto:|"
    r"el\s.{4,80}\sescribi[óo]:|op\s.{4,80}\sschreef.{0,40}:|.{0,60}\d{4}.{0,40}(?:のメッセージ|さんは書きました|wrote)\s?[:：]?|"
    r"-{2,}\s*(?:original message|urspr[üu]ngliche nachricht|message d'origine|messaggio originale|mensaje original|元のメッセージ)\s*-{2,}|"
    r"from:\s.+|von:\s.+|de\s?:\s.+@.+|da:\s.+@.+)\s*$", _A)
_COMM_TOKEN = re.compile(r"\[commMgrTok:[^\]]*\]", _A)


def buyer_text(body: str | None) -> str:
    """The buyer's own words: inside Amazon's relay frame, without quoted history."""
    text = body or ""
    m = _BEGIN.search(text)
    if m:
        rest = text[m.end():]
        e = _END.search(rest)
        text = rest[: e.start()] if e else rest
    text = _COMM_TOKEN.sub("", text)
    out: list[str] = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith(">"):
            continue
        if _QUOTE_HEAD.match(s) and out:
            break  # everything below is the quoted history
        out.append(line)
    cleaned = "\n".join(out).strip()
    return cleaned or (body or "").strip()


def header_intent(subject: str | None, from_addr: str | None, body: str | None = None,
                  kind: str | None = None, headers: dict | None = None) -> tuple[str, str] | None:
    """``(intent, reason)`` when sender/headers decide the intent, else None."""
    subject = subject or ""
    sender = (from_addr or "").strip()
    hdrs = {k.lower(): str(v) for k, v in (headers or {}).items()}
    is_relay = bool(_RELAY_SENDER.search(sender))
    is_amazon = bool(_AMAZON_SENDER.search(sender)) and not is_relay
    if _BOUNCE_SENDER.search(sender):
        return "auto_reply", "bounce_sender"
    if hdrs.get("auto-submitted", "no").lower() not in ("", "no") or "x-autoreply" in hdrs or "x-autorespond" in hdrs:
        return "auto_reply", "auto_submitted_header"
    if _AUTO_SUBJECT.search(subject):
        return "auto_reply", "auto_subject"
    if kind == "auto_reply":
        return "auto_reply", "kind"
    if is_amazon or kind == "amazon_notice":
        head = subject + "\n" + (body or "")[:600]
        if _ATOZ_SENDER.search(sender) or _ATOZ_TEXT.search(head):
            return "a_to_z_claim", "amazon_atoz"
        if _HEALTH_SENDER.search(sender) or _HEALTH_TEXT.search(head):
            return "account_health", "amazon_account_health"
        if _AUTO_BODY.search((body or "")[:1500]):
            return "auto_reply", "amazon_delivery_failure"
        return None
    if _AUTO_BODY.search((body or "")[:1500]):
        return "auto_reply", "auto_body"
    return None
