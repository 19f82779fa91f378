"""Benchmarks of Bascule beside the limits measured in the same run (`bench/run`); kept out of the test suite."""
