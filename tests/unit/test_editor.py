"""The editing session (eraser.editor.Edit): steps, undo, redo and their bounds, without Streamlit."""

import threading

import pytest

from eraser import steps
from eraser.editor import EARLIER_DROPPED, LATER_DROPPED, MAX_BYTES, MAX_STEPS, Edit
from eraser.errors import EraserError, ImageError, StepDropped
from eraser.steps import StepStore


@pytest.fixture(autouse=True)
def roomy_store(monkeypatch):
    """A store of this test's own (the process's one is shared by every Edit)."""
    store = StepStore(memory_bytes=2**20, disk_bytes=0)
    monkeypatch.setattr(steps, "STORE", store)
    return store


def photo(n: int, size: int = 10) -> bytes:
    return bytes([n]) * size


def edit_with(count: int, size: int = 10, **bounds) -> Edit:
    edit = Edit(photo(0, size), "street.jpg", (4, 3), **bounds)
    for n in range(1, count + 1):
        edit.push(photo(n, size), engine="Local · telea", note=f"erase {n}", seconds=n / 10)
    return edit


def test_a_new_edit_holds_only_the_upload():
    edit = Edit(photo(0), "street.jpg", (4, 3))
    assert edit.current.data == photo(0) and edit.current is edit.original
    assert not edit.erased and not edit.can_undo and not edit.can_redo
    assert (edit.name, edit.size) == ("street.jpg", (4, 3))
    assert (edit.max_steps, edit.max_bytes) == (MAX_STEPS, MAX_BYTES)


def test_each_erase_is_a_step_with_its_record():
    edit = edit_with(2)
    assert edit.current.data == photo(2) and edit.erased
    assert [s.data for s in edit.steps] == [photo(0), photo(1), photo(2)]
    assert (edit.current.engine, edit.current.note, edit.current.seconds) == ("Local · telea", "erase 2", 0.2)


def test_undo_and_redo_walk_the_steps_and_stop_at_the_ends():
    edit = edit_with(2)
    assert edit.erase_count == 2
    assert edit.undo().data == photo(1) and edit.erase_count == 1
    assert edit.undo().data == photo(0) and not edit.erased and edit.erase_count == 0
    assert not edit.can_undo
    with pytest.raises(IndexError):
        edit.undo()
    assert edit.redo().data == photo(1)
    assert edit.redo().data == photo(2)
    assert not edit.can_redo
    with pytest.raises(IndexError):
        edit.redo()


def test_a_new_erase_after_undo_clears_redo(roomy_store):
    edit = edit_with(3)
    edit.undo()
    edit.undo()
    edit.push(photo(9))
    assert [s.data for s in edit.steps] == [photo(0), photo(1), photo(9)]
    assert not edit.can_redo and edit.can_undo
    assert roomy_store.in_memory == 30  # the cleared steps are freed


def test_the_history_is_bounded_in_steps_keeping_the_newest(roomy_store):
    edit = edit_with(8, max_steps=3)
    assert [s.data for s in edit.steps] == [photo(5), photo(6), photo(7), photo(8)]
    assert roomy_store.in_memory == 50  # those four and the original
    for _ in range(3):
        edit.undo()
    assert not edit.can_undo and edit.current.data == photo(5)
    assert edit.original.data == photo(0)  # still there to compare with
    assert edit.erase_count == 5
    edit.redo()
    assert edit.erase_count == 6


def test_the_history_is_bounded_in_bytes_keeping_the_current_step():
    edit = Edit(photo(0, 100), "big.png", (4, 3), max_bytes=250)
    edit.push(photo(1, 100))
    assert edit.kept_bytes == 200
    edit.push(photo(2, 100))
    assert [s.data for s in edit.steps] == [photo(1, 100), photo(2, 100)] and edit.kept_bytes <= 250
    edit.push(photo(3, 400))  # larger than the bound on its own: kept, as the current photo
    assert [s.data for s in edit.steps] == [photo(3, 400)]
    assert not edit.can_undo and edit.original.data == photo(0, 100)


def test_zero_steps_means_no_undo():
    edit = edit_with(2, max_steps=0)
    assert edit.current.data == photo(2) and not edit.can_undo


def test_negative_bounds_are_refused():
    with pytest.raises(ValueError):
        Edit(photo(0), "a.jpg", (1, 1), max_steps=-1)


def test_a_step_key_follows_its_content():
    edit = edit_with(3)
    edit.push(photo(1))
    keys = [step.key for step in edit.steps]
    assert keys[1] == keys[4] != keys[2] != keys[0]


def test_the_steps_live_in_the_store_and_leave_it_with_the_edit(roomy_store):
    edit = edit_with(3, size=1000)
    assert roomy_store.in_memory == 4000
    del edit
    assert roomy_store.in_memory == 0


# -- one budget across sessions: the person who reaches a dropped step is told --


def idle_edit_and_a_busy_one(store: StepStore) -> Edit:
    """An edit with three erases, left idle while another session erases a big photo."""
    idle = edit_with(3, size=100, store=store)
    busy = Edit(photo(7, 300), "busy.png", (4, 3), store=store)
    busy.push(photo(8, 300))
    idle.busy = busy  # keeps it alive as long as the test needs it
    return idle


