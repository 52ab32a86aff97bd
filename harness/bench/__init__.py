"""Benchmarks: throughput, latency and overhead, always as ratios against
baselines measured in the same run (this machine is shared and noisy).

Rule: performance is measured here, never asserted by timing in tests.
"""
