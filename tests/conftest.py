import os
import tempfile

# No test touches the network or the person's own model cache: learned models come only from
# files the tests build (tests/support/onnx_models.py), and subprocesses (CLI, app server) inherit this.
os.environ["ERASER_MODELS_DIR"] = tempfile.mkdtemp(prefix="eraser-models-")
os.environ["ERASER_OFFLINE"] = "1"


def pytest_collection_modifyitems(items):
    """The tiers (pyproject.toml's markers): a test that drives the browser is `browser` and `slow`,
    wherever it lives; the other slow tests carry the mark themselves."""
    for item in items:
        if "browser" in item.fixturenames:
            item.add_marker("browser")
            item.add_marker("slow")
