"""Padding/stride explorer for section 6.3.

    from helpers.widgets.padding import padding_explorer
    ex = padding_explorer()     # display `ex` in a notebook cell
    ex.stride_h.value = 2       # tests drive the controls ...
    ex.state["output_formula"], ex.state["output_torch"]

Only wiring: the geometry comes from `helpers.plot.padding.padding_layout`
(which calls helpers.conv.conv_output_shape), the check from a real
nn.Conv2d (`nn_output_shape`), the drawing from `PaddingFigure`.
"""
from helpers.plot.padding import INPUT_COLORS, PaddingFigure, \
    nn_output_shape, padding_layout
from helpers.env import one_thread
from helpers.widgets.common import FigureView, Timer, new_figure

PER_SIDE = "per side (nn.Conv2d)"
TOTAL = "total (chapter p_h, p_w)"
SLIDERS = (  # name, description, min, max
    ("input_h", "n_h", 1, 12), ("input_w", "n_w", 1, 12),
    ("kernel_h", "k_h", 1, 7), ("kernel_w", "k_w", 1, 7),
    ("padding_h", "pad h", 0, 4), ("padding_w", "pad w", 0, 4),
    ("stride_h", "s_h", 1, 4), ("stride_w", "s_w", 1, 4),
    ("dilation", "dilation", 1, 3),
)




def _legend_html():
    """Colour key of the input panel (cheaper as HTML than in the PNG)."""
    names = ("padding", "input", "window", "window on padding")
    keys = [f"<span style='background:{c};border:1px solid #888;"
            f"padding:0 7px'></span>&nbsp;{n}"
            for c, n in zip(INPUT_COLORS, names)]
    keys.append("&#9679; window top-left corners")
    keys.append("<span style='color:#d62728'>&#9633;</span> selected window")
    return "&emsp;".join(keys)


LEGEND = _legend_html()


