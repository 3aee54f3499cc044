"""Running a setup: the fill state machine (one compiled path for both engines), the backtrader glue (broker,
feeds, strategy, analyzers), ``run_backtest``, the sweep kernel, run settings and the trade log."""
