"""Load benchmarks of the inventory service: see benchmarks/RESULTS.md and `make bench`."""
