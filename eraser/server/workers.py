"""Erasing in worker processes, so that a job can be stopped.

A thread cannot be stopped from outside, and an engine is one long call into C; a process can be
killed. Each of `count` threads owns one job at a time and hands it to an idle worker process;
a job that runs past its time limit, or whose client has gone, gets its process killed, and a
fresh one takes its place. Jobs waiting for a thread hold only their request's bytes: photos
are decoded inside the worker process. Processes come from a forkserver that has imported the
engines once, so a replacement starts in a fraction of a second, without the server's threads.
concurrent.futures.ProcessPoolExecutor cannot kill one job's process (it breaks the whole pool),
hence this small pool of our own.

Each job gets its own temporary directory, made by this (the parent) process under a directory
of its own, and the worker points `tempfile` and TMPDIR at it for that job. The parent removes
it when the job ends, however it ends: a killed worker cannot clean up after itself, and what
a job writes there (eraser.jpeg's copies of the photo, for one) must not outlive it.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

POLL = 0.05  # seconds between checks of the time limit and of the client while a job runs


class JobTimeout(Exception):
    """The job ran past its time limit; its process was killed."""


class JobCancelled(Exception):
    """The job was cancelled (its client went away) before it finished."""


def _context(preload: list[str]):
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["eraser.server.jobs", *preload])
    return context


def _serve(conn) -> None:
    """A worker process: run (function, args, temporary directory) jobs until the pipe closes."""
    while True:
        try:
            function, args, scratch = conn.recv()
        except (EOFError, OSError):
            return
        # Until the next job, even a thread this job left behind writes here, and once the
        # parent has removed the directory, such writes fail rather than land elsewhere.
        tempfile.tempdir = os.environ["TMPDIR"] = scratch
        try:
            reply = (True, function(*args))
        except Exception as error:  # returned to the server, which decides what the client hears
            reply = (False, error)
        try:
            conn.send(reply)
        except Exception:  # an exception that cannot be pickled
            conn.send((False, RuntimeError(repr(reply[1])[:500])))


class _Process:
    def __init__(self, context):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), daemon=True, name="eraser-worker")
        self.process.start()
        child.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class Workers:
    def __init__(self, count: int, time_limit: float, warm_up: tuple | None = None, preload: list[str] | None = None):
        """warm_up: (function, *args) run once in every new worker process before its first job;
        preload: modules the forkserver imports once for all of them (eraser.engines.modules)."""
        self.count, self.time_limit, self.warm_up = count, time_limit, warm_up
        self.preload = preload or []
        self._threads = ThreadPoolExecutor(max_workers=count, thread_name_prefix="erase")
        self._idle: queue.SimpleQueue[_Process] = queue.SimpleQueue()
        self._context = None
        self._lock = threading.Lock()
        self._all: set[_Process] = set()
        self._closed = False
        self._scratch: str | None = None  # the parent's directory for the jobs' temporary ones
        self.killed = 0  # processes killed for time or cancellation, for /health and tests

    def prestart(self) -> None:
        """Start every worker process now, so the first requests do not wait for them."""
        try:
            for _ in range(max(0, self.count - len(self._all))):
                self._idle.put(self._start())
        except RuntimeError:  # closed meanwhile
            pass

    def submit(self, cancelled: threading.Event, function, *args, before=None) -> Future:
        """Run function(*args) in a worker process; the future raises JobTimeout or JobCancelled
        when it was stopped, or what the function raised. before(), if given, is called when
        the job's turn comes, just before a process gets it; what it raises ends the job unrun."""
        return self._threads.submit(self._run, cancelled, function, args, before)

    def _take(self) -> _Process:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._start()

    def _start(self) -> _Process:
        with self._lock:
            if self._closed:
                raise RuntimeError("the erase workers are shut down")
            self._context = self._context or _context(self.preload)
            worker = _Process(self._context)
            self._all.add(worker)
        if self.warm_up:
            scratch = self._job_dir()
            try:
                worker.conn.send((self.warm_up[0], self.warm_up[1:], scratch))
                worker.conn.recv()
            except (EOFError, OSError) as error:
                self._drop(worker)
                raise RuntimeError("the erase worker process died") from error
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        return worker

    def _job_dir(self) -> str:
        """A new job's temporary directory (private to this user, as mkdtemp makes them)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the erase workers are shut down")
            self._scratch = self._scratch or tempfile.mkdtemp(prefix="eraser-server-")
            return tempfile.mkdtemp(prefix="job-", dir=self._scratch)

    def _drop(self, worker: _Process) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)

    def _run(self, cancelled: threading.Event, function, args, before):
        if cancelled.is_set():
            raise JobCancelled()
        if before is not None:
            before()
        scratch = self._job_dir()
        try:
            return self._in_process(self._take(), function, args, scratch, cancelled)
        finally:  # the process has answered, or was killed
            shutil.rmtree(scratch, ignore_errors=True)

    def _in_process(self, worker: _Process, function, args, scratch: str, cancelled: threading.Event):
        try:
            worker.conn.send((function, args, scratch))
            deadline = time.monotonic() + self.time_limit
            while not worker.conn.poll(POLL):
                stop = JobCancelled() if cancelled.is_set() else JobTimeout() if time.monotonic() > deadline else None
                if stop is None and not worker.process.is_alive():
                    stop = RuntimeError("the erase worker process died")
                if stop is not None:
                    self._drop(worker)
                    self.killed += 1
                    raise stop
            ok, value = worker.conn.recv()
        except (EOFError, OSError) as error:  # the process died mid-answer
            self._drop(worker)
            raise RuntimeError("the erase worker process died") from error
        self._idle.put(worker)
        if not ok:
            raise value
        return value

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            self._closed = True
            workers, self._all = list(self._all), set()
            scratch, self._scratch = self._scratch, None
        for worker in workers:
            worker.kill()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
