"""The Dask cluster: the client in use (or the one ``--dask`` starts), computing tasks, memory, the persist rule.

:func:`_compute` turns Dask's failures to finish a pass into :class:`~logitgd.DaskFitError`.
"""

from __future__ import annotations

import os

import dask

from ...exceptions import DaskFitError

# Persist the chunks when they take at most this share of the workers' memory
# (LOGITGD_DASK_PERSIST=1 always persists them, =0 never does).
PERSIST_FRACTION = 0.5


def _persists(nbytes, memory, already=False):
    """Whether data of ``nbytes`` are persisted: ``LOGITGD_DASK_PERSIST=1`` always, ``=0`` never, else when
    they are in the workers' memory ``already`` or take at most ``PERSIST_FRACTION`` of ``memory``."""
    choice = os.environ.get("LOGITGD_DASK_PERSIST", "auto")
    return choice == "1" or (choice != "0" and (already or nbytes <= PERSIST_FRACTION * memory))


def _cluster_memory():
    """Bytes of memory the data could be persisted in: the workers' limits, or this machine's."""
    try:
        from distributed import Client

        workers = Client.current(allow_global=True).scheduler_info(n_workers=-1)["workers"].values()
        limits = [w.get("memory_limit") or 0 for w in workers]
        if limits and all(limits):
            return float(sum(limits))
    except (ImportError, ValueError, TypeError):
        pass
    return _machine_memory()


def _machine_memory():
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0.0


def _current_client():
    """The distributed client in use (the current one, else the default), or None."""
    try:
        from distributed import Client
        return Client.current(allow_global=True)
    except (ImportError, ValueError):
        return None


def _compute(tasks, gather=None):
    """``dask.compute`` of a list of tasks (or ``gather`` of futures), in order; dask failures become
    :class:`DaskFitError`."""
    try:
        if gather is None:
            client = _current_client()
            if client is None:
                return list(dask.compute(*tasks))
            return list(client.gather(client.compute(list(tasks))))
        return list(gather(tasks))
    except (ValueError, TypeError, ArithmeticError, KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:
        if type(exc).__name__ in ("KilledWorker", "CommClosedError", "FutureCancelledError", "CancelledError"):
            raise DaskFitError(
                f"Dask could not finish a pass over the data ({type(exc).__name__}: {exc}). Workers died while "
                "computing it (out of memory?); the fit was stopped and no model was stored.") from exc
        raise


def _futures(chunks):
    """``(client, one future per chunk)`` for chunks persisted on a distributed cluster, else None."""
    try:
        from distributed import Client, futures_of
    except ImportError:
        return None
    futures = [futures_of(c) for c in chunks]
    if not all(len(f) == 1 for f in futures):
        return None
    try:
        return Client.current(allow_global=True), [f[0] for f in futures]
    except ValueError:
        return None


def _gather(client, futures):
    """``client.gather``, with :func:`_compute`'s errors."""
    return _compute(futures, gather=client.gather)


def _quiet_failed_tasks():
    """A worker plugin for the local cluster the command line starts: the workers do not log a failed task's
    traceback ("Compute Failed"), since the error reaches the command, which says it in one line. Every other
    message of the workers (memory, restarts) is kept."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class QuietFailedTasks(WorkerPlugin):
        def setup(self, worker):
            import logging

            logging.getLogger("distributed.worker").addFilter(_drop_compute_failed)

    return QuietFailedTasks()


def _drop_compute_failed(record):
    return not str(record.msg).startswith("Compute Failed")


def start_client(address, reads_source=False):
    """``(client, cluster or None)`` for ``--dask``: ``local[:N]`` starts N worker processes, else connects.

    A local cluster gets one worker process per core by default and splits
    the cores between the workers (threads for Dask, numba and BLAS alike).
    With ``reads_source`` (data too large to persist, read from disk on every
    pass) each worker runs two Dask threads per core, so that one reads while
    the other computes: on this project's 2-core machine a pass over Parquet
    went from 1.48 to 2.23 GB/s (benchmarks/RESULTS.md, Dask).
    """
    import distributed

    if address == "local" or address.startswith("local:"):
        count = address.partition(":")[2]
        cores = os.cpu_count() or 1
        if count and not (count.isdigit() and int(count) >= 1):
            raise ValueError(f"--dask local:N needs a number of workers N >= 1, got {address!r}.")
        n_workers = int(count) if count else cores
        threads = max(1, cores // n_workers)
        cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=threads * (1 + reads_source),
                                           processes=True, env={"NUMBA_NUM_THREADS": str(threads)})
        client = distributed.Client(cluster)
        client.register_plugin(_quiet_failed_tasks(), name="logitgd-quiet-failed-tasks")
        return client, cluster
    return distributed.Client(address), None
