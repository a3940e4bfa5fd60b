"""Performance benchmarks, run with `python -m benchmarks` (or `make bench`); never part of the test suite."""
