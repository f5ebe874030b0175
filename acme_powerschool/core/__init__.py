"""The functional core: pure functions over frozen attrs records.

No networking, files, clocks, randomness or environment here (a test checks the imports):
time and jitter are arguments, and every decision is a returned value.
"""
