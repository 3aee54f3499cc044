"""Searching parameters: grids and random spaces, the sweep, its executors and SQLite store, walk-forward."""
