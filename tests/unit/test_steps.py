"""The process-wide store of undo steps (eraser.steps): one budget across sessions, least
recently used first, current photos kept, a capped private directory, and many threads."""

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from eraser.editor import Edit
from eraser.errors import StepDropped
from eraser.steps import PREFIX, StepStore, _memory_backed


def photo(n: int, size: int = 100) -> bytes:
    return bytes([n]) * size


def shelf_with(store: StepStore, first: int, count: int):
    """A session holding `count` steps, the last of them current and the first its upload."""
    shelf = store.shelf()
    numbers = [shelf.add(photo(first))]
    numbers += [shelf.add(photo(first + n), (numbers[0],)) for n in range(1, count)]
    return shelf, numbers


def kept(shelf, numbers) -> list[bool]:
    return [shelf.get(number) is not None for number in numbers]


def test_the_least_recently_used_session_gives_up_its_earliest_steps_first():
    store = StepStore(memory_bytes=900, disk_bytes=0)
    a, a_steps = shelf_with(store, 0, 4)
    b, b_steps = shelf_with(store, 10, 4)
    a.get(a_steps[-1])  # A shows its photo again: B is now the idle one
    c, c_steps = shelf_with(store, 20, 4)  # 300 bytes too many

    assert store.in_memory == 900
    assert kept(b, b_steps) == [True, False, False, True]  # B: upload and current only
    assert kept(a, a_steps) == [True, False, True, True]  # A: its earliest erase went next
    assert kept(c, c_steps) == [True, True, True, True]
    assert b.get(b_steps[-1]) == photo(13) and a.get(a_steps[2]) == photo(2)


def test_current_photos_and_uploads_stay_whatever_the_budget():
    store = StepStore(memory_bytes=0, disk_bytes=0)
    sessions = [shelf_with(store, 10 * n, 3) for n in range(5)]
    for shelf, numbers in sessions:
        assert kept(shelf, numbers) == [True, False, True]
    assert store.in_memory == 5 * 200


def test_steps_leave_memory_for_a_private_folder_and_come_back_intact(tmp_path):
    store = StepStore(memory_bytes=300, disk_bytes=10_000, places=(tmp_path,))
    shelf, numbers = shelf_with(store, 0, 5)
    assert store.in_memory == 300 and store.on_disk == 200

    folder = store.folder
    assert folder.parent == tmp_path and folder.name.startswith(f"{PREFIX}{os.getpid()}-")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(folder.iterdir())
    assert len(files) == 2 and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert {f.read_bytes() for f in files} == {photo(1), photo(2)}

    assert shelf.get(numbers[1]) == photo(1)  # read from disk, still there
    assert shelf.use(numbers[1], (numbers[0],))  # undo to it: back in memory
    assert store.in_memory <= 300 and shelf.get(numbers[1]) == photo(1)
    assert [shelf.get(n) for n in numbers] == [photo(n) for n in range(5)]

    shelf.close()  # the session ended
    assert store.in_memory == store.on_disk == 0 and not list(folder.iterdir())
    store.close()  # the process exits
    assert not folder.exists()


def test_the_folder_has_a_cap_and_the_longest_idle_session_leaves_it_first(tmp_path):
    store = StepStore(memory_bytes=400, disk_bytes=300, places=(tmp_path,))
    a, a_steps = shelf_with(store, 0, 4)
    b, b_steps = shelf_with(store, 10, 4)
    c, c_steps = shelf_with(store, 20, 4)
    assert store.on_disk == 300 and store.in_memory == 600  # uploads and current photos stay
    # A, idle the longest, lost both erases it could undo; then B its earliest.
    assert kept(a, a_steps) == [True, False, False, True]
    assert kept(b, b_steps) == [True, False, True, True]
    assert kept(c, c_steps) == [True, True, True, True]
    assert len(list(store.folder.iterdir())) == 3


def test_a_session_ending_frees_its_steps(tmp_path):
    store = StepStore(memory_bytes=200, disk_bytes=10_000, places=(tmp_path,))
    edit = Edit(photo(0), "a.jpg", (4, 3), store=store)
    for n in range(1, 5):
        edit.push(photo(n))
    assert store.on_disk == 300 and store.in_memory == 200
    del edit  # Streamlit forgets a session's state when it ends
    assert store.in_memory == store.on_disk == 0 and not list(store.folder.iterdir())


