"""Helpers shared by the test folders: made-up photos and hostile files, tiny ONNX models, local
servers. What the benchmarks also use (photos, ports, the app's harness) comes from bench/,
which imports nothing from tests/."""

from bench.harness import ROOT, free_port

__all__ = ["ROOT", "free_port"]
