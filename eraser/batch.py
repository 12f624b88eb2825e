"""Erase a folder of photos with one mask for all, or a mask per photo matched by name.

    batch = Batch("photos", "out", mask="watermark.png")
    for outcome in batch.run(Settings(engine="telea"), workers=2):
        print(outcome.photo, outcome.status, outcome.reason)

Photos run in worker processes (or, with run_remote, in threads that call a compatible server).
Every photo ends as one Outcome: done, skipped (its output exists: a stopped batch resumes) or
failed with a sentence saying why; one bad photo never stops the others. Outputs are named
<stem>_erased.<ext> in the photo's own format and written whole or not at all.
eraser.batch_memory applies the same rules to photos held in memory (the app's Batch page).
"""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from . import engines
from .errors import EngineError, EraserError, MaskError
from .files import read, write_atomic
from .images import EXTENSIONS, FORMATS, Photo
from .masks import check_grow, load_mask, prepare, read_mask
from .pipeline import DEFAULT_GROW, erase

DONE, SKIPPED, FAILED = "done", "skipped", "failed"
MASK_SUFFIX = "_mask"  # a.jpg's mask may be a.png or a_mask.png
OUTPUT_SUFFIX = "_erased"
T = TypeVar("T")
CRASHED = ("The worker process erasing it stopped (it crashed or the machine ran out of memory). "
           "Try this photo alone with `eraser erase`, or with fewer --workers.")


@dataclass(frozen=True)
class Outcome:
    photo: str  # the photo's file name
    status: str  # DONE, SKIPPED or FAILED
    output: str = ""  # the file written (done) or found (skipped)
    reason: str = ""  # why it failed: a sentence a person can act on
    filled_by: str = ""  # the engines that filled it (done, local)
    note: str = ""  # a sentence the person should read about how it was filled (done), or ''


@dataclass(frozen=True)
class Job:
    photo: Path
    output: Path
    mask: Path | None = None  # its own mask; None: the batch's one mask


@dataclass(frozen=True)
class _Shared:
    """What every job of a batch needs besides its own files."""

    mask: np.ndarray | None  # the one mask, grown; None: each photo has its own
    grow: int
    overwrite: bool
    own_mask: str = "Give this photo its own mask (--masks)."  # how, in the person's words
    keep_out: np.ndarray | None = None  # regions no photo's fill may copy from (one size, not grown)


@dataclass(frozen=True)
class Settings:
    """The engine options, as `eraser erase` has them (the mask is grown when the batch is made)."""

    engine: str = engines.DEFAULT
    model_file: str | None = None


