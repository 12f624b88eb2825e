import os
import sys
import tempfile
from pathlib import Path

# The tests import `tests.photos`, and the CLI tests run `python -m eraser`, from the repo root.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# No test touches the network or the person's own model cache: learned models come only from
# files the tests build (tests/onnx_models.py), and subprocesses (CLI, app server) inherit this.
os.environ["ERASER_MODELS_DIR"] = tempfile.mkdtemp(prefix="eraser-models-")
os.environ["ERASER_OFFLINE"] = "1"
