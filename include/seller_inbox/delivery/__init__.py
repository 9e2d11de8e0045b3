"""Delivery: the one path by which anything reaches a buyer (docs/delivery.md).

``deliver.deliver_store`` drains ``core.outbox`` for one store; ``aliases`` keeps the buyer's
relay alias encrypted; ``controls`` holds the send-time rules (kill switches, quiet hours,
caps); ``smtp`` speaks to the store's mail server; ``summary`` reports what happened.
Channel modules for the SP-API (``solicitations``, ``messaging``) are imported lazily.
"""
