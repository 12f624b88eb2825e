"""Start the app with `streamlit run`, and Debian Chromium, for the browser tests: the
benchmarks' own harness (bench/harness.py), so both run the app the same way."""

from bench.harness import CHROMIUM, CHROMIUM_ARGS, ROOT, launch_chromium, running_app

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "ROOT", "launch_chromium", "running_app"]
