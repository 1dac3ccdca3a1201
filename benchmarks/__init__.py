"""Speed measurements of the simulator (commands, not tests): `python -m benchmarks.core`."""
