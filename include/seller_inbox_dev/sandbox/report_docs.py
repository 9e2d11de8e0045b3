"""The simulator's report documents, computed from its own orders and their defects (``defects.py``).

* ``GET_V2_SELLER_PERFORMANCE_REPORT`` (JSON, shape of Amazon's ``accountHealthReport`` schema):
  ``performanceMetrics[].orderDefectRate.{afn,mfn}`` with ``orderCount``, ``orderWithDefects``,
  ``claims``, ``chargebacks``, ``negativeFeedback`` (``{count, status}``), ``rate``,
  ``targetValue`` 0.01, ``targetCondition`` and ``reportingDateRange``. The window is the 60
  UTC days ending ``ODR_LAG_DAYS`` before the report is made (Amazon's short-term ODR
  reportedly lags about two weeks so late claims can land). Orders: those purchased in the
  window and not cancelled; a defect counts when it happened by the time the report is made.
* ``GET_SELLER_FEEDBACK_DATA`` (tab-separated, header ``Date Rating Comments Your Response
  Order ID Rater Email``, dates ``MM/DD/YY``): feedback left in ``[dataStartTime,
  dataEndTime)`` on orders of the requested marketplaces.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from seller_inbox_dev.sandbox.defects import defects

UTC = timezone.utc
ODR_LAG_DAYS = 14
ODR_WINDOW_DAYS = 60
ODR_TARGET = 0.01
FEEDBACK_HEADER = ("Date", "Rating", "Comments", "Your Response", "Order ID", "Rater Email")
FEEDBACK_DEFAULT_DAYS = 30
# feedback comes at most this long after the purchase (delivery + up to 20 days, see defects.py)
_FEEDBACK_MAX_AFTER_PURCHASE = timedelta(days=45)


def odr_window(t: datetime) -> tuple[date, date]:
    """(first, last) UTC day of the ODR window of a report made at ``t``."""
    last = t.date() - timedelta(days=ODR_LAG_DAYS)
    return last - timedelta(days=ODR_WINDOW_DAYS - 1), last


def _odr(orders: list, seed: int, t: datetime, rng_range: dict, channel: str) -> dict:
    claims = cb = neg = defective = 0
    for o in orders:
        d = defects(o, seed)
        c = d.claim_at is not None and d.claim_at <= t
        b = d.chargeback_at is not None and d.chargeback_at <= t
        n = d.negative() and d.feedback.at <= t
        claims, cb, neg, defective = claims + c, cb + b, neg + n, defective + (c or b or n)
    rate = round(defective / len(orders), 4) if orders else 0.0
    status = "NONE" if not orders else ("GOOD" if rate < ODR_TARGET else "BAD")

    def part(n: int) -> dict:
        return {"count": n, "status": "NONE" if not orders else ("GOOD" if n / len(orders) < ODR_TARGET else "BAD")}

    return {"reportingDateRange": rng_range, "orderCount": len(orders), "orderWithDefects": part(defective),
            "claims": part(claims), "chargebacks": part(cb), "negativeFeedback": part(neg),
            "fulfillmentType": channel, "status": status, "rate": rate, "targetValue": ODR_TARGET,
            "targetCondition": "LESS_THAN"}


def performance_report(state, seller: str, mids: list[str], t: datetime) -> dict:
    """The V2 performance report of ``seller`` for marketplaces ``mids`` as made at ``t``."""
    first, last = odr_window(t)
    start = datetime.combine(first, time(0), tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
    orders = [o for o in state.orders_between(seller, start, end, as_of=None) if o.final_status != "Canceled"]
    rng_range = {"reportingDateFrom": f"{first.isoformat()}T00:00Z", "reportingDateTo": f"{last.isoformat()}T23:59Z"}
    seed = state.config.seed
    metrics = []
    for mid in mids:
        mine = [o for o in orders if o.marketplace_id == mid]
        odr = {ch.lower(): _odr([o for o in mine if o.fulfillment_channel == ch], seed, t, rng_range, ch.lower())
               for ch in ("AFN", "MFN")}
        metrics.append({"marketplaceId": mid, "orderDefectRate": odr,
                        "accountHealthRating": {"ahrStatus": "GREAT", "reportingDateRange": rng_range}})
    return {"accountStatuses": [{"marketplaceId": m, "status": "NORMAL"} for m in mids],
            "performanceMetrics": metrics}


def _cell(s: str) -> str:
    return " ".join(s.replace("\t", " ").split())


def feedback_rows(state, seller: str, mids: list[str], start: datetime, end: datetime, t: datetime) -> list[tuple]:
    """Feedback left in ``[start, min(end, t))`` on the seller's orders in ``mids``, oldest first."""
    end = min(end, t)
    seed = state.config.seed
    rows = []
    for o in state.orders_between(seller, start - _FEEDBACK_MAX_AFTER_PURCHASE, end, as_of=None):
        if o.marketplace_id not in mids:
            continue
        f = defects(o, seed).feedback
        if f is not None and start <= f.at < end:
            rows.append((f.at, o, f))
    rows.sort(key=lambda r: (r[0], r[1].amazon_order_id))
    return [(f"{at:%m/%d/%y}", str(f.rating), _cell(f.comment), _cell(f.response), o.amazon_order_id,
             o.buyer.buyer_email) for at, o, f in rows]


def feedback_report(rows: list[tuple]) -> str:
    return "\n".join("\t".join(r) for r in [FEEDBACK_HEADER, *rows]) + "\n"


def default_feedback_window(t: datetime) -> tuple[datetime, datetime]:
    end = t.replace(microsecond=0)
    return end - timedelta(days=FEEDBACK_DEFAULT_DAYS), end
