"""Bars in: reading, validation and explicit repairs, CME sessions, contracts and the calendar, continuous
series, the synthetic sample.

No backtrader, no matplotlib: this layer imports only the standard library, numpy, pandas and
:mod:`rtystrat.errors`.
"""
