"""Photos and masks the tests make themselves (no files to download): the benchmarks' recipe, so
a test and a benchmark see the same pictures (bench imports nothing from tests; tests may import
from bench)."""

from bench.inputs import blob, cjpeg, encode, object_scene, scene

__all__ = ["blob", "cjpeg", "encode", "object_scene", "scene"]
