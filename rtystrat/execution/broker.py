"""backtrader broker glue: futures economics and a broker that books fills at prices decided elsewhere.

Why a broker subclass rather than ``cheat_on_open`` plus ``Order.Historical``
----------------------------------------------------------------------------
Both book a price computed by :mod:`rtystrat.execution.fills` on the bar it belongs to. With
``cheat_on_open`` the orders must be sent in ``next_open`` and execute in the following broker pass, which
leaves two fills with no later pass to execute them: the exit at the last close (``end``) and the roll exit
at the close before a contract change. :class:`FuturesBroker` instead runs every registered bracket book at
the start of its own ``next()`` — the bar is loaded, nothing of it has been executed yet — and executes the
book's fills at once through backtrader's own ``_execute``. So:

- each fill is dated on its own bar, and backtrader's position, cash, value and ``Trade`` P&L (points ×
  multiplier × contracts − commission) follow from backtrader's own futures accounting;
- notifications reach ``notify_order``/``notify_trade`` and the analyzers on that same bar;
- one callback per bar, no cheat-on-open pass, and it works the same in ``runonce`` and bar-by-bar modes;
- a user's own ``next()`` cannot forget to process the bracket: the broker does it.
"""

from __future__ import annotations

from typing import Any, Protocol

import backtrader as bt

from rtystrat.data.contracts import ContractSpec

__all__ = ["FuturesBroker", "FuturesCommission", "futures_commission"]


class FuturesCommission(bt.CommInfoBase):
    """Futures commission scheme: fixed $ per contract per side, margin per contract, point multiplier."""

    params = (
        ("stocklike", False),
        ("commtype", bt.CommInfoBase.COMM_FIXED),
        ("percabs", True),
    )


def futures_commission(spec: ContractSpec) -> FuturesCommission:
    """Return backtrader's commission info for `spec` (multiplier, margin, commission per side)."""
    return FuturesCommission(
        commission=spec.commission_per_side, mult=spec.multiplier, margin=spec.initial_margin
    )


class BracketBook(Protocol):
    """What the broker calls on every bar: compute and book that bar's fills."""

    def process_bar(self) -> None:
        """Book the fills of the current bar through :meth:`FuturesBroker.book`."""


class FuturesBroker(bt.brokers.BackBroker):
    """``BackBroker`` that runs registered bracket books first on every bar and books fills at given prices.

    Parameters
    ----------
    fill_settings : ndarray
        The run's fill settings (:meth:`rtystrat.execution.config.RunConfig.fill_settings`), read by the
        strategies.
    contract : str
        Symbol of the traded contract, for the trade log when the data has no ``contract`` column.
    progress : tqdm, optional
        A progress bar advanced by one on each bar.

    Attributes
    ----------
    values : list of float
        The account value (cash + margin held + open P&L at the close) after each bar so far: the equity
        curve of the account, kept here rather than by a per-strategy analyzer — one value per bar however
        many strategies share the account, and no analyzer call per bar.
    """

    params = (("fill_settings", None), ("contract", ""), ("progress", None))

    def init(self) -> None:
        """Reset the broker (backtrader calls this on construction and on each run)."""
        super().init()
        self._books: list[BracketBook] = []
        self.values: list[float] = []

    def register(self, book: BracketBook) -> None:
        """Run `book.process_bar()` at the start of each bar, before backtrader's own order processing."""
        self._books.append(book)

    def next(self) -> None:
        """Book the bracket fills of this bar, run backtrader's usual pass (orders, end-of-bar marks), then
        record the account value: nothing later in the bar changes it (strategies only place orders)."""
        for book in self._books:
            book.process_bar()
        super().next()
        self.values.append(self._value)  # what getvalue() returns, set by the pass above
        if self.p.progress is not None:
            self.p.progress.update(1)

    def book(
        self, owner: bt.Strategy, data: bt.AbstractDataBase, size: float, price: float, **info: Any
    ) -> bt.Order:
        """Execute a buy (`size` > 0) or sell (`size` < 0) of `data` at `price` now, on the current bar.

        The order is a ``Historical`` order (backtrader's type for fills decided outside its matching) and
        carries `info` in ``order.info``. It goes through backtrader's ``_execute``: position, cash (margin,
        commission, futures mark-to-market) and the owner's ``Trade`` are updated exactly as for any fill.

        Raises
        ------
        RuntimeError
            If backtrader refuses the fill for lack of cash; the caller checks margin first, so this means
            the two cash views disagree.
        """
        order_class = bt.BuyOrder if size > 0 else bt.SellOrder
        order = order_class(
            owner=owner, data=data, size=abs(size), price=price, exectype=bt.Order.Historical, histnotify=True
        )
        order.addinfo(**info)
        self._ocoize(order, None)
        order.submit(self)
        order.accept(self)
        self._execute(order, ago=0, price=price)
        if order.status != bt.Order.Completed:
            raise RuntimeError(f"the broker refused a {size:+g} fill at {price} ({order.getstatusname()})")
        return order
