"""Reliability and security tests: every fault of every wire protocol, canary keys, bad
input, fuzzing and signals. The fault servers live in ``tests.faults.servers``."""
