"""Micro-batching: the items of concurrent requests, gathered for a few milliseconds, go through the
detector in one call on the model thread, so that many small clients get batch-path throughput.

The model thread is one worker thread that every detector and index call runs on: the event loop
never waits for inference (health checks answer under load), and the index is never read while it
is being written.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

__all__ = ["MicroBatcher"]


@dataclass
class _Request:
    items: list
    future: asyncio.Future


class MicroBatcher:
    """Runs ``run(items) -> results`` (one result per item, in order; an exception instance for an
    item that failed alone) on ``executor``, over the items of every request submitted within
    ``wait_s`` of the first, up to ``max_items`` items a call (a larger request goes alone)."""

    def __init__(self, run: Callable[[list], Sequence], executor: Executor, *, wait_s: float = 0.005, max_items: int = 32):
        self.run = run
        self.executor = executor
        self.wait_s = wait_s
        self.max_items = max_items
        self._queue: deque[_Request] = deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        """Start gathering (call from the running event loop)."""
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop gathering; requests still queued get a cancelled future."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for request in self._queue:
            request.future.cancel()

    async def submit(self, items: list) -> list:
        """The results of ``items``, computed with whatever other requests arrive meanwhile."""
        request = _Request(list(items), asyncio.get_running_loop().create_future())
        self._queue.append(request)
        self._wakeup.set()
        return await request.future

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            if sum(len(request.items) for request in self._queue) < self.max_items:
                await asyncio.sleep(self.wait_s)
            batch = self._take()
            if not self._queue:
                self._wakeup.clear()
            if batch:
                await self._run(loop, batch)

    def _take(self) -> list[_Request]:
        """Requests from the front of the queue, up to ``max_items`` items; a cancelled one is dropped."""
        batch, count = [], 0
        while self._queue and (not batch or count + len(self._queue[0].items) <= self.max_items):
            request = self._queue.popleft()
            if not request.future.done():
                batch.append(request)
                count += len(request.items)
        return batch

    async def _run(self, loop: asyncio.AbstractEventLoop, batch: list[_Request]) -> None:
        items = [item for request in batch for item in request.items]
        try:
            results = await loop.run_in_executor(self.executor, self.run, items)
        except Exception as error:  # the run failed as a whole: every request hears why
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(error)
            return
        start = 0
        for request in batch:
            mine = list(results[start : start + len(request.items)])
            start += len(request.items)
            if request.future.done():
                continue
            failed = next((result for result in mine if isinstance(result, Exception)), None)
            if failed is not None:
                request.future.set_exception(failed)
            else:
                request.future.set_result(mine)
