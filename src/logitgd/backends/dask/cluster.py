"""The Dask cluster: the client in use (or the one ``--dask`` starts), computing tasks, memory, the persist rule.

:func:`_compute` turns Dask's failures to finish a pass into :class:`~logitgd.DaskFitError` (workers that kept dying, a
worker out of memory). On the local cluster that ``--dask local:N`` starts (:func:`start_client`) the nannies note how
each worker process ended, and a pass gives up once they died too often in a row, even before taking a task (which
Dask's allowed-failures, counted per task, never sees); its worker processes do not take the terminal's Ctrl-C, which
the command alone handles (the fit keeps its coefficients, the model is written).
"""

from __future__ import annotations

import os
import signal
import time

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
    client = None
    try:
        if gather is None:
            client = _current_client()
            if client is None:
                return list(dask.compute(*tasks))
            return _watched_gather(client, client.compute(list(tasks)))
        return list(gather(tasks))
    except DaskFitError:
        raise
    except MemoryError as exc:  # raised on a worker (a task's allocation), or here while gathering the results
        raise DaskFitError(
            f"Dask could not finish a pass over the data: out of memory ({_one_line(exc)}); the fit was stopped and "
            "no model was stored.") from exc
    except (ValueError, TypeError, ArithmeticError, KeyboardInterrupt):
        raise
    except Exception as exc:
        if type(exc).__name__ in ("KilledWorker", "CommClosedError", "FutureCancelledError", "CancelledError",
                                  "FuturesCancelledError"):
            watch = _watch_of(client or _current_client())
            cause = watch.cause() if watch is not None else ""
            raise DaskFitError(
                f"Dask could not finish a pass over the data ({type(exc).__name__}: {_one_line(exc)}). Workers died "
                f"while computing it ({cause or 'out of memory?'}); the fit was stopped and no model was "
                "stored.") from exc
        raise


def _one_line(exc):
    return " ".join(str(exc).split()) or type(exc).__name__


# How often a pass on a cluster that --dask started looks at its workers while it waits (seconds), and how long it
# waits with no worker process alive before it gives up.
_POLL = 0.25
_NO_WORKER_TIMEOUT = 30.0


def _watched_gather(client, futures):
    """``client.gather(futures)``; on a local cluster that :func:`start_client` started, the wait is watched: the
    pass fails with :class:`DaskFitError` once the workers died (allowed-failures + 1) times per worker in a row
    (no task finished in between), or no worker process has been alive for ``_NO_WORKER_TIMEOUT`` seconds. (A
    worker killed as it starts never takes a task, so Dask's own limit, per task, never counts it: the nanny
    restarts it for ever.)"""
    watch = _watch_of(client)
    if watch is None:
        return list(client.gather(futures))
    import distributed

    done = watch.started()
    while True:
        try:
            with client.as_current():
                distributed.wait(futures, timeout=_POLL)
            break
        except TimeoutError:
            done = watch.check(futures, done)
    watch.progressed()
    return list(client.gather(futures))


def _watch_of(client):
    """The :class:`_Watch` of the cluster behind ``client``, when :func:`start_client` started it; else None."""
    return getattr(getattr(client, "cluster", None), "logitgd_watch", None)