def default_workers() -> int:
    """The cores this process may use (a container's share, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Batch:
    """The photos of a folder planned against an output folder.

    Exactly one of `mask` (a file, for every photo of its exact size: a mask is not stretched to
    another size, where it would cover another place) or `masks_dir` (a.jpg takes a.png or
    a_mask.png there, scaled like `eraser erase` does when only the scale differs). Bad arguments
    (folders, the one mask, grow) raise EraserError here, before any photo is touched."""

    def __init__(self, photos_dir: str | Path, out_dir: str | Path, *, mask: str | Path | None = None,
                 masks_dir: str | Path | None = None, grow: int = DEFAULT_GROW, overwrite: bool = False,
                 keep_out: str | Path | None = None):
        if (mask is None) == (masks_dir is None):
            raise EraserError("Give either one mask for every photo (--mask) or a folder of masks (--masks).")
        self.photos_dir, self.out_dir = Path(photos_dir), Path(out_dir)
        self.masks_dir = None if masks_dir is None else _folder(masks_dir, "masks")
        check_grow(grow)
        one_mask = None
        if mask is not None:  # read, checked and grown once, here, rather than in every worker
            marks = read_mask(read(mask, "mask"))
            one_mask = prepare(marks, (marks.shape[1], marks.shape[0]), grow)
        keep = None if keep_out is None else read_mask(read(keep_out, "keep-out mask"), "keep-out mask")
        self.shared = _Shared(one_mask, grow, overwrite, keep_out=keep)
        photos = _photos(_folder(photos_dir, "photos"), self._not_photos(mask))
        _make_folder(self.out_dir)
        self.jobs: list[Job] = []
        self.settled: list[Outcome] = []  # known without erasing: skipped, or failed (no mask...)
        self.engine_note = ""  # once run: why auto fills objects with PatchMatch, if it does
        self._plan(photos, overwrite)

    @property
    def total(self) -> int:
        return len(self.jobs) + len(self.settled)

    def run(self, settings: Settings = Settings(), workers: int | None = None,
            download_progress: Callable[[int, int], None] | None = None) -> Iterator[Outcome]:
        """Erase in worker processes. The engine (and its model, downloaded here with
        `download_progress` if needed) is checked first: EngineError before any photo."""
        engine = engines.get(settings.engine, settings.model_file).load(download_progress)
        self.engine_note = engine.note
        width = workers or default_workers()
        return self._outcomes(lambda n: _process_pool(n, self.shared, settings), _erase_in_process, width)

    def run_remote(self, url: str, workers: int | None = None, api_key: str | None = None) -> Iterator[Outcome]:
        """Erase through a compatible server, at most `workers` requests at a time. The key
        defaults to AILAB_API_KEY; a missing key or a bad URL raises RemoteError before any photo."""
        from .remote import RemoteEraser  # only this path needs requests

        if self.shared.keep_out is not None:
            raise EraserError("A compatible server cannot keep regions out of the fill: leave out --keep-out "
                              "with --remote.")
        RemoteEraser(api_key, url, allow_local=True)  # refuses a bad key or URL now
        local = threading.local()

        def remote_erase(photo: Photo, mask: np.ndarray, keep_out: None) -> Photo:
            if not hasattr(local, "client"):  # a session per thread: requests' are not thread-safe
                local.client = RemoteEraser(api_key, url, allow_local=True)
            return local.client.erase(photo, mask, grow=0).photo

        def work(job: Job) -> Outcome:
            return _erase_job(job, self.shared, remote_erase)

        width = workers or default_workers()
        return self._outcomes(lambda n: ThreadPoolExecutor(n, thread_name_prefix="batch"), work, width)

    def _outcomes(self, make_pool: Callable[[int], Executor], work: Callable[[Job], Outcome],
                  width: int) -> Iterator[Outcome]:
        yield from self.settled
        yield from _pooled(make_pool, work, self.jobs, width)

    def _not_photos(self, mask: str | Path | None) -> Callable[[Path], bool]:
        """Files of the photos folder that are this batch's own: the mask, masks, outputs."""
        mask_file = None if mask is None else Path(mask).resolve()
        masks_here = _same_folder(self.photos_dir, self.masks_dir)
        outputs_here = _same_folder(self.photos_dir, self.out_dir)
        return lambda path: (path.resolve() == mask_file
                             or (masks_here and path.stem.endswith(MASK_SUFFIX))
                             or (outputs_here and path.stem.endswith(OUTPUT_SUFFIX)))

    def _plan(self, photos: list[Path], overwrite: bool) -> None:
        masks = _by_stem(_image_files(self.masks_dir)) if self.masks_dir else {}
        own_names_only = _same_folder(self.photos_dir, self.masks_dir)  # a.png there is a photo
        outputs: dict[Path, str] = {}
        for photo in photos:
            output = self.out_dir / _output_name(photo)
            if output in outputs:
                self.settled.append(_failed(photo.name, _same_output(output.name, outputs[output])))
                continue
            outputs[output] = photo.name
            if output.exists() and not overwrite:
                self.settled.append(Outcome(photo.name, SKIPPED, str(output)))
                continue
            if self.masks_dir is None:
                self.jobs.append(Job(photo, output))
                continue
            found = _matching(photo.stem, masks, own_names_only)
            if len(found) == 1:
                self.jobs.append(Job(photo, output, found[0]))
            else:
                reason = _no_single_mask(photo.stem, [p.name for p in found], f"in '{self.masks_dir}'")
                self.settled.append(_failed(photo.name, reason))


# -- running jobs ---------------------------------------------------------------------------------

def _pooled(make_pool: Callable[[int], Executor], work: Callable[[Job], Outcome], jobs: Iterable[Job],
            width: int) -> Iterator[Outcome]:
    """work(job) for every job, at most `width` at a time, outcomes as they finish.

    A worker process that dies breaks its whole pool: a fresh pool takes over the jobs not yet
    started, and the ones that were running are run again one at a time, so a photo that kills
    its worker fails alone and the others are done."""
    pending, suspects = deque(jobs), []
    while pending:
        pool = make_pool(min(width, len(pending)))
        try:
            suspects += yield from _until_broken(pool, work, pending, width)
        except BaseException:  # stopped (Ctrl-C): the photos in progress finish, no new one starts
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
    if suspects:
        yield from _pooled(make_pool, work, suspects, 1)


