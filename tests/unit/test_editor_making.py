"""Steps whose file is made when first needed (Edit.push of a function), as the Erase page makes
them after showing the erased photo: the same bytes as a file pushed at once, made once whichever
threads ask, kept by the store once settled, and an erase whose file cannot be made taken back."""

import threading

import pytest

from eraser import steps
from eraser.editor import Edit
from eraser.errors import ImageError
from eraser.steps import StepStore


@pytest.fixture(autouse=True)
def store(monkeypatch):
    """A store of this test's own (the process's one is shared by every Edit)."""
    store = StepStore(memory_bytes=2**20, disk_bytes=0)
    monkeypatch.setattr(steps, "STORE", store)
    return store


def photo(n: int, size: int = 10) -> bytes:
    return bytes([n]) * size


def test_a_file_made_later_is_the_file_pushed_at_once(store):
    eager, deferred = Edit(photo(0), "a.jpg", (4, 3)), Edit(photo(0), "a.jpg", (4, 3))
    eager.push(photo(1), engine="Local, Telea", note="n", seconds=0.5)
    step = deferred.push(lambda: photo(1), engine="Local, Telea", note="n", seconds=0.5)
    assert step.pending and not eager.current.pending
    assert step.data == eager.current.data == photo(1)
    assert (step.engine, step.note, step.seconds) == ("Local, Telea", "n", 0.5)
    deferred.settle()
    assert not step.pending and step.number is not None and step.size == 10
    assert deferred.kept_bytes == eager.kept_bytes == 20
    assert store.in_memory == 40 and deferred.current.data == photo(1)


def test_a_step_is_in_the_store_only_once_settled_and_its_key_is_its_own(store):
    edit = Edit(photo(0), "a.jpg", (4, 3))
    gate, calls = threading.Event(), []

    def make():
        calls.append(1)
        gate.wait(10)
        return photo(1)

    first = edit.push(make)
    assert not calls and store.in_memory == 10 and edit.kept_bytes == 10  # nothing made yet
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
    assert got == [photo(1), photo(1)] and len(calls) == 1 and store.in_memory == 20
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


def test_the_bounds_hold_for_steps_made_later(store):
    edit = Edit(photo(0), "a.jpg", (4, 3), max_steps=2)
    for n in range(1, 5):
        edit.push(lambda n=n: photo(n))
    edit.settle()
    assert [step.data for step in edit.steps] == [photo(2), photo(3), photo(4)]
    assert edit.erase_count == 4 and store.in_memory == 40  # the upload stays, for Compare


def test_a_file_that_cannot_be_made_takes_its_erase_back(store):
    edit = Edit(photo(0), "a.jpg", (4, 3))
    first = edit.push(photo(1))

    def fail():
        raise ImageError("The photo could not be saved as PNG. Save it as JPEG instead.")

    edit.push(fail)
    with pytest.raises(ImageError, match="could not be saved as PNG"):
        edit.settle()
    assert edit.current is first and edit.erase_count == 1 and not edit.can_redo
    assert store.in_memory == 20
    edit.settle()  # nothing left to settle
    assert edit.undo().data == photo(0)