class _Watch:
    """The deaths of a local cluster's worker processes, as its nannies (:attr:`nanny`, a class of
    :func:`_watched_nanny_class`) saw them, and the rule that gives up on them.

    A death is "in a row" when no task of the pass being waited for finished since the one before; the nannies
    restart no worker once ``limit`` deaths are in a row (Dask's allowed-failures + 1 for each worker: a task
    that kills every worker it runs on is Dask's KilledWorker first), and :meth:`check` then fails the pass."""

    def __init__(self, n_workers):
        allowed = dask.config.get("distributed.scheduler.allowed-failures", 3)
        self.limit = (max(0, int(allowed)) + 1) * max(1, n_workers)
        self.deaths = []  # (exit code, stopped by the memory manager, memory limit), in order
        self.nannies = []
        self.counted = 0  # deaths before the last progress: not in the row
        self.last_alive = time.monotonic()
        self.nanny = _watched_nanny_class(self)

    def in_a_row(self):
        return len(self.deaths) - self.counted

    def started(self):
        self.last_alive = time.monotonic()
        return 0

    def progressed(self):
        self.counted = len(self.deaths)

    def check(self, futures, done):
        """The number of ``futures`` done (``done`` at the last check); raises :class:`DaskFitError` where the pass
        cannot finish."""
        now_done = sum(f.done() for f in futures)
        if now_done > done:
            self.progressed()
        if self.in_a_row() >= self.limit:
            raise DaskFitError(
                f"the Dask workers died {self.in_a_row()} times in a row ({self.cause()}) with no task finished in "
                "between; the fit was stopped and no model was stored.")
        nannies = list(self.nannies)
        if any(_alive(n) for n in nannies):
            self.last_alive = time.monotonic()
        elif not nannies or all(_closed(n) for n in nannies) \
                or time.monotonic() - self.last_alive > _NO_WORKER_TIMEOUT:
            cause = self.cause()
            gave_up = nannies and all(_closed(n) for n in nannies)
            raise DaskFitError(
                "no Dask worker process is running" + (f" (they died: {cause})" if cause else "")
                + ("; Dask stopped restarting them" if gave_up else f" after {_NO_WORKER_TIMEOUT:g} s")
                + "; the fit was stopped and no model was stored.")
        return now_done

    def cause(self):
        """How the workers of the last deaths ended, in words ("killed by signal 9 (SIGKILL): out of memory?")."""
        return "; ".join(dict.fromkeys(_death_cause(*d) for d in self.deaths[-self.limit:]))


def _alive(nanny):
    try:
        return bool(nanny.is_alive())
    except (AttributeError, ValueError, RuntimeError):  # a nanny being torn down
        return False


def _closed(nanny):
    return str(getattr(nanny, "status", "")).rpartition(".")[2] in ("closing", "closed", "failed")


def _death_cause(exitcode, by_memory_manager, memory_limit):
    if by_memory_manager:
        fraction = dask.config.get("distributed.worker.memory.terminate", 0.95)
        limit = f" of {memory_limit / 2**30:.3g} GiB" if memory_limit else ""
        return f"stopped by Dask at {fraction * 100:.3g}% of their memory limit{limit}: out of memory"
    if exitcode == -signal.SIGKILL:
        return "killed by signal 9 (SIGKILL): out of memory?"
    if exitcode is not None and exitcode < 0:
        try:
            name = f" ({signal.Signals(-exitcode).name})"
        except ValueError:
            name = ""
        return f"killed by signal {-exitcode}{name}"
    if exitcode == 255:
        return "killed by an unknown signal"
    return f"exited with status {exitcode}"


def _watched_nanny_class(watch):
    """A :class:`distributed.Nanny` subclass whose instances note in ``watch`` (a :class:`_Watch`) every exit of their
    worker process that they did not ask for, and restart none once ``watch.limit`` deaths are in a row."""
    from distributed import Nanny

    class WatchedNanny(Nanny):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            watch.nannies.append(self)

        def _on_worker_exit_sync(self, exitcode):
            if not _closed(self) and "gracefully" not in str(self.status):
                manager = getattr(self, "memory_manager", None)
                stopped = getattr(manager, "_last_terminated_pid", -1)  # the last pid it stopped at its limit
                by_manager = stopped not in (-1, getattr(self, "_logitgd_stopped", -1))
                self._logitgd_stopped = stopped
                watch.deaths.append((exitcode, by_manager, getattr(manager, "memory_limit", None)))
                if watch.in_a_row() >= watch.limit:  # given up: the pass waiting for it fails (_Watch.check)
                    return
            super()._on_worker_exit_sync(exitcode)

    WatchedNanny.__name__ = WatchedNanny.__qualname__ = "Nanny"  # as Dask's messages name it
    return WatchedNanny


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
    """``client.gather``, with :func:`_compute`'s errors (and its watch over a local cluster's workers)."""
    return _compute(futures, gather=lambda fs: _watched_gather(client, fs))


