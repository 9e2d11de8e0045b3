"""Reading the two report documents (pure: text in, rows out; no I/O).

Amazon documents the performance report's JSON schema but not every field's presence, and the
feedback report's columns and date format only by example, so both readers are defensive: a
missing required piece is a ``ReportFormatError`` naming the store, the report and the field;
an unknown extra field is ignored. Assumptions (docs/performance-report.md): the feedback
report's dates are ``MM/DD/YY`` (US style); when a date reads either way (``03/04/26``) the
reading inside the requested window wins, else the US one. The rater e-mail column is never
read past the header.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

from seller_inbox.domain import marketplaces as mp
from seller_inbox.errors import FinalError

FEEDBACK_COLUMNS = {"date": "Date", "rating": "Rating", "comment": "Comments", "response": "Your Response",
                    "order_id": "Order ID"}
_REQUIRED_FEEDBACK = ("date", "rating", "order_id")


class ReportFormatError(FinalError, ValueError):
    """A document we cannot read; retrying will not change it. The message says where."""


def _code(mid: str, where: str) -> str:
    for m in mp.MARKETPLACES.values():
        if m.marketplace_id == mid:
            return m.code
    raise ReportFormatError(f"{where}: unknown marketplaceId {mid!r} (add it to domain/marketplaces.py)")


def _day(s: object, where: str) -> date:
    try:
        return datetime.fromisoformat(str(s).replace("Z", "+00:00")).date()
    except ValueError:
        raise ReportFormatError(f"{where}: {s!r} is not a date-time") from None


def _count(odr: dict, key: str, where: str) -> int | None:
    v = odr.get(key)
    v = v.get("count") if isinstance(v, dict) else v
    if v is None:
        return None
    if not isinstance(v, int) or v < 0:
        raise ReportFormatError(f"{where}: {key}.count {v!r} is not a count")
    return v


def performance_rows(text: str, where: str) -> list[dict]:
    """One row per marketplace × channel (AFN/MFN) × window of a V2 performance report."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ReportFormatError(f"{where}: not JSON ({exc})") from None
    metrics = doc.get("performanceMetrics") if isinstance(doc, dict) else None
    if not isinstance(metrics, list):
        raise ReportFormatError(f"{where}: no performanceMetrics list")
    out = []
    for i, m in enumerate(metrics):
        at = f"{where}: performanceMetrics[{i}]"
        code = _code(m.get("marketplaceId"), at)
        for ch, odr in sorted((m.get("orderDefectRate") or {}).items()):
            w = f"{at}.orderDefectRate.{ch}"
            if ch.upper() not in ("AFN", "MFN") or not isinstance(odr, dict):
                continue   # a channel we do not know (none today): not ours to guess
            rng = odr.get("reportingDateRange") or {}
            if "reportingDateFrom" not in rng or "reportingDateTo" not in rng:
                raise ReportFormatError(f"{w}: reportingDateRange is missing")
            rate = odr.get("rate")
            out.append({
                "marketplace": code, "fulfillment": ch.upper(),
                "window_start": _day(rng["reportingDateFrom"], w), "window_end": _day(rng["reportingDateTo"], w),
                "order_count": _count(odr, "orderCount", w), "defects_count": _count(odr, "orderWithDefects", w),
                "claims_count": _count(odr, "claims", w), "chargebacks_count": _count(odr, "chargebacks", w),
                "negative_feedback_count": _count(odr, "negativeFeedback", w),
                "order_defect_rate": None if rate is None else round(float(rate), 5),
                "target_value": odr.get("targetValue"), "target_condition": odr.get("targetCondition"),
                "status": odr.get("status")})
    return out


def feedback_date(s: str, window: tuple[date, date] | None, where: str) -> date:
    s = s.strip()
    try:
        return date.fromisoformat(s)
    except ValueError:
        pass
    parts = s.split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ReportFormatError(f"{where}: Date {s!r} is neither MM/DD/YY nor YYYY-MM-DD")
    a, b, y = (int(p) for p in parts)
    y = y + 2000 if y < 100 else y
    readings = []
    for mo, d in ((a, b), (b, a)):
        try:
            readings.append(date(y, mo, d))
        except ValueError:
            pass
    if not readings:
        raise ReportFormatError(f"{where}: Date {s!r} is not a calendar date")
    if window is not None:
        inside = [r for r in readings if window[0] <= r <= window[1]]
        if inside:
            return inside[0]
    return readings[0]


def feedback_rows(text: str, where: str, window: tuple[date, date] | None = None) -> list[dict]:
    """Rows of a feedback report: ``{order_id, date, rating, comment, has_response}`` (unredacted
    comment: the loader redacts it). No rater e-mail."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header is None:
        return []
    index = {h.strip().lower(): i for i, h in enumerate(header)}
    col = {k: index.get(v.lower()) for k, v in FEEDBACK_COLUMNS.items()}
    missing = [FEEDBACK_COLUMNS[k] for k in _REQUIRED_FEEDBACK if col[k] is None]
    if missing:
        raise ReportFormatError(f"{where}: no column {', '.join(missing)} in the header {header[:8]}")
    out = []
    for n, row in enumerate(reader, start=2):
        if not any(c.strip() for c in row):
            continue
        at = f"{where}: line {n}"

        def cell(k: str) -> str:
            i = col[k]
            return row[i].strip() if i is not None and i < len(row) else ""

        rating = cell("rating")
        if not rating.isdigit() or not 1 <= int(rating) <= 5:
            raise ReportFormatError(f"{at}: Rating {rating!r} is not 1 to 5")
        if not cell("order_id"):
            raise ReportFormatError(f"{at}: Order ID is empty")
        out.append({"order_id": cell("order_id"), "date": feedback_date(cell("date"), window, at),
                    "rating": int(rating), "comment": cell("comment"), "has_response": bool(cell("response"))})
    return out
