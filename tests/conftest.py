import importlib
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


def pytest_collect_file(file_path, parent):
    """schemathesis's plugin (not autoloaded, see pyproject.toml) is registered just before the
    module that uses it is collected."""
    if file_path.name == "test_openapi_fuzz.py":
        plugin = importlib.import_module("schemathesis.pytest.plugin")
        if not parent.config.pluginmanager.is_registered(plugin):
            parent.config.pluginmanager.register(plugin, plugin.__name__)


def pytest_ignore_collect(collection_path, config):
    """In the quick tier (-m "not slow"), a module marked slow as a whole is not even imported:
    some build a server or hundreds of files at import."""
    if config.option.markexpr.replace(" ", "") != "notslow" or collection_path.suffix != ".py":
        return None
    return "\npytestmark = pytest.mark.slow\n" in collection_path.read_text() or None
