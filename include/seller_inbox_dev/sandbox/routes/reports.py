"""Reports API 2021-06-30: createReport, getReport, getReportDocument, and the document download
(a pre-signed URL at Amazon; ``/_sandbox/documents/`` here)."""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from seller_inbox_dev.sandbox.http import Problem, Sim, iso, sim_of

REPORT_TYPES = ("GET_V2_SELLER_PERFORMANCE_REPORT",)
router = APIRouter()


def report_view(sim: Sim, r: dict) -> dict:
    scale = max(sim.config.time_scale, 1e-9)
    age = time.monotonic() - r["t0"]
    q, p = sim.config.report_queue_seconds / scale, sim.config.report_processing_seconds / scale
    d = {"reportId": r["reportId"], "reportType": r["reportType"], "marketplaceIds": r["marketplaceIds"],
         "createdTime": r["createdTime"], "processingStatus": "IN_QUEUE"}
    for k in ("dataStartTime", "dataEndTime"):
        if r.get(k):
            d[k] = r[k]
    if r.get("cancelled"):
        d["processingStatus"] = "CANCELLED"
        return d
    if age >= q:
        d["processingStatus"] = "IN_PROGRESS"
        d["processingStartTime"] = iso(r["created"] + timedelta(seconds=q))
    if age >= q + p:
        d["processingEndTime"] = iso(r["created"] + timedelta(seconds=q + p))
        d["processingStatus"] = r["outcome"]
        if r["outcome"] in ("DONE", "FATAL"):
            d["reportDocumentId"] = r["documentId"]
    return d


@router.post("/reports/2021-06-30/reports", status_code=202)
def create_report(request: Request, body: dict | None = None):
    sim = sim_of(request)
    state = sim.state
    seller, _ = sim.begin(request, "createReport")
    body = body or {}
    rtype, mids = body.get("reportType"), body.get("marketplaceIds")
    if rtype not in REPORT_TYPES:
        raise Problem(400, "InvalidInput", "Invalid input", f"Unsupported reportType {rtype!r}.")
    if not isinstance(mids, list) or not mids:
        raise Problem(400, "InvalidInput", "Invalid input", "marketplaceIds is required.")
    sim.check_marketplace(seller, mids, "marketplaceIds")
    f = state.faults.draw(seller, "createReport", ("report_fatal", "report_cancelled"))
    outcome = "DONE" if f is None else ("FATAL" if f.kind == "report_fatal" else "CANCELLED")
    with state.lock:
        state._report_seq += 1
        rid = str(state._report_seq)
    t = sim.now()
    doc_id = f"amzn1.spdoc.1.4.na.{uuid.uuid4()}"
    r = {"reportId": rid, "seller": seller, "reportType": rtype, "marketplaceIds": mids,
         "createdTime": iso(t), "created": t, "t0": time.monotonic(), "outcome": outcome,
         "documentId": doc_id, "dataStartTime": body.get("dataStartTime"), "dataEndTime": body.get("dataEndTime")}
    content = performance_report(sim, seller, mids, t) if outcome == "DONE" else {
        "errorDetails": "The report could not be generated: an internal error occurred."}
    with state.lock:
        state.reports[rid] = r
        state.documents[doc_id] = json.dumps(content, indent=1).encode()
    return sim.ok("createReport", {"reportId": rid}, status=202)


@router.get("/reports/2021-06-30/reports/{report_id}")
def get_report(report_id: str, request: Request):
    sim = sim_of(request)
    seller, _ = sim.begin(request, "getReport")
    r = sim.state.reports.get(report_id)
    if r is None or r["seller"] != seller:
        raise Problem(404, "NotFound", "Invalid input", f"Report {report_id} not found.")
    return sim.ok("getReport", report_view(sim, r))


@router.get("/reports/2021-06-30/documents/{document_id}")
def get_report_document(document_id: str, request: Request):
    sim = sim_of(request)
    seller, _ = sim.begin(request, "getReportDocument")
    r = next((r for r in sim.state.reports.values() if r["documentId"] == document_id and r["seller"] == seller),
             None)
    if r is None or report_view(sim, r).get("reportDocumentId") != document_id:
        raise Problem(404, "NotFound", "Invalid input", f"Report document {document_id} not found.")
    host, port = request.scope.get("server") or ("127.0.0.1", 80)
    base = f"{request.url.scheme}://{host}:{port}"
    return sim.ok("getReportDocument", {"reportDocumentId": document_id,
                                        "url": f"{base}/_sandbox/documents/{document_id}"})


@router.get("/_sandbox/documents/{document_id}")
def download_document(document_id: str, request: Request):
    content = sim_of(request).state.documents.get(document_id)
    if content is None:
        return Response(b"<Error><Code>NoSuchKey</Code></Error>", status_code=404, media_type="application/xml")
    return Response(content, media_type="application/json; charset=UTF-8")


def performance_report(sim: Sim, seller: str, mids: list[str], t: datetime) -> dict:
    rng = random.Random(f"{sim.config.seed}:{seller}:{t.date().isoformat()}")
    end = t.date() - timedelta(days=1)
    start = end - timedelta(days=59)
    rng_range = {"reportingDateFrom": f"{start.isoformat()}T00:00:00Z", "reportingDateTo": f"{end.isoformat()}T23:59:59Z"}

    def odr(orders: int) -> dict:
        claims, cb, neg = rng.randint(0, max(1, orders // 300)), rng.randint(0, 1), rng.randint(0, max(1, orders // 200))
        defects = claims + cb + neg
        return {"reportingDateRange": rng_range, "status": "GOOD" if defects / max(orders, 1) < 0.01 else "BAD",
                "targetValue": 0.01, "targetCondition": "LESS_THAN", "orderCount": orders,
                "rate": round(defects / max(orders, 1), 5),
                "orderWithDefects": {"count": defects, "status": "GOOD"},
                "claims": {"count": claims, "status": "GOOD"}, "chargebacks": {"count": cb, "status": "GOOD"},
                "negativeFeedback": {"count": neg, "status": "GOOD"}}

    metrics = []
    for mid in mids:
        n = rng.randint(800, 3000)
        afn = int(n * sim.state.sellers[seller].afn_share)
        metrics.append({"marketplaceId": mid, "orderDefectRate": {"afn": odr(afn), "mfn": odr(n - afn)},
                        "accountHealthRating": {"ahrStatus": "GREAT", "ahrScore": rng.randint(200, 1000)}})
    return {"accountStatuses": [{"marketplaceId": m, "status": "NORMAL"} for m in mids],
            "performanceMetrics": metrics}