def _until_broken(pool: Executor, work: Callable[[Job], Outcome], pending: deque[Job],
                  width: int) -> Generator[Outcome, None, list[Job]]:
    """Feed `pending` to `pool` and yield the outcomes, until none is left or the pool breaks;
    then return the jobs that were running, any of which may have broken it."""
    running: dict[Future, Job] = {}
    while pending or running:
        while pending and len(running) < width:
            job = pending.popleft()
            try:
                running[pool.submit(work, job)] = job
            except BrokenProcessPool:  # a worker died between jobs
                pending.appendleft(job)
                break
        if not running:
            return []  # broken while idle: nobody to blame, a fresh pool takes the rest
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        broken = False
        for future in finished:
            try:
                outcome = future.result()
            except BrokenProcessPool:
                broken = True
                continue
            del running[future]
            yield outcome
        if broken:  # every job still running failed with it
            if len(running) == 1:  # it was alone: it is the one that crashed
                yield _failed(next(iter(running.values())).photo.name, CRASHED)
                return []
            return list(running.values())
    return []


def _process_pool(width: int, shared: _Shared, settings: Settings) -> ProcessPoolExecutor:
    # Not fork: the parent may hold threads (and locks) that a forked child would inherit stuck.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        # The engine's modules are imported once, in the forkserver, not by every worker.
        context.set_forkserver_preload(["eraser.batch", *engines.modules(settings.engine)])
    return ProcessPoolExecutor(width, mp_context=context, initializer=_start_worker,
                               initargs=(os.getpid(), shared, settings))


_worker: dict = {}  # per worker process: the batch's _Shared, and the loaded engine or its error


def _start_worker(batch_pid: int, shared: _Shared, settings: Settings) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _exit_with(batch_pid)
    os.environ["ERASER_OFFLINE"] = "1"  # the parent fetched the model already, if one is needed
    _worker["shared"] = shared
    try:
        _worker["engine"] = engines.get(settings.engine, settings.model_file).load()
    except EraserError as error:  # every photo of this worker fails with it; the pool lives
        _worker["engine"] = error
    except Exception as error:  # an initializer that raises would break the pool for every photo
        _worker["engine"] = EngineError(f"The {settings.engine} engine could not start ({type(error).__name__}).")


def _exit_with(batch_pid: int) -> None:
    """End this worker when the batch's process is gone (killed, not stopped): a pool's workers
    wait for jobs forever otherwise, each holding an engine in memory."""
    try:
        gone = os.pidfd_open(batch_pid)  # readable once that process has ended (Linux)
    except (AttributeError, OSError):
        if os.getppid() != batch_pid:  # a forkserver's child, without pidfd: cannot tell
            return
        gone = None

    def watch() -> None:
        if gone is not None:
            select.select([gone], [], [])
        while gone is None and os.getppid() == batch_pid:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="batch-watch").start()


def _erase_in_process(job: Job) -> Outcome:
    def local_erase(photo: Photo, mask: np.ndarray, keep_out: np.ndarray | None) -> Photo:
        engine = _worker["engine"]
        if isinstance(engine, EraserError):
            raise engine
        return erase(photo, mask, engine=engine, grow=0, keep_out=keep_out)

    return _erase_job(job, _worker["shared"], local_erase)


def _erase_job(job: Job, shared: _Shared, erase_photo: Callable[[Photo, np.ndarray, np.ndarray | None], Photo],
               ) -> Outcome:
    """One photo, start to finish; whatever goes wrong becomes its outcome, never an exception."""
    def work() -> Outcome:
        photo = Photo.open(read(job.photo, "photo"), name=job.photo.name)
        output = job.output.with_name(photo.output_name())  # by content: a PNG named .jpg stays PNG
        if output != job.output and output.exists() and not shared.overwrite:  # the plan went by the name
            return Outcome(photo.name, SKIPPED, str(output))
        own = None if job.mask is None else read(job.mask, "mask")
        result = erase_photo(photo, _mask_for(own, photo, shared), _keep_out_for(photo, shared))
        write_atomic(output, result.encode())
        return Outcome(photo.name, DONE, str(output), filled_by=result.filled_by)

    return _settle(job.photo.name, work, "Run the batch with fewer --workers.")


def _settle(name: str, work: Callable[[], Outcome], out_of_memory: str) -> Outcome:
    """work()'s outcome, or the photo failed with why: whatever goes wrong costs one photo, never
    the batch. `out_of_memory` says what to do when it ran out."""
    try:
        return work()
    except EraserError as error:
        return _failed(name, str(error))
    except MemoryError:
        return _failed(name, f"Erasing it ran out of memory. {out_of_memory}")
    except Exception as error:  # a bug must cost one photo, not the batch
        return _failed(name, f"It failed unexpectedly ({type(error).__name__}): please report it.")


