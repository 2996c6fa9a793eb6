"""Pooling explorer (6.5): thin ipywidgets wiring over helpers.plot.pooling.

    from helpers.widgets.pooling import pooling_explorer
    pooling_explorer()          # in a notebook cell

Tests drive it headlessly: set `ex.controls[name].value` and read
`ex.state` (the dict from `helpers.plot.pooling.pooling_view`).
"""
import html

import torch

from helpers.plot.pooling import PoolingFigure, pooling_view, split_layers
from helpers.env import one_thread
from helpers.widgets.common import BlitView, Timer, canvas_png, new_figure

FASHION = "Fashion-MNIST image (28x28)"


def _edge_image():
    X = torch.ones(6, 8)
    X[:, 2:6] = 0  # the 6.2 edge image: a dark vertical band
    return X


INPUTS = {
    "chapter 3x3 (6.5.1)": lambda: torch.arange(9.0).reshape(3, 3),
    "arange 4x4 (6.5.2)": lambda: torch.arange(16.0).reshape(4, 4),
    "edge image 6x8 (6.2)": _edge_image,
    FASHION: None,  # loaded on first use (needs the data folder)
}


def load_input(name):
    """The (H, W) input called `name` in the explorer's menu."""
    if name not in INPUTS:
        raise ValueError(f"input must be one of {list(INPUTS)}, "
                         f"got {name!r}")
    if name == FASHION:
        from helpers.data import fashion_mnist_image
        return fashion_mnist_image(0)[0]
    return INPUTS[name]()


def _limits(fig):
    """The axes limits of `fig`: its ticks depend on nothing else."""
    return tuple(ax.get_xlim() + ax.get_ylim() for ax in fig.axes)


def _look(a):
    """What a drawn artist looks like, as far as the explorer changes it."""
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D
    from matplotlib.text import Text

    if not a.get_visible():
        return None
    if isinstance(a, Text):
        return a.get_text(), a.get_position(), str(a.get_color())
    if isinstance(a, AxesImage):
        return (a.get_array().tobytes(), a.get_clim(), a.get_extent(),
                a.get_cmap().name)
    if isinstance(a, Line2D):
        return tuple(a.get_xdata()), tuple(a.get_ydata())
    return ()  # spines: fixed


class LayeredView(BlitView):
    """A BlitView that keeps two saved pictures: ticks, ticks + `slow`.

    Each refresh redraws the `fast` artists (window frames, titles) over
    the saved ticks + `slow` artists (cell numbers, images, curves); it
    redraws an axes' `slow` artists only when they look different.
    refresh(ticks=True), for new axes limits, redraws the ticks too.
    """

    def __init__(self, fig, slow, fast):
        self.fast, self.looks = list(fast), {}
        self.slow = {ax: [a for a in slow if a.axes is ax]
                     for ax in fig.axes}
        super().__init__(fig, list(slow) + self.fast)

    def _box(self, ax):
        """ax's pixels, in a saved region's (y down) coordinates."""
        # axes artists are clipped to the axes (spines: +1 px)
        w, h = self.canvas.get_width_height()
        x0, y0, x1, y1 = ax.bbox.extents
        return (max(int(x0) - 3, 0), max(int(h - y1) - 3, 0),
                min(int(x1) + 4, w), min(int(h - y0) + 4, h))

    def refresh(self, ticks=False):
        old = None  # the saved picture to take unchanged axes from
        if ticks or not hasattr(self, "background"):
            old = getattr(self, "middle", None)
            self.canvas.draw()  # everything but slow and fast artists
            self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        else:
            self.canvas.restore_region(self.middle)
        renderer = self.canvas.get_renderer()
        changed = old is not None or not hasattr(self, "middle")
        for ax, arts in self.slow.items():
            looks = [ax.get_xlim(), ax.get_ylim()] + list(map(_look, arts))
            saved = self.looks.get(ax) == looks
            if saved and old is None:
                continue  # already on the canvas
            self.looks[ax], changed = looks, True
            src = old if saved else self.background
            self.canvas.restore_region(src, bbox=self._box(ax), xy=(0, 0))
            if not saved:
                for a in arts:
                    a.draw(renderer)
        if changed:
            self.middle = self.canvas.copy_from_bbox(self.fig.bbox)
        for a in self.fast:
            a.draw(renderer)
        self.image.value = canvas_png(self.canvas)


