"""What every explorer shares: a matplotlib figure shown as a PNG image.

A view keeps one Figure; an update changes its artists in place
(`im.set_data`, `text.set_text`, ...) and calls `refresh()`, which
re-renders that same figure into the `ipywidgets.Image`. No figure is
rebuilt and nothing flickers; it needs no extra front-end extension.
The layout engine runs once; an explorer whose panels come and go hides
them (`set_visible`) rather than asking for a new layout.
"""
import io
import time

from matplotlib.figure import Figure


def new_figure(figsize, dpi=80):
    """A Figure that belongs to no pyplot window (never shown twice)."""
    return Figure(figsize=figsize, dpi=dpi, layout="constrained")


def canvas_png(canvas):
    """Encode an Agg canvas's pixels as PNG (fast compression)."""
    from PIL import Image

    w, h = canvas.get_width_height()
    img = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(),
                           "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    img.save(buf, format="png", compress_level=1)
    return buf.getvalue()


def figure_png(fig):
    """Render `fig` to PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas_png(canvas)


class FigureView:
    """An ipywidgets.Image showing `fig`; `refresh()` re-renders it.

    The layout is solved once, at the first draw, then frozen: a
    refresh is one Agg draw and a fast PNG encode. `last_ms` is for the
    explorer to record how long its last whole update took.
    """

    def __init__(self, fig):
        import ipywidgets as widgets
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self.canvas.draw()  # solves the (constrained) layout once
        # None, not "none": even a placeholder engine costs a second draw
        fig.set_layout_engine(None)
        # Show the PNG at its own pixel size: stretched, it blurs.
        width = round(fig.get_figwidth() * fig.dpi)
        self.image = widgets.Image(format="png", layout=widgets.Layout(
            width=f"{width}px", max_width="100%"))
        self.last_ms = None
        self.refresh()

    def refresh(self):
        self.canvas.draw()
        self.image.value = canvas_png(self.canvas)


class BlitView(FigureView):
    """A FigureView that redraws only the artists that change.

    The static part (axes, tick labels, titles) is rendered once and kept
    as a background; refresh() pastes it back and draws the `dynamic`
    artists on top. For figures with many panels (LeNet's feature maps).
    """

    def __init__(self, fig, dynamic):
        self.dynamic = list(dynamic)
        for a in self.dynamic:
            a.set_animated(True)  # left out of the background
        super().__init__(fig)

    def refresh(self):
        if not hasattr(self, "background"):
            self.canvas.draw()
            self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        self.canvas.restore_region(self.background)
        renderer = self.canvas.get_renderer()
        for a in self.dynamic:
            a.draw(renderer)
        self.image.value = canvas_png(self.canvas)


class Timer:
    """Context manager that stores the elapsed milliseconds in `.ms`."""

    def __enter__(self):
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.ms = (time.perf_counter() - self._t0) * 1e3
        return False
