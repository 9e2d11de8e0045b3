"""Reports API 2021-06-30: createReport, getReport, getReportDocument, and the document download
(a pre-signed URL at Amazon; ``/_sandbox/documents/`` here).

Two report types, computed from the simulator's own orders (``report_docs.py``): the V2
performance report (JSON, uncompressed) and the seller feedback report (tab-separated,
GZIP-compressed, as Amazon serves many flat files; ``compressionAlgorithm`` says so). A
feedback report with no rows ends CANCELLED, as Amazon cancels reports with no data.
Processing: IN_QUEUE for ``report_queue_seconds``, IN_PROGRESS for ``report_processing_seconds``
(both divided by ``time_scale``) plus the ``delay`` of a ``report_stuck`` fault (real seconds),
then DONE, or FATAL / CANCELLED under the ``report_fatal`` / ``report_cancelled`` faults.
"""

from __future__ import annotations

import gzip
import json
import time
import uuid
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from seller_inbox_dev.sandbox import report_docs
from seller_inbox_dev.sandbox.http import Problem, Sim, iso, parse_iso, sim_of

PERFORMANCE = "GET_V2_SELLER_PERFORMANCE_REPORT"
FEEDBACK = "GET_SELLER_FEEDBACK_DATA"
REPORT_TYPES = (PERFORMANCE, FEEDBACK)
router = APIRouter()


def report_view(sim: Sim, r: dict) -> dict:
    scale = max(sim.config.time_scale, 1e-9)
    age = time.monotonic() - r["t0"]
    q = sim.config.report_queue_seconds / scale
    p = sim.config.report_processing_seconds / scale + r.get("stuck", 0.0)
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


def _document(sim: Sim, seller: str, rtype: str, mids: list[str], body: dict, t) -> tuple[dict, str]:
    """(stored document, outcome): the content for a report made at ``t``."""
    if rtype == PERFORMANCE:
        content = json.dumps(report_docs.performance_report(sim.state, seller, mids, t), indent=1).encode()
        return {"content": content, "media": "application/json; charset=UTF-8", "gzip": False}, "DONE"
    lo, hi = report_docs.default_feedback_window(t)
    start = parse_iso(body["dataStartTime"]) if body.get("dataStartTime") else lo
    end = parse_iso(body["dataEndTime"]) if body.get("dataEndTime") else hi
    rows = report_docs.feedback_rows(sim.state, seller, mids, start, end, t)
    content = gzip.compress(report_docs.feedback_report(rows).encode(), mtime=0)
    return ({"content": content, "media": "text/tab-separated-values; charset=UTF-8", "gzip": True},
            "DONE" if rows else "CANCELLED")


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
    stuck = state.faults.draw(seller, "createReport", ("report_stuck",))
    with state.lock:
        state._report_seq += 1
        rid = str(state._report_seq)
    t = sim.now()
    doc_id = f"amzn1.spdoc.1.4.na.{uuid.uuid4()}"
    doc, outcome = _document(sim, seller, rtype, mids, body, t)
    if f is not None:
        outcome = "FATAL" if f.kind == "report_fatal" else "CANCELLED"
    if outcome == "FATAL":
        doc = {"content": json.dumps({"errorDetails": "The report could not be generated: an internal error "
                                                      "occurred."}).encode(),
               "media": "application/json; charset=UTF-8", "gzip": False}
    r = {"reportId": rid, "seller": seller, "reportType": rtype, "marketplaceIds": mids,
         "createdTime": iso(t), "created": t, "t0": time.monotonic(), "outcome": outcome,
         "stuck": stuck.delay if stuck is not None else 0.0,
         "documentId": doc_id, "dataStartTime": body.get("dataStartTime"), "dataEndTime": body.get("dataEndTime")}
    with state.lock:
        state.reports[rid] = r
        state.documents[doc_id] = doc
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
    body = {"reportDocumentId": document_id, "url": f"{base}/_sandbox/documents/{document_id}"}
    if sim.state.documents[document_id]["gzip"]:
        body["compressionAlgorithm"] = "GZIP"
    return sim.ok("getReportDocument", body)


@router.get("/_sandbox/documents/{document_id}")
def download_document(document_id: str, request: Request):
    doc = sim_of(request).state.documents.get(document_id)
    if doc is None:
        return Response(b"<Error><Code>NoSuchKey</Code></Error>", status_code=404, media_type="application/xml")
    # a compressed document is sent as stored, without Content-Encoding: the client decompresses it
    return Response(doc["content"], media_type=doc["media"])
