"""Seeded order defects for the simulator: A-to-z claims, chargebacks and buyer feedback.

Amazon has no API listing them; they reach a seller through notices, the performance report
and the feedback report. The simulator draws them per order from its own stream (``seed``,
seller, order id), so the same order always has the same defects and both reports — and,
later, reconciliation against our own counts — agree with the orders the Orders API serves.

Shares are the demo's (claims deliberately high): a claim on about 1 in 80 delivered orders
and on most orders that never arrived; feedback on about 1 in 8 delivered orders, a tenth of
it negative (1–2 stars). The demo mail (``seller_inbox_dev.demo.mail``) writes an A-to-z
notice for exactly these claims, dated ``claim_at``, so our claim count can agree with the
report's. A chargeback falls on about 1 in 2,000 orders (``CHARGEBACK_SHARE``, 0.05 %: an
assumed share for a seller in good standing, not an Amazon figure): a seller learns of chargebacks only as
counts in the report, never per order, so they are the one defect our ODR cannot see and the
reconciliation's tolerance (``metrics.RECONCILE_TOLERANCE``, 0.25 points) has to absorb them.
An earlier 1 in 300 (0.33 %) alone exceeded that tolerance in every window.
Feedback comments sometimes carry a name, phone number or e-mail, as real ones do, so the
loader's redaction has something to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from seller_inbox_dev.sandbox import data as simdata

CLAIM_SHARE_DELIVERED = 1 / 80
CLAIM_SHARE_NOT_ARRIVED = 0.7
CHARGEBACK_SHARE = 1 / 2000


@dataclass(frozen=True)
class SimFeedback:
    at: datetime
    rating: int            # 1..5
    comment: str
    response: str          # the seller's public response ("" when none)


@dataclass(frozen=True)
class SimDefects:
    claim_at: datetime | None        # A-to-z Guarantee claim filed (never denied here)
    chargeback_at: datetime | None
    feedback: SimFeedback | None

    def negative(self) -> bool:
        return self.feedback is not None and self.feedback.rating <= 2

    def defective(self) -> bool:
        return self.claim_at is not None or self.chargeback_at is not None or self.negative()


_COMMENTS = {
    "en": {1: ["Never arrived. Call me at 555-201-4477, nobody answers.", "Item broken, seller ignored my messages."],
           2: ["Late and the box was damaged.", "Not as described. Regards, Cherri Smith"],
           3: ["OK product, slow shipping."], 4: ["Good, arrived on time."],
           5: ["Great seller, thank you!", "Perfect, fast delivery. Contact me at jo.buyer@example.com if needed"]},
    "de": {1: ["Nie angekommen. Rückruf bitte unter 0171 2345678."], 2: ["Verspätet und beschädigt."],
           3: ["In Ordnung."], 4: ["Gut verpackt."], 5: ["Alles bestens, danke!"]},
    "fr": {1: ["Jamais reçu."], 2: ["Colis abîmé."], 3: ["Correct."], 4: ["Bien."], 5: ["Parfait, merci !"]},
    "it": {1: ["Mai arrivato."], 2: ["Pacco danneggiato."], 3: ["Discreto."], 4: ["Buono."], 5: ["Ottimo, grazie!"]},
    "es": {1: ["Nunca llegó."], 2: ["Llegó roto."], 3: ["Correcto."], 4: ["Bien."], 5: ["Perfecto, gracias."]},
    "ja": {1: ["届きませんでした。電話 090-1234-5678 まで連絡ください。"], 2: ["箱が破損していました。"],
           3: ["普通です。"], 4: ["良かったです。"], 5: ["迅速な対応ありがとうございました。"]},
}
_RESPONSE = {"en": "We are sorry and have contacted you about a replacement.", "de": "Das tut uns leid.",
             "fr": "Nous sommes désolés.", "it": "Ci dispiace.", "es": "Lo sentimos.", "ja": "申し訳ございません。"}


def defects(o: simdata.SimOrder, seed: int = 42) -> SimDefects:
    """The defects an order will ever have (with their dates); pure and deterministic."""
    rng = simdata._order_rng(seed, o, "defects")
    if o.shipped_at is None:     # cancelled before shipping: nothing to claim or rate
        return SimDefects(None, None, None)
    d = simdata.delivery(o, seed)
    arrived = d is not None and d.delivered_at is not None
    claim_at = chargeback_at = None
    if rng.random() < (CLAIM_SHARE_NOT_ARRIVED if not arrived else CLAIM_SHARE_DELIVERED):
        # a buyer must contact the seller and wait 48 h first: claims come days to weeks later
        claim_at = o.purchase_date + timedelta(days=rng.randint(5, 45), hours=rng.randint(0, 23))
    if rng.random() < CHARGEBACK_SHARE:
        chargeback_at = o.purchase_date + timedelta(days=rng.randint(10, 60))
    feedback = None
    if arrived and rng.random() < 1 / 8:
        rating = rng.choices((1, 2, 3, 4, 5), (0.06, 0.04, 0.10, 0.25, 0.55))[0]
        from seller_inbox.domain import marketplaces as mp

        lang = mp.get(o.marketplace).language
        texts = _COMMENTS.get(lang, _COMMENTS["en"])[rating]
        response = _RESPONSE.get(lang, _RESPONSE["en"]) if rating <= 2 and rng.random() < 0.5 else ""
        feedback = SimFeedback(d.delivered_at + timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 23)),
                               rating, rng.choice(texts), response)
    return SimDefects(claim_at, chargeback_at, feedback)