def _quiet_failed_tasks():
    """A worker plugin for the local cluster the command line starts: the workers do not log a failed task's
    traceback ("Compute Failed"), since the error reaches the command, which says it in one line. Every other
    message of the workers (memory, restarts) is kept, in one line (:func:`_one_line_logs`)."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class QuietFailedTasks(WorkerPlugin):
        def setup(self, worker):
            import logging

            logging.getLogger("distributed.worker").addFilter(_drop_compute_failed)
            _one_line_logs()

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
        watch = _Watch(n_workers)
        _one_line_logs()
        # The worker processes do not take Ctrl-C: the terminal sends it to the whole process group, and a worker
        # stopped by it prints its tracebacks while the fit (which keeps the coefficients it had) is still using
        # it. The threads started here (Dask's event loop among them, which starts the worker processes, and
        # restarts them) and so the processes they start have SIGINT blocked; this thread takes it.
        client = cluster = None
        before = _clusters()
        try:
            blocked = _block_sigint()
            try:
                cluster = distributed.LocalCluster(n_workers=n_workers,
                                                   threads_per_worker=threads * (1 + reads_source), processes=True,
                                                   env={"NUMBA_NUM_THREADS": str(threads)}, worker_class=watch.nanny)
            except (RuntimeError, OSError, TimeoutError) as exc:  # e.g. "Nanny failed to start."
                raise _not_started(exc, n_workers, watch) from None
            finally:
                _restore_sigmask(blocked)  # a Ctrl-C that came meanwhile is raised now
            cluster.logitgd_watch = watch
            try:
                client = distributed.Client(cluster)
                client.register_plugin(_quiet_failed_tasks(), name="logitgd-quiet-failed-tasks")
            except (OSError, TimeoutError) as exc:  # a worker that died as it started (CommClosedError)
                raise _not_started(exc, n_workers, watch) from None
        except BaseException:  # Ctrl-C while the cluster starts: its workers, which do not take it, are stopped
            # (a Ctrl-C that another thread took is raised here as the start returns: maybe in LocalCluster's own
            # __init__, before the cluster is ours)
            close(client, cluster if cluster is not None else next(iter(_clusters() - before), None), quiet=True)
            raise
        return client, cluster
    return distributed.Client(address), None


def _clusters():
    """The Dask clusters of this process (Dask's own registry, which closes them at exit)."""
    try:
        from distributed.deploy.spec import SpecCluster

        return set(SpecCluster._instances)
    except (ImportError, AttributeError, TypeError):
        return set()


def _not_started(exc, n_workers, watch):
    """The :class:`DaskFitError` of a local cluster that did not start (``exc``), with how its workers died."""
    deadline = time.monotonic() + 2.0
    while not watch.deaths and time.monotonic() < deadline:  # the nanny notes a death a moment after the failure
        time.sleep(0.05)
    cause = watch.cause()
    return DaskFitError(f"could not start a local Dask cluster of {n_workers} worker process"
                        f"{'es' if n_workers > 1 else ''} ({_one_line(exc).rstrip('.')}"
                        + (f"; the workers died: {cause}" if cause else "") + ").")


def close(client, cluster, quiet=False):
    """Close ``client`` and ``cluster`` (None: a cluster :func:`start_client` did not start); ``quiet`` (after an
    error or an interrupt) drops what Dask's loggers in this process say meanwhile (workers that lose their
    connection, tasks cancelled) and any error of the closing itself."""
    import logging

    handlers = logging.getLogger("distributed").handlers
    if quiet:
        for handler in handlers:
            handler.addFilter(_drop_all)
    try:
        for closing in (client, cluster):
            if closing is not None:
                try:
                    closing.close()
                except Exception:
                    if not quiet:
                        raise
    finally:
        for handler in handlers:
            handler.removeFilter(_drop_all)


def _drop_all(record):
    return False


def _block_sigint():
    """Block SIGINT in this thread (and the threads it starts, until :func:`_restore_sigmask`); the mask before."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    try:  # multiprocessing's resource tracker unblocks SIGINT in the thread that starts it: started here, first
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()
    except (ImportError, OSError, AttributeError):
        pass
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _restore_sigmask(mask):
    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a Ctrl-C that came meanwhile is delivered now


def _one_line_logs():
    """The messages of Dask's loggers in this process (the scheduler and the nannies of a local cluster) without
    their tracebacks: one line each (a nanny that fails to restart a killed worker logs a page of asyncio)."""
    import logging

    for handler in logging.getLogger("distributed").handlers:
        if _drop_traceback not in handler.filters:
            handler.addFilter(_drop_traceback)


def _drop_traceback(record):
    if record.exc_info:
        exc = record.exc_info[1]
        if exc is not None:
            text = _one_line(exc)
            text = type(exc).__name__ if text == type(exc).__name__ else f"{type(exc).__name__}: {text}"
            record.msg, record.args = f"{record.getMessage()} ({text})", None
        record.exc_info = record.exc_text = record.stack_info = None
    return True