@pytest.mark.parametrize("damage", ["removed", "changed", "shortened"])
def test_a_step_file_gone_or_changed_on_disk_is_a_dropped_step(tmp_path, damage):
    store = StepStore(memory_bytes=200, disk_bytes=10_000, places=(tmp_path,))
    edit = Edit(photo(0), "a.jpg", (4, 3), store=store)
    edit.push(photo(1))
    edit.push(photo(2))
    (file,) = store.folder.iterdir()
    if damage == "removed":
        file.unlink()
    else:
        file.write_bytes(photo(9) if damage == "changed" else photo(1, 50))
    with pytest.raises(StepDropped):
        edit.undo()
    assert edit.current.data == photo(2) and not edit.can_undo and store.on_disk == 0


def test_a_disk_that_refuses_writes_drops_steps_instead(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_bytes(b"")
    store = StepStore(memory_bytes=200, disk_bytes=10_000, places=(blocked,))
    shelf, numbers = shelf_with(store, 0, 4)
    assert kept(shelf, numbers) == [True, False, False, True] and store.folder is None


def test_folders_left_by_killed_processes_are_removed(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = tmp_path / f"{PREFIX}{gone.stdout.strip()}-abc"
    stale.mkdir()
    (stale / "7").write_bytes(photo(7))
    alive = tmp_path / f"{PREFIX}{os.getppid()}-def"
    alive.mkdir()
    store = StepStore(memory_bytes=0, disk_bytes=10_000, places=(tmp_path,))
    shelf_with(store, 0, 3)
    assert not stale.exists() and alive.exists() and store.folder.exists()
    store.close()


@pytest.mark.skipif(not _memory_backed(Path("/dev/shm")), reason="no tmpfs at /dev/shm here")
def test_a_folder_in_memory_is_passed_over(tmp_path):
    store = StepStore(memory_bytes=0, disk_bytes=10_000, places=("/dev/shm", tmp_path))
    shelf_with(store, 0, 3)
    assert store.folder.parent == tmp_path
    assert not _memory_backed(tmp_path)
    store.close()


@pytest.mark.parametrize("idle_seconds", [60, 0], ids=["photos-stay", "idle-photos-move"])
def test_many_sessions_in_threads_keep_the_budget_and_their_photos(tmp_path, idle_seconds):
    store = StepStore(memory_bytes=5_000, disk_bytes=5_000, places=(tmp_path,), idle_seconds=idle_seconds)
    failures: list[BaseException] = []
    dropped = []
    start = threading.Barrier(12)

    def session(seed: int) -> None:
        """Erases, undoes and redoes, checking each time the photo it should show."""
        try:
            start.wait()
            original = photo(seed, 1000)
            edit = Edit(original, "a.jpg", (4, 3), store=store)
            history, position = [original], 0
            for turn in range(150):
                try:
                    if turn % 3 == 2 and edit.can_undo:
                        edit.undo()
                        position -= 1
                    elif turn % 7 == 6 and edit.can_redo:
                        edit.redo()
                        position += 1
                    else:
                        data = bytes([seed, turn]) * (250 + 5 * (turn % 60))
                        edit.push(data)
                        history = (history[: position + 1] + [data])[-6:]  # 5 undos at most
                        position = len(history) - 1
                except StepDropped:
                    dropped.append(seed)
                    dropped_back = turn % 3 == 2
                    history, position = (history[position:], 0) if dropped_back else (history[: position + 1], position)
                assert edit.current.data == history[position] and edit.original.data == original
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=session, args=(seed,)) for seed in range(12)]
    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads take turns often, inside the store's methods too
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switching)
    assert not failures, failures[0]
    assert dropped  # the budget was tight enough to matter
    entries = list(store._entries.values())
    assert store.in_memory == sum(e.size for e in entries if e.data is not None)
    assert store.on_disk == sum(e.size for e in entries if e.path is not None) <= 5_000
    assert len(list(store.folder.iterdir())) == sum(e.path is not None for e in entries)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def moved(store: StepStore) -> set[int]:
    """The numbers of the steps on disk."""
    return {number for number, entry in store._entries.items() if entry.path is not None}


