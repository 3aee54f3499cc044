"""Run batches of work on any executor, with the data sent to each worker once.

Sweeps and walk-forward runs evaluate many parameter combinations on one prepared data set. This module
ships that data and the work:

- ``"process"`` (default): a local process pool on all cores; each worker receives the data once, at
  start-up (:class:`Payload` through the pool's initializer), never per task;
- ``"dask-local"``: a local Dask cluster on the loopback interface; ``"dask://HOST:PORT"``: an existing Dask
  scheduler (optional extra ``rtystrat[dask]``); the data are scattered to every worker once;
- ``"serial"``: in the calling process; or any ``Executor`` / ``distributed.Client`` object.

:func:`stream` keeps at most a few batches in flight, so memory stays flat however large the grid.
Strategy classes cross to workers through :func:`portable_strategy`.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from rtystrat.errors import ParameterError, RtystratError, suggest
from rtystrat.registry import file_reference, get_strategy

__all__ = [
    "EXECUTORS",
    "Installed",
    "Payload",
    "forks_workers",
    "open_executor",
    "payload_data",
    "portable_strategy",
    "stream",
    "worker_strategy",
]

#: Executors named by a string (an ``Executor`` or ``distributed.Client`` object also works).
EXECUTORS = ("process", "serial", "dask-local", "dask://HOST:PORT")


class ExecutorError(RtystratError):
    """The workers running a sweep were lost; what finished is kept (in a store, when one is given)."""


def portable_strategy(strategy: type) -> type | str:
    """Return `strategy`, or for a class from a strategy file the reference a worker process loads it from.

    Such a class's module is named privately in this process (:func:`rtystrat.registry.file_reference`).
    """
    return file_reference(strategy) or strategy


@functools.cache
def _load_strategy(reference: str) -> type:
    return get_strategy(reference)


def worker_strategy(strategy: type | str) -> type:
    """Return the class behind :func:`portable_strategy`'s result (in a worker process)."""
    return _load_strategy(strategy) if isinstance(strategy, str) else strategy


class Payload(NamedTuple):
    """The data a worker computes on (prepared for one engine, data set and run config)."""

    tag: str  # names the data and its settings (e.g. "<engine>:<data id>:<config hash>"): never mistaken
    data: Any  # kernel.KernelData for the kernel, the bar frame for backtrader


class Installed(NamedTuple):
    """Reference to the payload a process-pool worker received once, at start-up."""

    tag: str


_WORKER_DATA: dict[str, Any] = {}


def _install(payload: Payload) -> None:
    """Keep `payload` in this worker process (process-pool initializer; the pool ends with the run).

    The worker also leaves interrupts to its parent: Ctrl-C reaches every process of the terminal's group,
    and a worker that raised KeyboardInterrupt inside a task could leave the pool waiting for it forever.
    The parent ends the workers itself (:func:`_end_workers`), and a watchdog ends a worker whose parent
    died (``kill -9``), which would otherwise run on, holding its memory, until its queue broke.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = os.getppid()
    threading.Thread(target=_exit_with, args=(parent,), name="rtystrat-parent-watch", daemon=True).start()
    _WORKER_DATA.clear()
    _WORKER_DATA[payload.tag] = payload.data


def _exit_with(parent: int, interval: float = 0.5) -> None:
    """End this process soon after process `parent` is gone (it is then re-parented: the ppid changes)."""
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(1)  # no cleanup to run: the parent that wanted the results is gone


@contextlib.contextmanager
def _process_pool(workers: int | None, payload: Payload) -> Iterator[cf.ProcessPoolExecutor]:
    """Yield a process pool; on an exception (Ctrl-C, SIGTERM, an error) end its workers at once.

    ``ProcessPoolExecutor.__exit__`` waits for the tasks running: a minute of backtrader runs after Ctrl-C.
    Finished runs are in the store already, so the running ones are abandoned instead.
    """
    before = set(multiprocessing.active_children())
    pool = cf.ProcessPoolExecutor(
        max_workers=workers or os.cpu_count(), initializer=_install, initargs=(payload,)
    )
    try:
        yield pool
    except BaseException:
        ours = [child for child in multiprocessing.active_children() if child not in before]
        pool.shutdown(wait=False, cancel_futures=True)
        _end_workers(ours)
        raise
    pool.shutdown(wait=True)


def _end_workers(processes: list[multiprocessing.process.BaseProcess], grace: float = 2.0) -> None:
    """Terminate `processes` (SIGTERM), then kill those still alive after `grace` seconds."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(1.0)


def payload_data(reference: Payload | Installed) -> Any:
    # A payload passed with each task (serial, thread or user executors) or scattered once (Dask) is used
    # as it comes: caching it in this module would keep it alive after the sweep.
    return _WORKER_DATA[reference.tag] if isinstance(reference, Installed) else reference.data


def forks_workers(spec: Any) -> bool:
    """Return True when executor `spec` runs tasks in processes forked from this one as the pool starts.

    Such workers inherit everything this process has loaded, numba's compiled functions included: a run made
    here before the pool starts loads the compiled code once, instead of once in every worker (about a second
    of CPU per process). Spawned and forkserver workers, Dask and user executors start from scratch.
    """
    # get_context() settles the default start method exactly as the pool itself would when it starts.
    return (spec is None or spec == "process") and multiprocessing.get_context().get_start_method() == "fork"


