"""The About page: what the app does, its limits, the active backend, and where photos go."""

import streamlit as st

from eraser import engines
from eraser.images import MAX_FILE_BYTES, MAX_PIXELS
from ui.state import state

backend, engine, edit = state.backend, state.engine, state.edit  # as chosen on the Erase page

st.title("About Eraser")
st.markdown(
    """
Eraser removes unwanted objects from photos: people in the background, wires, litter, a date
stamp. Upload a photo, paint over what should go (or upload a mask where white means erase) and
press **Erase**: the erased photo takes the place of the one you painted on, so you can paint
the next thing and erase again. **Undo erase** and **Redo erase** step through your erases,
**Compare** shows the original in the same place, and **Download** saves the current photo at
full resolution, in the format it came in.
"""
)

st.subheader("Limits")
st.markdown(
    f"""
- Formats: JPEG, PNG, BMP and WEBP.
- At most {MAX_FILE_BYTES // 2**20} MB per file and {MAX_PIXELS / 1e6:.0f} megapixels per photo.
- Erasing fills the marked area from its surroundings: small and medium objects on textured or
  even backgrounds come out best; large objects in front of detailed scenes may leave smudges.
"""
)

st.subheader("Backend")
if backend == "Local":
    st.write(f"Active: **Local**, engine **{engines.labels()[engine]}**. "
             "Photos are erased on the server running this app.")
else:
    st.write("Active: **Remote**, an AILabTools-compatible image-erase API (set in the sidebar of Erase).")

if edit is not None and edit.steps[-1] is not edit.original:
    st.subheader("This photo")
    first = edit.erase_count - edit.position  # the number of the first erase still kept
    lines = [
        f"- Erase {first + index}: {step.engine}, {step.seconds:.1f} s" + (f". {step.note}" if step.note else "")
        + (" (shown now)" if step is edit.current else "")
        for index, step in enumerate(edit.steps)
        if step is not edit.original
    ]
    st.markdown(f"**{edit.name}**, {edit.size[0]}×{edit.size[1]} px\n\n" + "\n".join(lines))

st.subheader("Privacy")
st.markdown(
    """
- **Local** keeps your photos on the server running this app, in its memory while you work.
  When it is busy, earlier steps of your undo history may wait in a private temporary folder
  on its disk, deleted when you leave. They are not sent anywhere else.
- **Remote** sends the photo and the mask to the provider of the API, whose own terms apply.
"""
)
