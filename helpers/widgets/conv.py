"""Kernel explorer for section 6.2: slide a kernel over an image.

    from helpers.widgets.conv import kernel_explorer
    ex = kernel_explorer()      # display `ex` in a notebook cell
    ex.i.value = 2              # tests drive the controls ...
    ex.state["sum"]             # ... and read what the figure shows

Only wiring: the numbers come from `helpers.plot.conv.explorer_state`
(which calls helpers.conv), the drawing from `KernelExplorerArtists`.
"""
import torch

from helpers.plot.conv import (
    EXPLORER_INPUTS, KERNEL_PRESETS, KernelExplorerArtists, explorer_input,
    explorer_state, kernel_preset,
)
from helpers.env import one_thread
from helpers.widgets.common import FigureView, Timer, new_figure

CUSTOM = "custom"


class KernelExplorer:
    """Controls + figure + `state` of the kernel explorer (6.2.1).

    Controls (attributes, also in `controls`): input, preset, k (nine
    FloatText boxes, row-major 3 x 3), i, j (output position).
    `state` holds X, K, i, j, rows, cols, patch, products, sum, output,
    output_shape and message ('' when all is well).
    """

    def __init__(self, input_name="chapter 6x8", preset="chapter [1, -1]",
                 i=0, j=1):
        import ipywidgets as widgets

        self._busy = False
        self._inputs = {}
        self.last_ms = None
        self.input = widgets.Dropdown(options=EXPLORER_INPUTS,
                                      value=input_name, description="input")
        self.preset = widgets.Dropdown(
            options=list(KERNEL_PRESETS) + [CUSTOM], value=preset,
            description="kernel")
        self.k = [widgets.FloatText(value=0.0, step=0.1,
                                    layout=widgets.Layout(width="64px"))
                  for _ in range(9)]
        self.i = widgets.IntSlider(value=0, min=0, max=0, description="row i")
        self.j = widgets.IntSlider(value=0, min=0, max=0, description="col j")
        self.readout = widgets.HTML()
        self.controls = {"input": self.input, "preset": self.preset,
                         "k": self.k, "i": self.i, "j": self.j}
        self.X = self._load(input_name)
        if preset != CUSTOM:
            self._fill_boxes(kernel_preset(preset))
        self.state = dict(explorer_state(self.X, self._kernel(), i, j),
                          message="")
        self._set_sliders(self.state)

        fig = new_figure((10.0, 2.5), dpi=72)
        self.artists = KernelExplorerArtists(fig.subplots(1, 4), self.state,
                                             details=False)
        self.view = FigureView(fig)  # freezes the first layout
        self._show_readout()

        self.input.observe(self._on_input, names="value")
        self.preset.observe(self._on_preset, names="value")
        for box in self.k:
            box.observe(self._on_box, names="value")
        self.i.observe(self._on_position, names="value")
        self.j.observe(self._on_position, names="value")
        grid = widgets.GridBox(
            self.k, layout=widgets.Layout(
                grid_template_columns="repeat(3, 68px)"))
        self.box = widgets.VBox([
            widgets.HBox([self.input, self.preset]),
            widgets.HBox([widgets.Label("custom 3x3 K:"), grid,
                          widgets.VBox([self.i, self.j])]),
            self.view.image, self.readout])

    # -- wiring -------------------------------------------------------
    def _load(self, name):
        if name not in self._inputs:
            self._inputs[name] = explorer_input(name)
        return self._inputs[name]

    def _kernel(self):
        if self.preset.value == CUSTOM:
            vals = [float(b.value) for b in self.k]
            return torch.tensor(vals, dtype=torch.float32).reshape(3, 3)
        return kernel_preset(self.preset.value)

    def _fill_boxes(self, K):
        """Show K in the 3 x 3 boxes (a 1 x 2 kernel fills the top row)."""
        self._busy = True
        try:
            for n, box in enumerate(self.k):
                r, c = divmod(n, 3)
                inside = r < K.shape[0] and c < K.shape[1]
                box.value = round(float(K[r, c]), 4) if inside else 0.0
        finally:
            self._busy = False

    def _set_sliders(self, state):
        self._busy = True
        try:
            h, w = state["output_shape"]
            self.i.max, self.j.max = h - 1, w - 1
            self.i.value, self.j.value = state["i"], state["j"]
        finally:
            self._busy = False

    def _on_input(self, change):
        try:
            self.X = self._load(change["new"])
        except Exception as e:  # e.g. Fashion-MNIST missing: say so
            self._fail(e)
            return
        self.update()

    def _on_preset(self, change):
        if self._busy:
            return
        if change["new"] != CUSTOM:
            self._fill_boxes(kernel_preset(change["new"]))
        self.update()

    def _on_box(self, change):
        if self._busy:
            return
        if self.preset.value != CUSTOM:
            self._busy = True
            self.preset.value = CUSTOM
            self._busy = False
        self.update()

    def _on_position(self, change):
        if not self._busy:
            self.update()

    def _fail(self, e):
        self.state = dict(self.state, message=str(e))
        self.readout.value = f"<b style='color:#b00'>{e}</b>"

    @one_thread()
    def update(self):
        """Recompute the state, redraw the figure in place (never raises)."""
        with Timer() as t:
            try:
                state = explorer_state(self.X, self._kernel(),
                                       self.i.value, self.j.value)
            except Exception as e:
                self._fail(e)
                return
            state["message"] = ""
            self.state = state
            self._set_sliders(state)
            self.artists.update(state)
            self.view.refresh()
        self.last_ms = self.view.last_ms = t.ms
        self._show_readout()

    def _show_readout(self):
        s = self.state
        (h, w), (kh, kw) = tuple(s["X"].shape), tuple(s["K"].shape)
        terms = " + ".join(f"{float(x):.2g}&times;{float(k):.2g}"
                           for x, k in zip(s["patch"].flatten(),
                                           s["K"].flatten()))
        if len(terms) > 240:
            terms = terms[:240] + " ..."
        ms = "" if self.last_ms is None else f" | update {self.last_ms:.0f} ms"
        self.readout.value = (
            f"Y[{s['i']}, {s['j']}] = {terms} = <b>{s['sum']:.4g}</b><br>"
            f"output shape ({h} - {kh} + 1, {w} - {kw} + 1) = "
            f"<b>{s['output_shape']}</b>{ms}")

    def _repr_mimebundle_(self, **kwargs):
        return self.box._repr_mimebundle_(**kwargs)


def kernel_explorer(input_name="chapter 6x8", preset="chapter [1, -1]",
                    i=0, j=1):
    """Slide a kernel over an input; see products, sum and output (6.2)."""
    return KernelExplorer(input_name, preset, i, j)
