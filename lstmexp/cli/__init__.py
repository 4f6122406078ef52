"""The command line: one module per command group, the entry point and error mapping in `main`.

Nothing here imports torch, optuna or pandas at import time, so `lstmexp --help` stays instant.
"""