class PoolingExplorer:
    """Controls, two figures, a readout; `state` holds the numbers shown.

    Controls (`controls` dict, also attributes): input, mode, pool_h,
    pool_w, pad_h, pad_w, stride_h, stride_w (0 = window, PyTorch's
    default), i, j (output cell), shift (px, input moved right > 0).
    """

    def __init__(self, input="edge image 6x8 (6.2)", mode="max",
                 pool_size=(2, 2), padding=(0, 0), stride=(1, 1),
                 i=0, j=0, shift=1, dpi=72):
        import ipywidgets as widgets

        style = {"description_width": "90px"}
        lay = widgets.Layout(width="270px")

        def slider(desc, value, lo, hi):
            return widgets.IntSlider(value=value, min=lo, max=hi,
                                     description=desc, style=style,
                                     layout=lay, continuous_update=True)

        self.controls = dict(
            input=widgets.Dropdown(options=list(INPUTS), value=input,
                                   description="input", style=style,
                                   layout=widgets.Layout(width="340px")),
            mode=widgets.Dropdown(options=["max", "avg"], value=mode,
                                  description="mode",
                                  style={"description_width": "50px"},
                                  layout=widgets.Layout(width="150px")),
            pool_h=slider("window h", pool_size[0], 1, 5),
            pool_w=slider("window w", pool_size[1], 1, 5),
            pad_h=slider("padding h", padding[0], 0, 2),
            pad_w=slider("padding w", padding[1], 0, 2),
            stride_h=slider("stride h", stride[0], 0, 4),
            stride_w=slider("stride w", stride[1], 0, 4),
            i=slider("output row i", i, 0, 30),
            j=slider("output col j", j, 0, 30),
            shift=slider("shift (px)", shift, -3, 3),
        )
        for name, w in self.controls.items():
            setattr(self, name, w)
        self._names = {id(w): name for name, w in self.controls.items()}
        self.readout = widgets.HTML()
        self.fig_top = new_figure((10, 3.4), dpi=dpi)
        self.fig_bottom = new_figure((10, 3.0), dpi=dpi)
        self.panels = PoolingFigure(self.fig_top, self.fig_bottom)
        self.state = None
        self.last_ms = None
        self._X_name, self._X = None, None
        self._busy = False
        self.views = None
        self._compute_and_draw()
        # The window frame on top of the cell numbers: then a window
        # move redraws only the frames and titles (see LayeredView).
        # Ticks under the image, as they lie in the saved background.
        for g in (self.panels.g_in, self.panels.g_out):
            g.rect.set_zorder(3.5)
            g.ax.xaxis.set_zorder(-1)
            g.ax.yaxis.set_zorder(-1)
        self.views = tuple(
            LayeredView(fig, *split_layers(fig, fast)) for fig, fast in zip(
                (self.fig_top, self.fig_bottom), self.panels.fast_artists()))
        self._limits = [_limits(v.fig) for v in self.views]
        for w in self.controls.values():
            w.observe(self._on_change, names="value")
        c = self.controls
        grid = widgets.VBox([
            widgets.HBox([c["input"], c["mode"]]),
            widgets.HBox([c["pool_h"], c["pad_h"], c["stride_h"],
                          c["i"]]),
            widgets.HBox([c["pool_w"], c["pad_w"], c["stride_w"],
                          c["j"]]),
            widgets.HBox([c["shift"],
                          widgets.HTML("<small>stride 0 = window "
                                       "(PyTorch's default)</small>")]),
        ])
        self.ui = widgets.VBox([grid, self.views[0].image,
                                self.views[1].image, self.readout])

    def _input(self):
        name = self.controls["input"].value
        self._note = ""
        if name != self._X_name:
            try:
                X = load_input(name)
            except Exception as e:  # no data folder: say so, keep going
                self._note = (
                    f"<b style='color:#b00'>cannot load {name}: "
                    f"{type(e).__name__}: {html.escape(str(e))}</b><br>")
                if self._X_name is None:  # first input: fall back
                    self._X_name = "edge image 6x8 (6.2)"
                    self._X = load_input(self._X_name)
                self._busy = True
                try:
                    self.controls["input"].value = self._X_name
                finally:
                    self._busy = False
                return self._X
            self._X_name, self._X = name, X
        return self._X

    @one_thread()
    def _compute_and_draw(self, changed=None):
        # i/j only move the window (top figure); shift only the bottom.
        top = changed != "shift"
        bottom = changed not in ("i", "j")
        with Timer() as t:
            c = {k: w.value for k, w in self.controls.items()}
            X = self._input()
            ph, pw = c["pool_h"], c["pool_w"]
            stride = (c["stride_h"] or ph, c["stride_w"] or pw)
            s = pooling_view(X, (ph, pw), c["mode"],
                             (c["pad_h"], c["pad_w"]), stride, c["i"],
                             c["j"], c["shift"])
            s["input"] = self._X_name
            self.state = s
            self._sync_ij(s)
            self.panels.update(s, top=top, bottom=bottom)
            self.readout.value = self._note + readout_html(s)
            if self.views is not None:
                for k, redraw in enumerate((top, bottom)):
                    if redraw:
                        self._refresh(k)
        self.last_ms = t.ms
        self.redrawn = (top, bottom)

    def _refresh(self, k):
        """Re-render figure k (0 top, 1 bottom); ticks if limits moved."""
        limits = _limits(self.views[k].fig)
        new_ticks = limits != self._limits[k]
        self._limits[k] = limits
        self.views[k].refresh(ticks=new_ticks)

    def _sync_ij(self, s):
        """Limit the i/j sliders to the output shape (no re-entry)."""
        if not s["valid"]:
            return
        self._busy = True
        try:
            for name, n, v in (("i", s["Y"].shape[0], s["i"]),
                               ("j", s["Y"].shape[1], s["j"])):
                w = self.controls[name]
                if w.value != v:
                    w.value = v
                w.max = max(n - 1, 0)
        finally:
            self._busy = False

    def _on_change(self, change):
        if not self._busy:
            self._compute_and_draw(self._names[id(change["owner"])])

    def _repr_mimebundle_(self, **kwargs):
        return self.ui._repr_mimebundle_(**kwargs)


