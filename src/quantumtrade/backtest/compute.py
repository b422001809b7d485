"""Where sweeps run: a local process pool (the default) or a Dask cluster.

Both backends have one method that matters, ``map(fn, tasks, shared=..., progress=...)``: it
calls ``fn(shared, task)`` for every task and returns the results in task order, whatever order
they finished in. ``shared`` (the bars of a sweep) travels to each worker once per backend and
shared object, not once per task: the process pool installs it in a module global through the
pool's initializer, the Dask backend broadcasts it with ``client.scatter(..., broadcast=True)``.
Calling ``map`` again with the same ``shared`` object reuses what the workers already hold.

``fn`` must be a module-level function (it is pickled by reference) and deterministic, so a
sweep gives the same results on either backend. The backtest layer knows nothing of settings:
the scheduler address is passed in (``backend_from_address``).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

TaskT = TypeVar("TaskT")
ResultT = TypeVar("ResultT")

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each finished task (and once with ``done = 0``)."""

_SHARED: Any = None


class ComputeBackend(Protocol):
    """Runs ``fn(shared, task)`` over tasks, in parallel, returning results in task order."""

    @property
    def workers(self) -> int:
        """Return how many tasks can run at once."""
        ...

    def map(
        self,
        fn: Callable[[Any, TaskT], ResultT],
        tasks: Sequence[TaskT],
        *,
        shared: Any = None,
        progress: Progress | None = None,
    ) -> list[ResultT]:
        """Return ``[fn(shared, task) for task in tasks]``, computed on the workers."""
        ...

    def close(self) -> None:
        """Release the workers."""
        ...


def _install(shared: Any) -> None:
    global _SHARED
    _SHARED = shared


def _call_with_shared(fn: Callable[[Any, TaskT], ResultT], task: TaskT) -> ResultT:
    return fn(_SHARED, task)


class _Closing:
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the workers."""


class LocalBackend(_Closing):
    """A pool of worker processes on this machine (in-process when ``max_workers == 1``).

    ``max_workers`` defaults to the CPU count. Workers are started with ``spawn``: a fresh
    interpreter is safe beside the threads of a progress bar or a Dask client, which ``fork``
    is not; a script that uses the pool therefore needs the ``if __name__ == "__main__":``
    guard. The pool lives until ``close()`` (or the end of a ``with`` block) and is rebuilt
    when ``map`` is given a different ``shared`` object.
    """

    def __init__(self, max_workers: int | None = None) -> None:
        count = (os.cpu_count() or 1) if max_workers is None else max_workers
        if count < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        self._workers = count
        self._pool: ProcessPoolExecutor | None = None
        self._shared: Any = None

    @property
    def workers(self) -> int:
        """Return how many tasks can run at once."""
        return self._workers

    def __repr__(self) -> str:
        return f"LocalBackend(max_workers={self._workers})"

    def _pool_for(self, shared: Any) -> ProcessPoolExecutor:
        if self._pool is None or shared is not self._shared:
            self.close()
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_install,
                initargs=(shared,),
            )
            self._shared = shared
        return self._pool

    def map(
        self,
        fn: Callable[[Any, TaskT], ResultT],
        tasks: Sequence[TaskT],
        *,
        shared: Any = None,
        progress: Progress | None = None,
    ) -> list[ResultT]:
        """Return ``[fn(shared, task) for task in tasks]``, computed on the pool."""
        total = len(tasks)
        if progress is not None:
            progress(0, total)
        if self._workers == 1 or total == 0:
            results: list[ResultT] = []
            for task in tasks:
                results.append(fn(shared, task))
                if progress is not None:
                    progress(len(results), total)
            return results
        pool = self._pool_for(shared)
        futures = [pool.submit(_call_with_shared, fn, task) for task in tasks]
        try:
            _wait_all(futures, progress)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        return [future.result() for future in futures]

    def close(self) -> None:
        """Shut the pool down (a later ``map`` starts a new one)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            self._shared = None


def _wait_all(futures: list[Future[Any]], progress: Progress | None) -> None:
    pending: set[Future[Any]] = set(futures)
    total, done = len(futures), 0
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            future.result()  # raise the first failure at once
        done += len(finished)
        if progress is not None:
            progress(done, total)


class DaskBackend(_Closing):
    """A Dask cluster reached through ``distributed.Client``.

    Give a scheduler ``address`` (``tcp://host:8786``) or an existing ``client`` (for example
    one of a ``distributed.LocalCluster``). A client this backend created is closed by
    ``close()``; one passed in is left open.
    """

    def __init__(self, address: str | None = None, *, client: Any = None) -> None:
        if (address is None) == (client is None):
            raise ValueError("give exactly one of address or client")
        from distributed import Client

        self._own = client is None
        self._client: Any = Client(address) if client is None else client  # type: ignore[no-untyped-call]
        self._shared: Any = None
        self._shared_future: Any = None

    @property
    def client(self) -> Any:
        """Return the ``distributed.Client`` in use."""
        return self._client

    @property
    def workers(self) -> int:
        """Return the number of worker threads in the cluster (at least 1)."""
        threads = self._client.nthreads()
        return max(1, sum(int(n) for n in threads.values()))

    def __repr__(self) -> str:
        return f"DaskBackend({self._client.scheduler.address!r})"

    def _scatter(self, shared: Any) -> Any:
        if self._shared_future is None or shared is not self._shared:
            self._shared_future = self._client.scatter(shared, broadcast=True, hash=False)
            self._shared = shared
        return self._shared_future

    def map(
        self,
        fn: Callable[[Any, TaskT], ResultT],
        tasks: Sequence[TaskT],
        *,
        shared: Any = None,
        progress: Progress | None = None,
    ) -> list[ResultT]:
        """Return ``[fn(shared, task) for task in tasks]``, computed on the cluster."""
        from distributed import as_completed

        total = len(tasks)
        if progress is not None:
            progress(0, total)
        if total == 0:
            return []
        handle = self._scatter(shared)
        futures = self._client.map(fn, [handle] * total, list(tasks), pure=False)
        try:
            for done, future in enumerate(as_completed(futures), start=1):  # type: ignore[no-untyped-call]
                if future.status == "error":
                    future.result()
                if progress is not None:
                    progress(done, total)
            results: list[ResultT] = self._client.gather(futures)
        except BaseException:
            self._client.cancel(futures)
            raise
        return results

    def close(self) -> None:
        """Drop the scattered data and close the client if this backend opened it."""
        self._shared_future = None
        self._shared = None
        if self._own:
            self._client.close()


def backend_from_address(
    address: str | None, *, max_workers: int | None = None
) -> LocalBackend | DaskBackend:
    """Return a Dask backend for a scheduler ``address``, else a local process pool."""
    if address:
        return DaskBackend(address)
    return LocalBackend(max_workers)
