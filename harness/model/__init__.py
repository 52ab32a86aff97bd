"""The model: requirements, cases, grades, wire types and the wire codec.

Rule: pure data and pure functions. Nothing here does I/O beyond reading or
writing one reproducer file, and nothing here imports another harness layer.
"""