def test_reaching_a_dropped_step_says_so_and_keeps_the_photo_and_later_steps():
    store = StepStore(memory_bytes=900, disk_bytes=0)
    edit = idle_edit_and_a_busy_one(store)  # 400 + 600 bytes: the idle edit's erase 1 went
    assert edit.undo().data == photo(2, 100)  # still in memory
    with pytest.raises(StepDropped) as dropped:
        edit.undo()
    assert str(dropped.value) == EARLIER_DROPPED and isinstance(dropped.value, EraserError)
    assert edit.current.data == photo(2, 100) and edit.original.data == photo(0, 100)
    assert not edit.can_undo and edit.erase_count == 2  # nothing earlier is left to try
    assert edit.redo().data == photo(3, 100)  # the later step is kept
    edit.push(photo(4, 100))  # and the edit goes on
    assert edit.undo().data == photo(3, 100)


def test_reaching_a_dropped_later_step_says_so():
    store = StepStore(memory_bytes=10_000, disk_bytes=0)
    edit = edit_with(3, size=100, store=store)
    edit.undo()
    edit.undo()  # erase 1 is shown; erases 2 and 3 can be redone
    store.memory_bytes = 350  # another visitor came: the far end of the redo goes first
    other = Edit(photo(9, 50), "other.png", (4, 3), store=store)
    assert edit.redo().data == photo(2, 100)
    with pytest.raises(StepDropped) as dropped:
        edit.redo()
    assert str(dropped.value) == LATER_DROPPED
    assert edit.current.data == photo(2, 100) and not edit.can_redo and edit.can_undo
    assert other.current.data == photo(9, 50)

# Steps whose file is made when first needed (Edit.push of a function), as the Erase page makes
# them after showing the erased photo: the same bytes as a file pushed at once, made once whichever
# threads ask, kept by the store once settled, and an erase whose file cannot be made taken back.


def test_a_file_made_later_is_the_file_pushed_at_once(roomy_store):
    eager, deferred = Edit(photo(0), "a.jpg", (4, 3)), Edit(photo(0), "a.jpg", (4, 3))
    eager.push(photo(1), engine="Local, Telea", note="n", seconds=0.5)
    step = deferred.push(lambda: photo(1), engine="Local, Telea", note="n", seconds=0.5)
    assert step.pending and not eager.current.pending
    assert step.data == eager.current.data == photo(1)
    assert (step.engine, step.note, step.seconds) == ("Local, Telea", "n", 0.5)
    deferred.settle()
    assert not step.pending and step.number is not None and step.size == 10
    assert deferred.kept_bytes == eager.kept_bytes == 20
    assert roomy_store.in_memory == 40 and deferred.current.data == photo(1)


def test_a_step_is_in_the_store_only_once_settled_and_its_key_is_its_own(roomy_store):
    edit = Edit(photo(0), "a.jpg", (4, 3))
    gate, calls = threading.Event(), []

    def make():
        calls.append(1)
        gate.wait(10)
        return photo(1)

    first = edit.push(make)
    assert not calls and roomy_store.in_memory == 10 and edit.kept_bytes == 10  # nothing made yet
    got = []
    readers = [threading.Thread(target=lambda: got.append(first.data)) for _ in range(2)]  # download clicks
    for reader in readers:
        reader.start()
    readers[0].join(0.2)
    assert not got  # they wait for the bytes, not for a wrong answer
    gate.set()
    for reader in readers:
        reader.join(10)
    edit.settle()
    assert got == [photo(1), photo(1)] and len(calls) == 1 and roomy_store.in_memory == 20
    second = edit.push(lambda: photo(1))  # the same content again
    edit.settle()
    assert len({edit.original.key, first.key, second.key}) == 3  # one key per step, never shared


def test_undo_and_redo_settle_first_and_reach_the_right_steps():
    edit = Edit(photo(0), "a.jpg", (4, 3))
    edit.push(lambda: photo(1))
    second = edit.push(lambda: photo(2))  # the first is settled by this push
    assert edit.undo().data == photo(1)
    assert second.number is not None  # stored before the undo moved away from it
    assert edit.redo() is second and second.data == photo(2)
    assert [step.data for step in edit.steps] == [photo(0), photo(1), photo(2)]


def test_the_bounds_hold_for_steps_made_later(roomy_store):
    edit = Edit(photo(0), "a.jpg", (4, 3), max_steps=2)
    for n in range(1, 5):
        edit.push(lambda n=n: photo(n))
    edit.settle()
    assert [step.data for step in edit.steps] == [photo(2), photo(3), photo(4)]
    assert edit.erase_count == 4 and roomy_store.in_memory == 40  # the upload stays, for Compare


def test_a_file_that_cannot_be_made_takes_its_erase_back(roomy_store):
    edit = Edit(photo(0), "a.jpg", (4, 3))
    first = edit.push(photo(1))

    def fail():
        raise ImageError("The photo could not be saved as PNG. Save it as JPEG instead.")

    edit.push(fail)
    with pytest.raises(ImageError, match="could not be saved as PNG"):
        edit.settle()
    assert edit.current is first and edit.erase_count == 1 and not edit.can_redo
    assert roomy_store.in_memory == 20
    edit.settle()  # nothing left to settle
    assert edit.undo().data == photo(0)
