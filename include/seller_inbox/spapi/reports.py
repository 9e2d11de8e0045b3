"""Reports API 2021-06-30: create a report, poll it, fetch its document (usage plans from the
model ``reports_2021-06-30.json``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from seller_inbox.spapi.operation import table
from seller_inbox.spapi.paging import iso

LIBRARY_API = "reports"
_BASE = "/reports/2021-06-30"

OPERATIONS = table(
    ("createReport", "reports/2021-06-30", "POST", _BASE + "/reports", 0.0167, 15),
    ("getReport", "reports/2021-06-30", "GET", _BASE + "/reports/{reportId}", 2, 15),
    ("getReportDocument", "reports/2021-06-30", "GET", _BASE + "/documents/{reportDocumentId}", 0.0167, 15),
)


class Reports:
    """Client mixin: the Reports calls."""

    def create_report(self, report_type: str, marketplace_ids: list[str] | None = None,
                      data_start: datetime | None = None, data_end: datetime | None = None) -> str:
        body: dict[str, Any] = {"reportType": report_type,
                                "marketplaceIds": list(marketplace_ids or self._marketplace_ids or [])}
        if data_start:
            body["dataStartTime"] = iso(data_start)
        if data_end:
            body["dataEndTime"] = iso(data_end)
        res = self.call("createReport", lambda c: c.create_report(**body), api=LIBRARY_API, idempotent=False)
        return res.payload["reportId"]

    def get_report(self, report_id: str) -> dict:
        return self.call("getReport", lambda c: c.get_report(report_id), api=LIBRARY_API).payload

    def get_report_document(self, document_id: str, download: bool = True) -> dict:
        """``{"reportDocumentId", "url", ..., "document": text}`` (document only when download)."""
        res = self.call("getReportDocument", lambda c: c.get_report_document(document_id, download=download),
                        api=LIBRARY_API)
        return res.payload
