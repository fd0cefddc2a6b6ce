"""Execution backend for many scenes: ``floodkd segment-batch`` on Dask (batch/runner.py).

Imports core only (never a front end): the CLI (cli/batch.py) and the Processing
algorithm (processing_provider/batch_algorithm.py) call :func:`batch.runner.run_batch`.
"""
