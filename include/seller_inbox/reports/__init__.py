"""Amazon's own figures per store: the V2 performance report and the seller feedback report.

The ``si_<store>_performance`` DAG (daily) requests both reports for every marketplace of the
store (``requests``), waits for them in the triggerer without holding a worker slot
(``trigger``, ``tasks.WaitForReportsOperator``), downloads, decompresses and loads them
(``parse``, ``load``) and gates the result. docs/performance-report.md tells the whole story,
including what is assumed where Amazon's documentation says nothing.
"""

PERFORMANCE = "GET_V2_SELLER_PERFORMANCE_REPORT"
FEEDBACK = "GET_SELLER_FEEDBACK_DATA"
REPORT_TYPES = (PERFORMANCE, FEEDBACK)
# each daily run asks for the feedback left in the 30 days before its data interval ends: a
# buyer can still remove feedback for 60 days, so a later run sees what an earlier one missed
FEEDBACK_DAYS = 30
TERMINAL = ("DONE", "CANCELLED", "FATAL")
