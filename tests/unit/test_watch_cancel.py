"""A cancelled mail watcher stops, even when its read completes in the same instant.

On Python 3.11, ``asyncio.wait_for`` returns the inner result instead of raising when the
cancellation and the data arrive together: the triggerer's cancel was lost and the watcher went
back into IDLE for half an hour (a CI run hung on it). The client's timeouts are
``asyncio.timeout`` blocks, which never swallow a cancellation.
"""

from __future__ import annotations

import asyncio

import pytest

from seller_inbox.realtime.watch import ImapIdle


class _Writer:
    """Enough of a StreamWriter for commands: what the client sent."""

    def __init__(self):
        self.sent = b""

    def write(self, data: bytes) -> None:
        self.sent += data

    async def drain(self) -> None:
        return None


@pytest.mark.parametrize("call, before, data", [
    (lambda c: c.line(), b"", b"* OK ready\r\n"),
    (lambda c: c.idle(renew_s=1500), b"+ idling\r\n", b"* 3 EXISTS\r\n"),
], ids=["command reply", "mail during IDLE"])
def test_a_cancel_that_meets_arriving_data_still_cancels(call, before, data):
    async def scenario():
        reader = asyncio.StreamReader()
        reader.feed_data(before)
        task = asyncio.create_task(call(ImapIdle(reader, _Writer(), timeout=5)))
        for _ in range(3):
            await asyncio.sleep(0)  # the call is waiting on the socket
        reader.feed_data(data)  # the data and the cancel in the same instant
        assert task.cancel()
        with pytest.raises(asyncio.CancelledError):
            async with asyncio.timeout(5):
                await task

    asyncio.run(scenario())
