"""KPI tables drawn as SVG with matplotlib (Agg, no display), text as paths so no font is needed to view them.

Chinese titles need a CJK font on the server: the first installed of `CJK_FONTS` is used (matplotlib 3.5
picks one family for all of a text; the Noto CJK fonts carry Latin glyphs too). fonts-noto-cjk is
installed by CI; without a CJK font the text still renders, with missing-glyph boxes for Chinese.
"""
from __future__ import annotations

import io
import threading
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from bot.analytics.kpis import Table  # noqa: E402
from bot.analytics.labels import column_label, table_title, value_in_words  # noqa: E402

CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Droid Sans Fallback"]
_render_lock = threading.Lock()  # matplotlib's font cache and text layout are not thread-safe


def cjk_font() -> str | None:
    """The first installed CJK font family, if any."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _series(table: Table, language: str) -> tuple[list[str], dict[str, list[float]]]:
    """x labels and, per series, one y per label (duplicates of an x are added up), named in `language`."""
    chart = table.chart
    labels: list[str] = []
    values: dict[str, OrderedDict] = {}
    columns = {column.key: column for column in table.columns}
    names = {key: column_label(column, language) for key, column in columns.items()}
    for record in table.records():
        x = str(value_in_words(columns[chart.x], record[chart.x], language))
        if x not in labels:
            labels.append(x)
        if chart.split:
            series = {str(record[chart.split]): record[chart.series[0]]}
        else:
            series = {names[key]: record[key] for key in chart.series}
        for name, y in series.items():
            bucket = values.setdefault(name, OrderedDict())
            bucket[x] = bucket.get(x, 0.0) + _number(y)
    return labels, {name: [ys.get(x, 0.0) for x in labels] for name, ys in values.items()}


def render_svg(table: Table, language: str = "en") -> bytes:
    """The table's chart as an SVG document, its title, legend and category names in `language`."""
    if table.chart is None:
        raise ValueError(f"{table.key} has no chart")
    chart = table.chart
    labels, series = _series(table, language)
    kinds = {column.key: column.kind for column in table.columns}
    title = table_title(table, language)
    with _render_lock:
        font = cjk_font()
        family = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
        with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": family,
                                    "svg.fonttype": "path", "svg.hashsalt": "kpi", "axes.unicode_minus": False}):
            figure = Figure(figsize=(7.5, 3.4), dpi=100)
            axes = figure.add_subplot()
            positions = list(range(len(labels)))
            if chart.kind == "bar" and series:
                width = 0.8 / len(series)
                for index, (name, ys) in enumerate(series.items()):
                    axes.bar([p + index * width - 0.4 + width / 2 for p in positions], ys, width, label=name)
            else:
                for name, ys in series.items():
                    axes.plot(positions, ys, marker="o", label=name)
            axes.set_xticks(positions)
            axes.set_xticklabels(labels, rotation=45 if len(labels) > 6 else 0, ha="right" if len(labels) > 6 else "center",
                                 fontsize=8)
            if kinds.get(chart.series[0]) == "rate":
                axes.yaxis.set_major_formatter(PercentFormatter(1.0))
                axes.set_ylim(0, 1.05)
            else:
                # Counts and durations never go below zero; an all-zero range shows 0..1, not -0.04..0.04.
                top = max((max(ys) for ys in series.values() if ys), default=0)
                axes.set_ylim(0, top * 1.1 if top > 0 else 1)
            axes.set_title(title, fontsize=11)
            axes.grid(axis="y", alpha=0.3)
            if series:
                axes.legend(fontsize=8, loc="best")
            else:
                axes.text(0.5, 0.5, "—", ha="center", va="center", transform=axes.transAxes)
            figure.tight_layout()
            out = io.BytesIO()
            figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


class ChartCache:
    """Rendered SVGs keyed by (report version, range, grain, table, language): a chart is drawn once."""

    def __init__(self, size: int = 256) -> None:
        self._svgs: OrderedDict[tuple, bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple, table: Table, language: str) -> bytes:
        with self._lock:
            if key in self._svgs:
                self._svgs.move_to_end(key)
                return self._svgs[key]
        svg = render_svg(table, language)
        with self._lock:
            self._svgs[key] = svg
            while len(self._svgs) > self._size:
                self._svgs.popitem(last=False)
        return svg
