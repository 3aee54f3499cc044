"""Scale-out targets: several targets, each with a share of the position (pure).

``"mid:1,pivot:1"`` means: half the contracts exit at the first target (``mid``), the rest at the second
(``pivot``). Each item is ``where[:share]``; `where` is a word a setup knows (the bullish setup: ``pivot``,
``mid``, ``r1``) or an offset beyond the entry (``150pt``, ``1.5atr``); `share` is a positive number,
1 when left out. Shares are proportions: ``mid:1,pivot:2`` is the same as ``mid:0.5,pivot:1``.

Whole contracts only. :func:`split_contracts` is the rule the fill state machine applies when an entry is
placed (largest remainder, Hamilton's method): each leg gets ``floor(contracts × share / Σ shares)``, and
the contracts left over go one each to the legs with the largest fractional parts — on a tie to the leg
farther from the entry (the last target). A leg left with no contract is dropped: with one contract,
``mid:1,pivot:1`` is a single target at the pivot. Legs are numbered nearest target first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rtystrat.errors import ParameterError, suggest
from rtystrat.signals.offsets import OFFSET_FORMS, parse_offset

__all__ = ["MAX_TARGETS", "format_targets", "parse_targets", "split_contracts"]

#: Legs a position may have (the fill state machine keeps them in a fixed-size state vector).
MAX_TARGETS = 4


def parse_targets(value: str, *, words: Sequence[str], name: str = "targets") -> list[tuple[str, float]]:
    """Return ``[(where, share), ...]`` from text such as ``"mid:1,pivot:1"``, canonical and validated.

    `where` is one of `words` (lower case) or a canonical offset string (``"150pt"``); offsets of zero are
    refused (a target at the entry). Raises :class:`ParameterError` naming `name` and the bad item.
    """
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(f"{name}={value!r}: expected targets such as 'mid:1,pivot:1'")
    legs = []
    for item in value.split(","):
        where, _, share_text = item.strip().partition(":")
        where = where.strip().lower()
        if where not in words:
            try:
                offset = parse_offset(where, name=name)
            except ParameterError:
                raise ParameterError(
                    f"{name}={value!r}: {where!r} is not a target; expected one of "
                    f"{', '.join(map(repr, words))} or an offset in {OFFSET_FORMS}{suggest(where, words)}"
                ) from None
            if offset.is_zero:
                raise ParameterError(f"{name}={value!r}: the target {where!r} lies at the entry (> 0)")
            where = str(offset)
        try:
            share = float(share_text) if share_text.strip() else 1.0
        except ValueError:
            share = math.nan
        if not (math.isfinite(share) and share > 0):
            raise ParameterError(f"{name}={value!r}: the share of {where!r} must be a number > 0")
        legs.append((where, share))
    if len(legs) > MAX_TARGETS:
        raise ParameterError(f"{name}={value!r}: at most {MAX_TARGETS} targets")
    if len({where for where, _ in legs}) != len(legs):
        raise ParameterError(f"{name}={value!r}: a target is listed twice")
    return legs


def format_targets(legs: Sequence[tuple[str, float]]) -> str:
    """Return the canonical text of parsed targets (``"mid:1,pivot:1"``)."""
    return ",".join(f"{where}:{share:g}" for where, share in legs)


def split_contracts(contracts: int, shares: Sequence[float]) -> list[int]:
    """Return the whole contracts of each leg, in leg order (largest remainder; ties to the later leg).

    Examples
    --------
    >>> split_contracts(2, [1, 1])
    [1, 1]
    >>> split_contracts(3, [1, 1])
    [1, 2]
    >>> split_contracts(1, [1, 1])
    [0, 1]
    >>> split_contracts(5, [1, 2, 2])
    [1, 2, 2]
    """
    total = sum(shares)
    quotas = [contracts * share / total for share in shares]
    # a millionth of a contract of tolerance: 3 × (1/3) / 1 is 0.9999999999999999 in floating point
    legs = [math.floor(quota + 1e-9) for quota in quotas]
    remainders = [quota - leg for quota, leg in zip(quotas, legs, strict=True)]
    order = sorted(range(len(shares)), key=lambda i: (-round(remainders[i], 9), -i))
    for i in order[: contracts - sum(legs)]:
        legs[i] += 1
    return legs
