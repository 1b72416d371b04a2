"""Benchmarks of layerwise against its peers and against the machine's floor.

Entry point: `python -m benchmarks.peers --workload W1 [--peers all] [--device cpu|cuda]`.
The peers (skorch, Lightning, Keras) are optional extras of the benchmark, not of layerwise:
each imports lazily, and a missing one shows "not installed" in the table.
"""
