"""Receptive-field explorer for sections 6.2.5 and 6.3.

    from helpers.widgets.receptive import receptive_explorer
    ex = receptive_explorer()   # display `ex` in a notebook cell
    ex.preset.value = "custom"; ex.layers.value = "conv k3 s2; conv k3"
    ex.layer.value = 1; ex.state["box"], ex.state["rows"]

Only wiring: parsing and the table come from helpers.plot.receptive,
the box and the gradient map from helpers.receptive, the drawing from
`ReceptiveFigure`.
"""
import torch

from helpers.plot.receptive import (
    ReceptiveFigure, blank_grid, box_text, choose_input_size, parse_layers,
    rf_rows, rf_table_html, specs_to_text,
)
from helpers.env import one_thread
from helpers.receptive import RF_PRESETS, empirical_rf, receptive_box
from helpers.widgets.common import FigureView, Timer, new_figure

CUSTOM = "custom"


class ReceptiveExplorer:
    """Controls + figure + `state` of the receptive-field explorer.

    Controls (attributes, also in `controls`): preset (a name of
    RF_PRESETS or 'custom'), layers (Text such as 'conv k3 s1 p1;
    maxpool k2 s2', used when preset is 'custom'), layer (0-based),
    i, j (unit in that layer's output), gradient (show the map).
    `state` holds specs, input_size, layer, cell, box (r0, r1, c0, c1),
    grad ((H, W) tensor), rows (per-layer RF table), table (HTML),
    output_size and error ('' when all is well).
    """

    def __init__(self, preset="3x3 conv + 2x2 pool", layer=-1, i=0, j=0,
                 image_index=0):
        import ipywidgets as widgets

        self._busy = False
        self.last_ms = None
        self.image_index = image_index
        self._image = None
        self.preset = widgets.Dropdown(
            options=list(RF_PRESETS) + [CUSTOM], value=preset,
            description="stack", layout=widgets.Layout(width="330px"))
        self.layers = widgets.Text(
            value=specs_to_text(RF_PRESETS.get(preset, [])),
            description="layers", continuous_update=False,
            placeholder="conv k3 s1 p1; maxpool k2 s2",
            layout=widgets.Layout(width="520px"))
        self.layer = widgets.IntSlider(value=0, min=0, max=0,
                                       description="layer")
        self.i = widgets.IntSlider(value=i, min=0, max=0,
                                   description="unit row i")
        self.j = widgets.IntSlider(value=j, min=0, max=0,
                                   description="unit col j")
        self.gradient = widgets.Checkbox(value=True,
                                         description="gradient map")
        self.readout = widgets.HTML()
        self.controls = {"preset": self.preset, "layers": self.layers,
                         "layer": self.layer, "i": self.i, "j": self.j,
                         "gradient": self.gradient}
        self.state = {}

        fig = new_figure((7.0, 3.7), dpi=72)
        # A fixed layout renders faster than "constrained"; None (not
        # "none") also spares savefig its extra layout draw.
        fig.set_layout_engine(None)
        fig.subplots_adjust(left=0.05, right=0.98, top=0.86, bottom=0.07,
                            wspace=0.15)
        self.artists = ReceptiveFigure(*fig.subplots(1, 2))
        self._compute(layer)
        self._draw()
        self.view = FigureView(fig)
        self._show_readout()

        self.preset.observe(self._on_preset, names="value")
        for name in ("layers", "layer", "i", "j", "gradient"):
            self.controls[name].observe(self._on_change, names="value")
        self.box = widgets.VBox([
            widgets.HBox([self.preset, self.gradient]), self.layers,
            widgets.HBox([self.layer, self.i, self.j]),
            self.view.image, self.readout])

    # -- wiring -------------------------------------------------------
    def _on_preset(self, change):
        if self._busy:
            return
        if change["new"] != CUSTOM:
            self._busy = True
            try:
                self.layers.value = specs_to_text(RF_PRESETS[change["new"]])
            finally:
                self._busy = False
        self.update()

    def _on_change(self, change):
        if self._busy:
            return
        if change["owner"] is self.layers and self.preset.value != CUSTOM:
            self._busy = True  # an edited stack is a custom one
            self.preset.value = CUSTOM
            self._busy = False
        self.update()

    def _specs(self):
        if self.preset.value != CUSTOM:
            return list(RF_PRESETS[self.preset.value])
        return parse_layers(self.layers.value)

    def _input(self, size):
        """(image, note): a Fashion-MNIST test image for 28x28, else blank."""
        if size != (28, 28):
            h, w = size
            return blank_grid(size), (f"(blank {h}x{w} grid: the stack "
                                      "needs more than 28x28)")
        if self._image is None:
            try:
                from helpers.data import fashion_mnist_image
                self._image = fashion_mnist_image(self.image_index)[0], ""
            except Exception as e:  # no data: fall back, say so
                self._image = (blank_grid(size),
                               f"(no Fashion-MNIST image: {e})")
        return self._image

    def _set_sliders(self, n_layers, layer, out, i, j):
        self._busy = True
        try:
            for slider, value, top in ((self.layer, layer, n_layers - 1),
                                       (self.i, i, out[0] - 1),
                                       (self.j, j, out[1] - 1)):
                # Raise the maximum first so the value is never clamped.
                slider.max = max(slider.max, top)
                slider.value = value
                slider.max = top
        finally:
            self._busy = False

    def _compute(self, layer=None):
        """Fill `state` from the controls; False (and error) if impossible."""
        try:
            specs = self._specs()
            size = choose_input_size(specs)
            rows = rf_rows(specs, size)
        except ValueError as e:
            self.state = dict(self.state, error=str(e))
            return False
        if layer is None:
            layer = self.layer.value
        layer = layer % len(specs) if layer < 0 else min(layer,
                                                         len(specs) - 1)
        out = rows[layer]["output"]
        i, j = min(self.i.value, out[0] - 1), min(self.j.value, out[1] - 1)
        self._set_sliders(len(specs), layer, out, i, j)
        with one_thread():
            box = receptive_box(specs, layer, i, j, size)
            grad = empirical_rf(specs, layer, i, j, size)
        self.state = dict(
            specs=specs, input_size=size, layer=layer, cell=(i, j), box=box,
            grad=grad, rows=rows, table=rf_table_html(rows, layer),
            output_size=out, error="")
        return True

    def _draw(self):
        s = self.state
        image, self._note = self._input(s["input_size"])
        row = s["rows"][s["layer"]]
        h, w = s["input_size"]
        title = (f"input {h}x{w}: RF of unit {s['cell']}\n"
                 f"{box_text(s['box'])}")
        self.artists.update(
            image, s["grad"] if self.gradient.value else None, s["box"],
            title, s["output_size"], s["cell"],
            f"layer {s['layer']} output "
            f"{row['output'][0]}x{row['output'][1]}\n{row['name']}")

    def update(self):
        """Recompute, redraw the figure in place (never raises)."""
        with Timer() as t:
            try:
                if self._compute():
                    self._draw()
                    self.view.refresh()
            except Exception as e:  # keep the widget alive, say what broke
                self.state = dict(self.state, error=f"internal error: {e}")
        self.last_ms = self.view.last_ms = t.ms
        self._show_readout()

    def _show_readout(self):
        s = self.state
        ms = "" if self.last_ms is None else \
            f" <span style='color:#888'>(update {self.last_ms:.0f} ms)</span>"
        if s.get("error"):
            self.readout.value = (f"<b style='color:#b00'>{s['error']}</b>"
                                  f"{ms}<br>(showing the last valid stack)")
            return
        size = s["rows"][s["layer"]]["size"]
        self.readout.value = (
            f"unit {s['cell']} of layer {s['layer']} sees input "
            f"{box_text(s['box'])} (dashed box; RF size "
            f"{size[0]}&times;{size[1]}, clipped to the image); red: "
            f"|&part;unit/&part;input| {self._note}{ms}<br>{s['table']}")

    def _repr_mimebundle_(self, **kwargs):
        return self.box._repr_mimebundle_(**kwargs)


def receptive_explorer(preset="3x3 conv + 2x2 pool", layer=-1, i=0, j=0,
                       image_index=0):
    """Pick a layer and a unit; see its receptive field (6.2.5, 6.3)."""
    return ReceptiveExplorer(preset, layer, i, j, image_index)