def test_the_uploads_and_photos_of_idle_sessions_leave_memory_last_and_come_back_intact(tmp_path):
    clock = Clock()
    store = StepStore(memory_bytes=400, disk_bytes=10_000, places=(tmp_path,), idle_seconds=60, clock=clock)
    a = Edit(photo(0), "a.png", (4, 3), store=store)
    a.push(photo(1))
    a.push(photo(2))
    b = Edit(photo(10), "b.png", (4, 3), store=store)
    b.push(photo(11))
    clock.now = 59.0  # nobody idle for a minute yet: only A's erase 1 can leave memory
    c = Edit(photo(20), "c.png", (4, 3), store=store)
    c.push(photo(21))
    assert store.in_memory == 600 and moved(store) == {a.steps[1].number}

    clock.now = 120.0  # A and B idle for a minute: C's next erase moves C's erase 1 out, then A's upload and photo
    c.push(photo(22))
    assert moved(store) == {a.steps[1].number, c.steps[1].number, a.original.number, a.current.number}
    assert store.in_memory == 400 and store.on_disk == 400  # B, idle for less long, and C keep theirs

    # A comes back: its photo and upload are read from disk, identical, and are in memory again.
    assert a.current.data == photo(2) and a.current.number not in moved(store)
    assert a.original.data == photo(0) and a.original.number not in moved(store)
    assert a.undo().data == photo(1) and a.redo().data == photo(2)
    assert b.current.data == photo(11) and b.undo().data == photo(10)
    assert c.current.data == photo(22) and c.undo().data == photo(21) and c.undo().data == photo(20)
    entries = list(store._entries.values())
    assert store.in_memory == sum(e.size for e in entries if e.data is not None)
    assert store.on_disk == sum(e.size for e in entries if e.path is not None)


def test_a_current_photo_is_never_dropped_for_room_on_disk(tmp_path):
    clock = Clock()
    store = StepStore(memory_bytes=0, disk_bytes=250, places=(tmp_path,), idle_seconds=10, clock=clock)
    idle = [Edit(photo(10 * n), "a.png", (4, 3), store=store) for n in range(3)]
    for n, edit in enumerate(idle):
        edit.push(photo(10 * n + 1))
        edit.push(photo(10 * n + 2))
    assert moved(store) == {idle[1].steps[1].number, idle[2].steps[1].number}  # A's erase 1 made way

    clock.now = 60.0
    active = Edit(photo(90), "b.png", (4, 3), store=store)
    active.push(photo(91))
    # The longest idle session's upload and photo take the room of undo steps on disk, never
    # the other way round; those with no room left stay in memory.
    assert moved(store) == {idle[0].original.number, idle[0].current.number}
    for n, edit in enumerate(idle):
        assert edit.current.data == photo(10 * n + 2) and edit.original.data == photo(10 * n)
        with pytest.raises(StepDropped):
            edit.undo()
        assert edit.current.data == photo(10 * n + 2)
    assert active.current.data == photo(91) and active.undo().data == photo(90)


def test_a_current_photo_stays_in_memory_when_the_disk_refuses_it(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_bytes(b"")
    clock = Clock()
    store = StepStore(memory_bytes=0, disk_bytes=10_000, places=(blocked,), idle_seconds=1, clock=clock)
    edit = Edit(photo(0), "a.png", (4, 3), store=store)
    edit.push(photo(1))
    clock.now = 5.0
    Edit(photo(9), "b.png", (4, 3), store=store).push(photo(8))
    assert edit.current.data == photo(1) and edit.original.data == photo(0)


def test_a_current_photo_changed_on_disk_is_never_given_back_wrong(tmp_path):
    clock = Clock()
    store = StepStore(memory_bytes=0, disk_bytes=10_000, places=(tmp_path,), idle_seconds=1, clock=clock)
    edit = Edit(photo(0), "a.png", (4, 3), store=store)
    edit.push(photo(1))
    clock.now = 5.0
    Edit(photo(9), "b.png", (4, 3), store=store)
    assert moved(store) == {edit.original.number, edit.current.number}
    store._entries[edit.current.number].path.write_bytes(photo(7))
    with pytest.raises(StepDropped):
        assert edit.current.data != photo(7)  # raises: never the changed file
    assert edit.original.data == photo(0)


def test_the_upload_and_each_step_are_kept_without_a_copy(tmp_path):
    """The page hands over Streamlit's own upload bytes (UploadedFile.getvalue() shares them):
    the store must hold that object, not a second copy of a 14 MB file."""
    store = StepStore(memory_bytes=10_000, disk_bytes=0)
    upload, erased = photo(0, 1000), photo(1, 1000)
    edit = Edit(upload, "a.png", (4, 3), store=store)
    edit.push(erased)
    assert edit.original.data is upload and edit.current.data is erased
