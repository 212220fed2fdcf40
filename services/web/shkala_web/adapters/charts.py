"""Charts of the reports rendered on the server as PNG (matplotlib, no display)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from shkala_web.domain.note import Chart


def _comma(x: float, _pos: int) -> str:
    return f"{x:g}".replace(".", ",")


def bar_png(chart: Chart) -> bytes:
    labels = [label if len(label) <= 28 else label[:27] + "…" for label in chart.labels]
    values = [v if v is not None else 0.0 for v in chart.values]
    fig, ax = plt.subplots(figsize=(7.0, 0.45 * max(len(labels), 3) + 1.2), dpi=110)
    try:
        colors = ["#c0392b" if chart.at_risk(v) else "#2e6fa7" for v in chart.values]
        ax.barh(labels, values, color=colors)
        ax.invert_yaxis()
        if chart.threshold is not None:
            ax.axvline(chart.threshold, color="#555", linestyle="--", linewidth=1)
            ax.text(chart.threshold, -0.7, f"порог {_comma(chart.threshold, 0)}", fontsize=8)
        ax.set_title(chart.title, fontsize=10)
        ax.xaxis.set_major_formatter(FuncFormatter(_comma))
        if chart.unit:
            ax.set_xlabel(chart.unit)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(fig)
