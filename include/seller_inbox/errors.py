"""Marker bases that say how a failure is handled, checked with ``isinstance`` (never by class name).

``FinalError``: retrying cannot change the outcome (bad data caught by a gate, revoked or wrong
credentials, a malformed registry); the task fails at once with its message.
``AlertWritten``: the component that raised it already queued a specific alert row, so the
incident bookkeeping does not queue a second, generic one.
"""


class FinalError(Exception):
    """A failure that a retry cannot fix."""


class AlertWritten(Exception):
    """A failure whose specific alert row was already queued by the component that raised it."""
