"""Independent tasks (sweep points) on a dask.distributed cluster, or one after another in this process.

    results, failed = run_tasks(run_job, jobs, keys=names, n_jobs=2)                  # a local cluster
    results, failed = run_tasks(run_job, jobs, keys=names, scheduler="tcp://host:8786")  # a running one

The task function must make its own result durable (the sweeps write each point's JSON before they
return it) and return the saved result when it is already there. Then the cache, not the cluster, is
the truth: a worker that dies loses only the task it was running, which the scheduler gives to another
worker (up to ``distributed.scheduler.allowed-failures`` times), and a finished task the scheduler
decides to recompute (its result was in the lost worker's memory) reads its saved result back.

Without ``scheduler`` and with ``n_jobs`` > 1, a ``LocalCluster`` of ``n_jobs`` worker processes with
one thread each: Brian2's device and torch's thread count are process-global, so one task per process.
With a scheduler, the workers are whatever joined it (``dask worker ADDRESS --nthreads 1`` by hand,
or dask-jobqueue on SLURM / PBS); they need this project installed, the data (``SNN_DATA_DIR``) and
the output folder on a shared file system; Brian2 build caches are per machine by default
(bio.build_cache).
"""
from __future__ import annotations

import contextlib
import traceback
import uuid
from typing import Callable, Sequence

from tqdm.auto import tqdm

from runstore.cli import UserError

SCHEDULER_TIMEOUT = "30s"   # how long to try to reach a --scheduler before saying it cannot be reached
DASK_MISSING = ("dask.distributed is needed to run tasks on a cluster or on several local processes: "
                "pip install 'dask[distributed]' (or run with --jobs 1)")


def _distributed():
    try:
        import distributed
    except ImportError as e:   # the project depends on it; a hand-made environment may not have it
        raise UserError(DASK_MISSING) from e
    return distributed


@contextlib.contextmanager
def client_for(scheduler: str | None, n_jobs: int):
    """A Client on ``scheduler``, else on a new LocalCluster of ``n_jobs`` single-thread processes,
    closed (with a cluster it made) on leaving the block."""
    distributed = _distributed()
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as e:   # nothing listening, a typo, a firewall
            raise UserError(f"cannot reach the dask scheduler at {scheduler} ({' '.join(str(e).split())[:200]}); "
                            f"start one with `dask scheduler` and workers with `dask worker {scheduler} --nthreads 1 "
                            f"--memory-limit 0`, or leave --scheduler out to run on this machine") from None
        with client:
            yield client
        return
    with distributed.LocalCluster(n_workers=n_jobs, threads_per_worker=1, processes=True,
                                  dashboard_address=None, memory_limit=0) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def run_tasks(fn: Callable, items: Sequence, keys: Sequence[str] | None = None, n_jobs: int = 1,
              scheduler: str | None = None, on_done: Callable | None = None) -> tuple[dict, list]:
    """``fn`` on every item: ``({index: result}, [(key, traceback text), ...] of the failed ones)``.

    Items are submitted in the given order (put the longest first). ``on_done(index)`` is called as
    each finishes, failed or not (a progress bar). One failed item never stops the others.
    """
    keys = list(keys) if keys is not None else [str(i) for i in range(len(items))]
    results, failed = {}, []

    def finish(i, get):
        try:
            results[i] = get()
        except Exception:   # one bad point must not sink the sweep: report it, keep the rest
            failed.append((keys[i], traceback.format_exc()))
            tqdm.write(f"FAILED {keys[i]}:\n{failed[-1][1]}")
        if on_done:
            on_done(i)

    if not items or (not scheduler and n_jobs <= 1):   # in this process: no cluster to start
        for i, item in enumerate(items):
            finish(i, lambda item=item: fn(item))
        return results, failed
    distributed = _distributed()
    with client_for(scheduler, min(n_jobs, len(items))) as client:
        # pure=False: the task has side effects (it writes its result), never deduplicate by value;
        # the keys name the points in the dashboard and the scheduler's logs.
        # A run's own suffix: a long-lived scheduler must not hand back a key another run submitted.
        run = uuid.uuid4().hex[:8]
        futures = [client.submit(fn, item, key=f"{k}-{run}", pure=False) for k, item in zip(keys, items)]
        index = {f.key: i for i, f in enumerate(futures)}
        for f in distributed.as_completed(futures):
            finish(index[f.key], f.result)
    return results, failed