class PaddingExplorer:
    """Controls + figure + `state` of the padding/stride explorer (6.3).

    Controls (attributes, also in `controls`): input_h, input_w,
    kernel_h, kernel_w, padding_h, padding_w, stride_h, stride_w,
    dilation (IntSliders), convention (per side / total padding),
    i, j (selected output cell). `state` holds layout, output_formula
    and output_torch ((h, w) or None), error ('' when possible), cell.
    """

    def __init__(self, input_size=(5, 5), kernel_size=(3, 3),
                 padding=(1, 1), stride=(1, 1), dilation=1, total=False):
        import ipywidgets as widgets

        self._busy = False
        self.last_ms = None
        start = dict(input_h=input_size[0], input_w=input_size[1],
                     kernel_h=kernel_size[0], kernel_w=kernel_size[1],
                     padding_h=padding[0], padding_w=padding[1],
                     stride_h=stride[0], stride_w=stride[1],
                     dilation=dilation)
        self.controls = {}
        for name, desc, low, high in SLIDERS:
            slider = widgets.IntSlider(
                value=start[name], min=low, max=high, description=desc,
                continuous_update=False,
                layout=widgets.Layout(width="240px"))
            setattr(self, name, slider)
            self.controls[name] = slider
        self.convention = widgets.ToggleButtons(
            options=[PER_SIDE, TOTAL], value=TOTAL if total else PER_SIDE,
            description="padding", style={"button_width": "auto"})
        self.i = widgets.IntSlider(value=0, min=0, max=0,
                                   description="out row i")
        self.j = widgets.IntSlider(value=0, min=0, max=0,
                                   description="out col j")
        self.controls.update(convention=self.convention, i=self.i, j=self.j)
        self.readout = widgets.HTML()

        fig = new_figure((7.2, 3.6), dpi=72)
        # A fixed layout renders faster than "constrained"; None (not
        # "none") also spares savefig its extra layout draw. No legend in
        # the PNG (text is slow to render): the readout shows it as HTML.
        fig.set_layout_engine(None)
        fig.subplots_adjust(left=0.05, right=0.98, top=0.86, bottom=0.07,
                            wspace=0.15)
        self.artists = PaddingFigure(*fig.subplots(1, 2), legend=False)
        self._compute()
        self.artists.update(self.state["layout"], *self.state["cell"])
        self.view = FigureView(fig)
        self._show_readout()

        for widget in self.controls.values():
            widget.observe(self._on_change, names="value")
        pairs = [widgets.VBox([getattr(self, a), getattr(self, b)])
                 for a, b in (("input_h", "input_w"),
                              ("kernel_h", "kernel_w"),
                              ("padding_h", "padding_w"),
                              ("stride_h", "stride_w"))]
        self.box = widgets.VBox([
            widgets.HBox(pairs[:2]), widgets.HBox(pairs[2:]),
            widgets.HBox([self.dilation, self.convention]),
            widgets.HBox([self.i, self.j]),
            self.view.image, self.readout])

    # -- wiring -------------------------------------------------------
    def _on_change(self, change):
        if not self._busy:
            self.update()

    def _compute(self):
        """Fill `state` from the controls (never raises)."""
        c = {name: w.value for name, w in self.controls.items()}
        total = c["convention"] == TOTAL
        try:
            layout = padding_layout(
                (c["input_h"], c["input_w"]), (c["kernel_h"], c["kernel_w"]),
                (c["padding_h"], c["padding_w"]),
                (c["stride_h"], c["stride_w"]), c["dilation"], total)
        except ValueError as e:  # only reachable with hand-set values
            self.state = dict(getattr(self, "state", {}), error=str(e),
                              output_formula=None, output_torch=None)
            return False
        torch_shape = nn_output_shape(layout)
        out = layout.output_shape
        error = layout.error or ""
        if isinstance(torch_shape, str):
            error = error or torch_shape
            torch_shape = None
        i, j = 0, 0
        if out is not None:
            i, j = min(self.i.value, out[0] - 1), min(self.j.value, out[1] - 1)
        self._set_cell_sliders(out, i, j)
        self.state = dict(layout=layout, output_formula=out,
                          output_torch=torch_shape, error=error, cell=(i, j),
                          total=total)
        return True

    def _set_cell_sliders(self, out, i, j):
        self._busy = True
        try:
            h, w = out if out is not None else (1, 1)
            # Lower values before maxima so the sliders never clamp twice.
            self.i.value, self.j.value = i, j
            self.i.max, self.j.max = h - 1, w - 1
            self.i.disabled = self.j.disabled = out is None
        finally:
            self._busy = False

    @one_thread()
    def update(self):
        """Recompute, redraw the figure in place (never raises)."""
        with Timer() as t:
            try:
                if self._compute():
                    self.artists.update(self.state["layout"],
                                        *self.state["cell"])
                    self.view.refresh()
            except Exception as e:  # keep the widget alive, say what broke
                self.state = dict(self.state, error=f"internal error: {e}")
        self.last_ms = self.view.last_ms = t.ms
        self._show_readout()

    def _show_readout(self):
        s = self.state
        ms = "" if self.last_ms is None else \
            f" <span style='color:#888'>(update {self.last_ms:.0f} ms)</span>"
        if s.get("output_formula") is None:
            self.readout.value = (f"{LEGEND}<br><b style='color:#b00'>"
                                  f"{s['error']}</b>{ms}")
            return
        lay = s["layout"]
        (n_h, n_w), (k_h, k_w) = lay.input_size, lay.kernel_size
        (p_h, p_w), (s_h, s_w) = lay.total_padding, lay.stride
        (e_h, e_w), d = lay.kernel_extent, lay.dilation[0]
        top, bottom, left, right = lay.pads
        kh = f"{k_h}" if d == 1 else f"{e_h}"
        kw = f"{k_w}" if d == 1 else f"{e_w}"
        dil = "" if d == 1 else (
            f" (dilation {d}: the kernel spans d&middot;(k&minus;1)+1 = "
            f"{e_h}&times;{e_w} cells)")
        if s["total"]:
            pad = f"F.pad(x, ({left}, {right}, {top}, {bottom}))"
            torch_call = (f"nn.Conv2d(1, 1, ({k_h}, {k_w}), stride=({s_h}, "
                          f"{s_w}), dilation={d})({pad})")
        else:
            torch_call = (f"nn.Conv2d(1, 1, ({k_h}, {k_w}), padding=({top}, "
                          f"{left}), stride=({s_h}, {s_w}), dilation={d})(x)")
        o_h, o_w = s["output_formula"]
        agree = "agree &#10003;" if s["output_formula"] == s["output_torch"] \
            else "<b style='color:#b00'>disagree</b>"
        self.readout.value = (
            f"{LEGEND}<br>total padding p_h = {p_h}, p_w = {p_w}{dil}<br>"
            f"formula &lfloor;(n&minus;k+p+s)/s&rfloor;: "
            f"&lfloor;({n_h}&minus;{kh}+{p_h}+{s_h})/{s_h}&rfloor; &times; "
            f"&lfloor;({n_w}&minus;{kw}+{p_w}+{s_w})/{s_w}&rfloor; = "
            f"<b>{o_h}&times;{o_w}</b><br>"
            f"<code>{torch_call}</code>.shape[-2:] = "
            f"<b>{s['output_torch']}</b> &mdash; {agree}{ms}")

    def _repr_mimebundle_(self, **kwargs):
        return self.box._repr_mimebundle_(**kwargs)


def padding_explorer(input_size=(5, 5), kernel_size=(3, 3), padding=(1, 1),
                     stride=(1, 1), dilation=1, total=False):
    """Explore padding, stride and dilation on a small input (6.3)."""
    return PaddingExplorer(input_size, kernel_size, padding, stride,
                           dilation, total)