def _keep_out_for(photo: Photo, shared: _Shared) -> np.ndarray | None:
    """The batch's keep-out mask for this photo: like the one mask, it serves photos of its size only."""
    keep = shared.keep_out
    width, height = photo.size
    if keep is not None and keep.shape != (height, width):
        raise MaskError(f"The photo is {width}x{height} pixels but the keep-out mask is {keep.shape[1]}x"
                        f"{keep.shape[0]}: it serves only photos of its size.")
    return keep


def _mask_for(own: bytes | None, photo: Photo, shared: _Shared) -> np.ndarray:
    """The photo's mask, grown: its own mask file's bytes, or the batch's one mask if the sizes
    are equal."""
    width, height = photo.size
    if own is not None:
        return prepare(load_mask(own, photo.size), photo.size, shared.grow)
    one = shared.mask
    if one.shape != (height, width):
        raise MaskError(f"The photo is {width}x{height} pixels but the mask is {one.shape[1]}x{one.shape[0]}: "
                        f"one mask serves only photos of its size. {shared.own_mask}")
    return one


# -- masks by name and outputs, for folders and uploads alike --------------------------------------

def _matching(stem: str, masks: dict[str, list[T]], own_names_only: bool = False) -> list[T]:
    """The masks named for the photo `stem`: stem.* or stem_mask.* (only the latter when
    `own_names_only`, where a.png is a photo of its own)."""
    return ([] if own_names_only else masks.get(stem, [])) + masks.get(stem + MASK_SUFFIX, [])


def _no_single_mask(stem: str, found: list[str], where: str) -> str:
    """Why a photo that has no mask, or several, `where` they were looked for, fails."""
    if not found:
        return f"There is no mask for it {where}: add {stem}.png or {stem}{MASK_SUFFIX}.png."
    return f"Several masks match it ({', '.join(sorted(found))}): keep one."


def _same_output(output: str, other: str) -> str:
    return f"Its output, {output}, would also be the output of {other}: rename one of the two photos."


# -- files and folders ----------------------------------------------------------------------------

def _folder(path: str | Path, what: str) -> Path:
    path = Path(path)
    if not path.is_dir():
        state = "is a file, not a folder" if path.exists() else "does not exist"
        raise EraserError(f"The {what} folder '{path}' {state}.")
    return path


def _make_folder(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise EraserError(f"The output folder '{path}' is a file, not a folder.") from None
    except OSError as exc:
        raise EraserError(f"Cannot make the output folder '{path}': {exc.strerror or exc}.") from exc
    if not os.access(path, os.W_OK | os.X_OK):  # else every photo would fail with the same reason
        raise EraserError(f"Cannot write into the output folder '{path}': choose a folder you may write to.")


def _same_folder(a: Path | None, b: Path | None) -> bool:
    return a is not None and b is not None and a.resolve() == b.resolve()


def _image_files(folder: Path) -> list[Path]:
    """Files named as photos (.jpg, .jpeg, .png, .bmp, .webp, any case), not hidden, by name."""
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise EraserError(f"Cannot list the folder '{folder}': {exc.strerror or exc}.") from exc
    return [p for p in entries if p.suffix.lower().lstrip(".") in EXTENSIONS
            and not p.name.startswith(".") and p.is_file()]


def _photos(folder: Path, excluded: Callable[[Path], bool]) -> list[Path]:
    photos = [p for p in _image_files(folder) if not excluded(p)]
    if not photos:
        raise EraserError(f"There are no photos (.jpg, .jpeg, .png, .bmp or .webp files) in '{folder}'.")
    return photos


def _by_stem(files: Iterable[T], stem: Callable[[T], str] = lambda path: path.stem) -> dict[str, list[T]]:
    found: dict[str, list[T]] = {}
    for file in files:
        found.setdefault(stem(file), []).append(file)
    return found


def _output_name(photo: Path) -> str:
    """What Photo.output_name() gives when the content is what the name says."""
    return f"{photo.stem}{OUTPUT_SUFFIX}.{FORMATS[EXTENSIONS[photo.suffix.lower().lstrip('.')]][0]}"


def _failed(photo: str, reason: str) -> Outcome:
    return Outcome(photo, FAILED, reason=reason)
