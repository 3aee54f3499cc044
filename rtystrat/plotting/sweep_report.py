"""A sweep as one self-contained HTML file: the best runs, the heatmap and the overfitting diagnostics.

Built from the same pieces as the backtest report (:mod:`rtystrat.plotting.report`): inline CSS, charts as
base64 PNG, every cell HTML-escaped, so the file can be mailed, archived or opened offline.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import pandas as pd

from rtystrat.plotting.report import _STYLE, _image, _scroll, _table
from rtystrat.plotting.tuning import heatmap_axes, plot_heatmap, plot_overfitting
from rtystrat.tuning.sweep import rank, why_unranked

if TYPE_CHECKING:
    from rtystrat.tuning.diagnostics import Diagnostics

__all__ = ["render_sweep_html"]

_SHOWN = ("# Trades", "Win Rate [%]", "Net P&L [$]", "Max. Drawdown [%]", "Profit Factor", "Sharpe Ratio")


def render_sweep_html(
    frame: pd.DataFrame,
    diagnostics: Diagnostics | None = None,
    *,
    objective: str = "Expectancy [R]",
    min_trades: int = 10,
    maximize: bool = True,
    top: int = 20,
    title: str | None = None,
) -> str:
    """Render a sweep, and its overfitting diagnostics when given, as one self-contained HTML page.

    Parameters
    ----------
    frame : pd.DataFrame
        The sweep frame (:func:`rtystrat.sweep`): one row per run, indexed by the parameters.
    diagnostics : Diagnostics, optional
        :func:`rtystrat.diagnose` of the same sweep; adds the table of DSR, PSR, PBO, SPA and plateau
        against peak, and the overfitting figure (logit histogram, OOS vs IS).
    objective, min_trades, maximize
        How the runs are ranked (:func:`rtystrat.tuning.sweep.rank`).
    top : int
        Rows of the ranking shown.
    title : str, optional
        Page title; by default "Sweep report".

    Returns
    -------
    str
        The HTML document: what was swept, the best `top` runs, a heatmap of `objective` over the first
        two varied parameters (stop across and target down when they are varied), then the diagnostics.
    """
    title = title or "Sweep report"
    varied = [name for name in frame.index.names if frame.index.get_level_values(name).nunique() > 1]
    ranked = rank(frame, objective, min_trades=min_trades, maximize=maximize)
    facts = [
        f"{len(frame):,} runs",
        f"varied: {', '.join(map(str, varied)) or 'nothing'}",
        f"ranked by {objective} ({'highest' if maximize else 'lowest'} first), at least {min_trades} trades",
    ]
    columns = [column for column in dict.fromkeys([objective, *_SHOWN]) if column in frame]
    best = ranked.head(top).reset_index()[[*varied, *columns]]
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="facts">{" · ".join(html.escape(fact) for fact in facts)}</p>',
        f"<h2>Best runs ({min(top, len(ranked)):,} of {len(ranked):,} ranked)</h2>",
        _scroll(_table(best.set_axis(range(1, len(best) + 1)).rename_axis("#")))
        if len(best)
        else f'<p class="muted">{html.escape(why_unranked(frame, min_trades))}</p>',
    ]
    axes = heatmap_axes(varied)
    if axes is not None and objective in frame:
        figure = plot_heatmap(frame, x=axes[0], y=axes[1], value=objective)
        body += [
            f"<h2>{html.escape(objective)} over the grid</h2>",
            _image(figure, f"Heatmap of {objective}"),
        ]
    if diagnostics is not None:
        body += _diagnostics_section(diagnostics.to_dict(), diagnostics)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        "<body><main>\n" + "\n".join(body) + "\n</main></body>\n</html>\n"
    )


def _diagnostics_section(summary: dict[str, Any], diagnostics: Diagnostics) -> list[str]:
    """The diagnostics table (statistic, value, what it measures) and the overfitting figure."""
    rows: list[tuple[str, str, str]] = [
        ("Runs (trials)", f"{summary['trials']:,}", f"{summary['periods']:,} per-period returns each"),
        (
            "Effective independent trials",
            f"{summary['effective_trials']:.1f}",
            f"N̂ = ρ̄ + (1 − ρ̄)·N, mean pairwise correlation ρ̄ {summary['mean_correlation']:.2f}",
        ),
    ]
    selected = summary.get("selected")
    if selected is not None:
        chosen = ", ".join(f"{name}={'none' if v is None else v}" for name, v in selected["params"].items())
        rows += [
            ("Selected run", chosen, f"best {summary['objective']} {selected[summary['objective']]:.3f}"),
            (
                "Sharpe ratio (annualised)",
                f"{selected['sharpe_ratio']:.3f}",
                f"skewness {selected['skewness']:.2f}, kurtosis {selected['kurtosis']:.2f}",
            ),
            (
                "Probabilistic Sharpe Ratio",
                f"{selected['probabilistic_sharpe_ratio']:.3f}",
                f"P(true Sharpe > {selected['benchmark_sharpe_ratio']:.2f})",
            ),
            (
                "Deflated Sharpe Ratio",
                f"{selected['deflated_sharpe_ratio']:.3f}",
                f"P(true Sharpe > {selected['expected_max_sharpe_ratio']:.2f}, the expected best of the "
                f"unskilled trials); all {summary['trials']} trials counted: "
                f"{selected['deflated_sharpe_ratio_all_trials']:.3f}",
            ),
        ]
    pbo = summary["pbo"]
    if pbo is not None:
        rows += [
            (
                "Probability of Backtest Overfitting",
                f"{pbo['pbo']:.3f}",
                f"CSCV, {pbo['blocks']} blocks, {pbo['splits']:,} splits: the in-sample winner at or below "
                "the out-of-sample median",
            ),
            ("Performance degradation slope", f"{pbo['degradation_slope']:.3f}", "OOS Sharpe on IS Sharpe"),
            ("Probability of OOS loss", f"{pbo['probability_of_loss']:.3f}", "the IS winner loses OOS"),
        ]
    spa = summary["spa"]
    if spa is not None:
        rows.append(
            (
                f"Hansen's SPA p-value vs {spa['benchmark']}",
                f"{spa['pvalue_consistent']:.3f}",
                f"lower {spa['pvalue_lower']:.3f}, upper {spa['pvalue_upper']:.3f}; {spa['tested']} runs, "
                f"{spa['periods']:,} {spa['period']}s of returns, {spa['reps']:,} bootstrap reps, mean block "
                f"{spa['block_size']}",
            )
        )
    plateau = summary["plateau"]
    if plateau is not None:
        peak, flat = plateau["best_peak"], plateau["best_plateau"]
        rows += [
            ("Best peak", _params(peak["params"]), f"{summary['objective']} {peak['value']:.3f}"),
            (
                "Best plateau",
                _params(flat["params"]),
                f"{summary['objective']} {flat['value']:.3f}; mean of its {flat['neighbours']} grid cells "
                f"{flat['plateau_value']:.3f}",
            ),
        ]
    table = pd.DataFrame(rows, columns=["Statistic", "Value", "What it measures"]).set_index("Statistic")
    section = ["<h2>How likely is the best run an accident?</h2>", _scroll(_table(table))]
    if diagnostics.overfitting is not None:
        figure = plot_overfitting(diagnostics)
        section.append(_image(figure, "PBO: logit histogram and out-of-sample vs in-sample Sharpe ratio"))
    return section


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{name}={'none' if value is None else value}" for name, value in params.items())