def readout_html(s):
    """The explorer's readout: shapes (formula vs PyTorch), value, shift."""
    (H, W), (ph, pw) = tuple(s["X"].shape), s["pool_size"]
    (pad_h, pad_w), (sh, sw) = s["padding"], s["stride"]
    torch_shape = s["out_shape_torch"]
    parts = [f"input {H}x{W}, window {ph}x{pw}, padding ({pad_h}, {pad_w})"
             f", stride ({sh}, {sw})"]
    if s["valid"]:
        h, w = s["out_shape"]
        ok = tuple(torch_shape) == (h, w)
        parts.append(
            f"output shape: formula floor((n - k + 2p + s) / s) = "
            f"<b>{h}x{w}</b> | {s['layer']}: "
            f"<b>{torch_shape[0]}x{torch_shape[1]}</b> "
            + ("&#10003;" if ok else "&#10007; differ"))
        parts.append(f"Y[{s['i']}, {s['j']}] = {s['mode']} of window rows "
                     f"{s['window_rows'][0]}..{s['window_rows'][-1]}, cols "
                     f"{s['window_cols'][0]}..{s['window_cols'][-1]} "
                     f"(padded input) = <b>{s['value']:.4g}</b>")
    else:
        parts.append(f"<b style='color:#b00'>impossible settings: "
                     f"{s['message']}</b>")
        if isinstance(torch_shape, str):
            parts.append(f"{s['layer']} says: "
                         f"<i>{html.escape(torch_shape)}</i>")
    if s["shift_valid"]:
        parts.append(
            f"input shifted {s['shift']} px: conv output changes "
            f"{s['conv_changed']:.0%} of cells (relative L1 "
            f"{s['conv_rel_change']:.2f}), after pooling "
            f"{s['pool_changed']:.0%} (relative L1 "
            f"{s['pool_rel_change']:.2f})")
    else:
        parts.append(f"shift view: {s['shift_message']}")
    return "<br>".join(parts)


def pooling_explorer(**kwargs):
    """Pooling explorer (6.5): window, output shape and shift robustness."""
    return PoolingExplorer(**kwargs)