class _SerialExecutor(cf.Executor):
    """Run each task at submission, in the calling process (no pickling, easy to debug)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future, as a pool would
            future.set_exception(exc)
        return future


def _is_dask_client(obj: Any) -> bool:
    return type(obj).__module__.startswith("distributed") and hasattr(obj, "scatter")


@contextlib.contextmanager
def open_executor(spec: Any, workers: int | None, payload: Payload) -> Iterator[tuple[cf.Executor, Any]]:
    """Yield ``(executor, data reference)`` for `spec`, shutting down only what was opened here."""
    if spec is None or spec == "process":
        with _process_pool(workers, payload) as pool:
            yield pool, Installed(payload.tag)
    elif spec == "serial":
        yield _SerialExecutor(), payload
    elif isinstance(spec, str) and (spec == "dask-local" or spec.startswith("dask://")):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ParameterError(f"executor={spec!r} needs Dask: pip install 'rtystrat[dask]'") from None
        with contextlib.ExitStack() as stack:
            if spec == "dask-local":
                # Loopback only and no dashboard: nothing listens beyond this machine.
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=workers or os.cpu_count(),
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,
                    )
                )
                client = stack.enter_context(Client(cluster))
            else:
                address = "tcp://" + spec.removeprefix("dask://")
                try:
                    client = stack.enter_context(Client(address, timeout=10))
                except OSError as exc:  # TimeoutError included
                    raise ParameterError(
                        f"executor={spec!r}: no Dask scheduler answers at {address} ({type(exc).__name__}); "
                        f"start one with 'dask scheduler' there, or use --executor process"
                    ) from None
                if not client.scheduler_info().get("workers"):
                    raise ParameterError(
                        f"executor={spec!r}: the Dask scheduler at {address} has no workers; start some with "
                        f"'dask worker {address}', or use --executor process"
                    )
            yield client.get_executor(), client.scatter(payload, broadcast=True)
    elif _is_dask_client(spec):
        yield spec.get_executor(), spec.scatter(payload, broadcast=True)
    elif isinstance(spec, cf.Executor):
        client = getattr(spec, "_client", None)  # a distributed ClientExecutor: scatter once
        reference = client.scatter(payload, broadcast=True) if _is_dask_client(client) else payload
        yield spec, reference
    else:
        raise ParameterError(
            f"executor={spec!r}: expected one of {', '.join(EXECUTORS)}{suggest(str(spec), EXECUTORS)}, "
            "or an Executor"
        )


def stream(
    executor: cf.Executor,
    task: Callable[[Any, Any, list[Any]], list[Any]],
    job: Any,
    reference: Any,
    items: Iterable[Any],
    *,
    batch_size: int,
    max_pending: int,
    total: int | Callable[[], int] | None = None,
) -> Iterator[Any]:
    """Submit ``task(job, reference, batch)`` over batches of `items`, at most `max_pending` in flight, and
    yield the results of each batch as it finishes (in completion order).

    A batch holds at most `batch_size` items. Given `total`, how many items `items` gives at most (a callable
    may lower it as the iterator learns more, e.g. of runs found in a store), a batch also holds at most
    ``1 / (2 * max_pending)`` of the items not yet submitted, so batches shrink to single items as the work
    runs out (guided self-scheduling): the workers finish together, instead of one running a long last batch
    while the others wait.
    """
    pending: set[cf.Future] = set()
    batches = _batches(iter(items), batch_size, 2 * max_pending, total)
    try:
        while True:
            while len(pending) < max_pending and (batch := next(batches, None)):
                pending.add(executor.submit(task, job, reference, batch))
            if not pending:
                return
            finished, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for future in finished:
                try:
                    batch = future.result()
                except cf.CancelledError:  # not cancelled here: a Dask cluster that lost its workers
                    raise ExecutorError(
                        "the executor cancelled a batch of runs (every Dask worker lost?); start workers and "
                        "run the same command again (a --store keeps the runs that finished)"
                    ) from None
                except cf.process.BrokenProcessPool:
                    raise ExecutorError(
                        "a worker process died (killed, or out of memory); run the same command again with "
                        "fewer --workers (a --store keeps the runs that finished)"
                    ) from None
                yield from batch
    finally:
        for future in pending:
            future.cancel()


def _batches(
    iterator: Iterator[Any], largest: int, share: int, total: int | Callable[[], int] | None
) -> Iterator[list[Any]]:
    """Yield lists of the items of `iterator`, each of at most `largest` items and, with `total`, of at most
    ``ceil(left / share)`` items, ``left`` being the items not yet yielded when the list starts."""
    bound = (lambda: total) if isinstance(total, int) else total
    given = 0
    while True:
        batch: list[Any] = []
        for item in iterator:
            batch.append(item)
            # Asked again after each item: a callable bound may have dropped while the iterator ran.
            size = largest if bound is None else min(largest, -(-(bound() - given) // share))
            if len(batch) >= size:
                break
        if not batch:
            return
        given += len(batch)
        yield batch
