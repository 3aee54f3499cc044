"""Exceptions raised by rtystrat.

Every error is one line that names the culprit (file and row, parameter, strategy), so a CLI can print it
as is and a user knows what to fix without reading a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["DataError", "ParameterError", "RtystratError", "UnknownStrategyError", "suggest"]


class RtystratError(Exception):
    """Base class of every error rtystrat raises on purpose."""


class DataError(RtystratError, ValueError):
    """Input data is unusable: missing column, NaN, bad price, unsorted or duplicate timestamps, ..."""


class ParameterError(RtystratError, ValueError):
    """A parameter is unknown or its value is impossible."""


class UnknownStrategyError(ParameterError, LookupError):
    """No strategy is registered under the requested name."""


def suggest(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest of `choices`, or ``""`` when none is close."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
