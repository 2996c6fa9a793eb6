"""What every explorer shares: a matplotlib figure shown as a PNG image.

A view keeps one Figure; an update changes its artists in place
(`im.set_data`, `text.set_text`, ...) and calls `refresh()`, which
re-renders that same figure into the `ipywidgets.Image`. No figure is
rebuilt and nothing flickers; it needs no extra front-end extension.
"""
import io
import time

from matplotlib.figure import Figure


def new_figure(figsize, dpi=80):
    """A Figure that belongs to no pyplot window (never shown twice)."""
    return Figure(figsize=figsize, dpi=dpi, layout="constrained")


def figure_png(fig):
    """Render `fig` to PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return buf.getvalue()


class FigureView:
    """An ipywidgets.Image showing `fig`; `refresh()` re-renders it.

    `last_ms` records how long the last refresh took (rendering plus
    whatever `update` did, when the explorer times its whole update).
    """

    def __init__(self, fig):
        import ipywidgets as widgets

        self.fig = fig
        self.image = widgets.Image(format="png")
        self.last_ms = None
        self.refresh()

    def refresh(self):
        self.image.value = figure_png(self.fig)


class Timer:
    """Context manager that stores the elapsed milliseconds in `.ms`."""

    def __enter__(self):
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.ms = (time.perf_counter() - self._t0) * 1e3
        return False
