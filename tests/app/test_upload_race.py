"""An upload is not lost to a rerun asked for while the photo is being opened (the browser
reporting the column's width at that moment, say). Streamlit then stops the run at its next
session-state access; the next run must open the file, not take it for the photo being edited."""

from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from eraser import images


def test_a_rerun_while_the_photo_opens_keeps_the_upload(app, canvas, photo_jpeg, monkeypatch):
    opened = images.glance
    reruns = []

    def open_while_a_rerun_is_asked_for(data, fits, name=None):
        if not reruns:  # once: a browser's message arriving during the decode, with every widget's value
            ctx = get_script_run_ctx()
            widgets = WidgetStates(widgets=ctx.session_state.get_widget_states())
            rerun = RerunData(query_string=ctx.query_string, widget_states=widgets)
            reruns.append(ctx.script_requests.request_rerun(rerun))
        return opened(data, fits, name)

    monkeypatch.setattr(images, "glance", open_while_a_rerun_is_asked_for)
    app.file_uploader[0].set_value(("street.jpg", photo_jpeg, "image/jpeg"))
    app.run()

    assert reruns == [True]  # the rerun was taken, and stopped the run that was opening the photo
    assert not app.exception
    assert app.session_state["eraser_edit"].name == "street.jpg"
    assert canvas.calls and canvas.calls[-1]["width"] > 0  # the photo is on the canvas
    assert not [text for text in app.markdown if "Remove unwanted objects" in text.value]
