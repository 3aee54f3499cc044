"""Numbers out of a run: statistics of equity and trades, the :class:`BacktestResult` container, Monte Carlo
and value formatting.

Pure pandas: no backtrader, no matplotlib; a run's result is built by the execution layer above it.
"""
