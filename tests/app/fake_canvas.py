"""The stand-in for streamlit_drawable_canvas under AppTest: the benchmarks' (bench/harness.py),
so a page test and a page benchmark draw the same way."""

from bench.harness import Canvas as FakeCanvas

__all__ = ["FakeCanvas"]
