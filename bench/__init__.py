"""Benchmarks of acme_powerschool against plain requests and peer SDKs, on the simulator.

`make bench` (python -m bench). Never tests: nothing here is collected by pytest.
"""
