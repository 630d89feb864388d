"""`make bench`: latency, throughput and memory of our assistant against the `rasa init` baseline.

Run with `python -m bench.run --help`. What is measured and how: docs/PERFORMANCE.md.
"""
