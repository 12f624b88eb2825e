import sys
from pathlib import Path

# The tests import `tests.photos`, and the CLI tests run `python -m eraser`, from the repo root.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
