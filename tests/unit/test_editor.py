"""The editing session (eraser.editor.Edit): steps, undo, redo and their bounds, without Streamlit."""

import pytest

from eraser.editor import MAX_BYTES, MAX_STEPS, Edit, Step


def photo(n: int, size: int = 10) -> bytes:
    return bytes([n]) * size


def edit_with(count: int, **bounds) -> Edit:
    edit = Edit(photo(0), "street.jpg", (4, 3), **bounds)
    for n in range(1, count + 1):
        edit.push(photo(n), engine="Local · telea", note=f"erase {n}", seconds=n / 10)
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


def test_a_new_erase_after_undo_clears_redo():
    edit = edit_with(3)
    edit.undo()
    edit.undo()
    edit.push(photo(9))
    assert [s.data for s in edit.steps] == [photo(0), photo(1), photo(9)]
    assert not edit.can_redo and edit.can_undo


def test_the_history_is_bounded_in_steps_keeping_the_newest():
    edit = edit_with(8, max_steps=3)
    assert [s.data for s in edit.steps] == [photo(5), photo(6), photo(7), photo(8)]
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
    assert Step(photo(1)).key == Step(photo(1), engine="x").key != Step(photo(2)).key
