"""What a setup sees: indicators, levels of the previous completed period, indicator frames, offsets,
declared parameters and bracket plans.

Pure numbers: no backtrader, no matplotlib; imports only :mod:`rtystrat.data` below it.
"""
