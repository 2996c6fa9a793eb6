"""Receptive fields drawn on the input image (6.2.5, 6.3).

Pure helpers (`parse_layers`, `choose_input_size`, `rf_rows`) feed the
receptive-field explorer; `plot_receptive_field(...)` draws one unit's
analytic box (helpers.receptive.receptive_box) over its empirical
gradient map (helpers.receptive.empirical_rf).
"""
import re
from html import escape

import numpy as np
import torch
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle
from matplotlib.collections import LineCollection

from helpers.receptive import (
    LayerSpec, empirical_rf, layer_output_sizes, layer_specs,
    receptive_box, receptive_field,
)

KIND_ALIASES = {"conv": "conv", "maxpool": "maxpool", "pool": "maxpool",
                "max": "maxpool", "avgpool": "avgpool", "avg": "avgpool"}
LIMITS = {"k": 15, "s": 8, "p": 10, "d": 8}   # keep the images small
MAX_LAYERS = 8
INPUT_SIZES = (28, 32, 48, 64, 96, 128)
LAYERS_EXAMPLE = "conv k3 s1 p1; maxpool k2 s2"
OPTION = re.compile(r"^([kspd])=?(\d+)(?:x(\d+))?$")


def _layer_name(kind, k, s, p, d):
    """Short label such as 'conv 3x3 s2 p1'."""
    def fmt(v):
        return f"{v[0]}" if v[0] == v[1] else f"{v[0]}x{v[1]}"
    name = f"{kind} {k[0]}x{k[1]}"
    for tag, v, default in (("s", s, (1, 1) if kind == "conv" else k),
                            ("p", p, (0, 0)), ("d", d, (1, 1))):
        if v != default:
            name += f" {tag}{fmt(v)}"
    return name


def _parse_one(number, text):
    """One LayerSpec from 'conv k3 s1 p1' (layer `number`, 1-based)."""
    where = f"layer {number} ({text.strip()!r})"
    words = text.lower().replace(",", " ").split()
    kind = KIND_ALIASES.get(words[0])
    if kind is None:
        raise ValueError(f"{where}: unknown layer kind {words[0]!r}; start "
                         "each layer with conv, maxpool or avgpool")
    opts = {}
    for word in words[1:]:
        m = OPTION.match(word)
        if m is None:
            raise ValueError(
                f"{where}: cannot read {word!r}; write options as k3 (or "
                "k3x5) for the kernel, s2 stride, p1 padding, d2 dilation")
        tag, h, w = m.group(1), int(m.group(2)), m.group(3)
        value = (h, int(w) if w is not None else h)
        low = 0 if tag == "p" else 1
        if min(value) < low or max(value) > LIMITS[tag]:
            raise ValueError(f"{where}: {tag} must lie in {low}.."
                             f"{LIMITS[tag]} here, got {word!r}")
        if tag in opts:
            raise ValueError(f"{where}: {tag} is given twice")
        opts[tag] = value
    if "k" not in opts:
        raise ValueError(f"{where}: the kernel size is missing; add e.g. "
                         "k3 (or k3x5)")
    k = opts["k"]
    # Pooling strides default to the window, as in nn.MaxPool2d.
    s = opts.get("s", (1, 1) if kind == "conv" else k)
    p, d = opts.get("p", (0, 0)), opts.get("d", (1, 1))
    try:
        return LayerSpec(kind, k, s, p, d,
                         name=f"{number}: {_layer_name(kind, k, s, p, d)}")
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def parse_layers(text):
    """LayerSpecs from text like 'conv k3 s1 p1; maxpool k2 s2' (6.3).

    Layers are separated by ';' or new lines; options k (kernel, k3 or
    k3x5), s (stride), p (padding per side), d (dilation). Pooling
    strides default to the pooling window. Raises ValueError naming the
    layer and the fix.
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    parts = [part for part in re.split(r"[;\n]", text) if part.strip()]
    if not parts:
        raise ValueError(f"no layers given; write e.g. {LAYERS_EXAMPLE!r}")
    if len(parts) > MAX_LAYERS:
        raise ValueError(f"at most {MAX_LAYERS} layers, got {len(parts)}")
    return [_parse_one(n, part) for n, part in enumerate(parts, 1)]


def specs_to_text(specs):
    """The text form of a list of LayerSpec (inverse of parse_layers)."""
    def fmt(v):
        return f"{v[0]}" if v[0] == v[1] else f"{v[0]}x{v[1]}"
    layers = []
    for spec in layer_specs(specs):
        words = [spec.kind, "k" + fmt(spec.kernel_size),
                 "s" + fmt(spec.stride)]
        if spec.padding != (0, 0):
            words.append("p" + fmt(spec.padding))
        if spec.dilation != (1, 1):
            words.append("d" + fmt(spec.dilation))
        layers.append(" ".join(words))
    return "; ".join(layers)


def choose_input_size(specs, sizes=INPUT_SIZES):
    """Smallest square input (28 first) on which every layer has output.

    Raises ValueError when even the largest size is too small.
    """
    for n in sizes:
        try:
            layer_output_sizes(specs, n)
        except ValueError:
            continue
        return (n, n)
    raise ValueError(f"this stack needs an input larger than "
                     f"{sizes[-1]}x{sizes[-1]}: use smaller kernels, "
                     "strides or fewer layers")


def rf_rows(specs, input_size):
    """One dict per layer: name, output size, RF size, jump, start."""
    infos = receptive_field(specs)
    outs = layer_output_sizes(specs, input_size)
    return [dict(layer=n, name=info.name, output=out, size=info.size,
                 jump=info.jump, start=info.start)
            for n, (info, out) in enumerate(zip(infos, outs))]


def rf_table_html(rows, selected=None):
    """The rows of `rf_rows` as a small HTML table (selected in bold)."""
    def pair(v):
        v = tuple(int(x) if float(x).is_integer() else x for x in v)
        return f"{v[0]}&times;{v[1]}" if v[0] != v[1] else f"{v[0]}"
    head = ("<tr><th>layer</th><th>name</th><th>output</th><th>RF size"
            "</th><th>jump</th><th>start</th></tr>")
    body = []
    for r in rows:
        style = " style='background:#fdd0a2;font-weight:bold'" \
            if r["layer"] == selected else ""
        start = tuple(round(float(x), 1) for x in r["start"])
        body.append(
            f"<tr{style}><td>{r['layer']}</td><td>{escape(r['name'])}</td>"
            f"<td>{r['output'][0]}&times;{r['output'][1]}</td>"
            f"<td>{pair(r['size'])}</td><td>{pair(r['jump'])}</td>"
            f"<td>({start[0]:g}, {start[1]:g})</td></tr>")
    return ("<table style='border-collapse:collapse;font-size:12px' "
            "border='1' cellpadding='3'>" + head + "".join(body)
            + "</table>")


def box_text(box):
    """'rows 0..3, cols 2..5' for a half-open box (or says it is empty)."""
    r0, r1, c0, c1 = box
    if r0 == r1 or c0 == c1:
        return "only padding: no input pixel"
    return f"rows {r0}..{r1 - 1}, cols {c0}..{c1 - 1}"


def gradient_rgba(grad):
    """(H, W, 4) red overlay whose opacity follows |gradient|."""
    g = np.asarray(grad, dtype=float)
    top = g.max() if g.size else 0.0
    rgba = np.zeros(g.shape + (4,))
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = 0.86, 0.1, 0.1
    if top > 0:
        # sqrt: the weak edges of the field stay visible
        rgba[..., 3] = np.where(g > 0, 0.25 + 0.55 * np.sqrt(g / top), 0.0)
    return rgba


def _grid_segments(h, w):
    segs = [[(-0.5, r - 0.5), (w - 0.5, r - 0.5)] for r in range(h + 1)]
    segs += [[(c - 0.5, -0.5), (c - 0.5, h - 0.5)] for c in range(w + 1)]
    return segs


class ReceptiveFigure:
    """Input panel (image, gradient, box) and optional feature-map panel."""

    def __init__(self, ax_in, ax_out=None):
        self.ax_in, self.ax_out = ax_in, ax_out
        self.im = ax_in.imshow(np.zeros((2, 2)), cmap="gray_r", vmin=0,
                               vmax=1, interpolation="nearest")
        self.grad = ax_in.imshow(np.zeros((2, 2, 4)),
                                 interpolation="nearest")
        self.box = ax_in.add_patch(Rectangle(
            (0, 0), 1, 1, fill=False, edgecolor="#08519c", linewidth=2.0,
            linestyle="--", zorder=4))
        ax_in.set_xlabel("input column")
        ax_in.set_ylabel("input row")
        if ax_out is not None:
            self.fmap = ax_out.imshow(
                np.zeros((1, 1)), vmin=0, vmax=1, interpolation="nearest",
                cmap=ListedColormap(["#deebf7", "#fd8d3c"]))
            self.fgrid = ax_out.add_collection(
                LineCollection([], colors="#6b6b6b", linewidths=0.5))
            ax_out.set_xlabel("column j")
            ax_out.set_ylabel("row i")
        for ax in (ax_in, ax_out):
            if ax is not None:
                ax.set_xticks([])
                ax.set_yticks([])
        self._sizes = (None, None)

    def update(self, image, grad, box, title, fmap_shape=None, cell=None,
               fmap_title=""):
        """Show image (H, W), |grad| (H, W) or None, box (r0, r1, c0, c1)."""
        H, W = image.shape
        self.im.set_data(np.asarray(image, dtype=float))
        self.im.set_extent((-0.5, W - 0.5, H - 0.5, -0.5))
        self.grad.set_visible(grad is not None)
        if grad is not None:
            self.grad.set_data(gradient_rgba(grad))
            self.grad.set_extent((-0.5, W - 0.5, H - 0.5, -0.5))
        if self._sizes[0] != (H, W):
            self.ax_in.set_xlim(-0.5, W - 0.5)
            self.ax_in.set_ylim(H - 0.5, -0.5)
        r0, r1, c0, c1 = box
        self.box.set_xy((c0 - 0.5, r0 - 0.5))
        self.box.set_width(c1 - c0)
        self.box.set_height(r1 - r0)
        self.ax_in.set_title(title, fontsize=10)
        if self.ax_out is not None and fmap_shape is not None:
            h, w = fmap_shape
            data = np.zeros((h, w))
            data[cell] = 1
            self.fmap.set_data(data)
            self.fmap.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
            if self._sizes[1] != (h, w):
                self.fgrid.set_segments(_grid_segments(h, w))
                self.ax_out.set_xlim(-0.5, w - 0.5)
                self.ax_out.set_ylim(h - 0.5, -0.5)
            self.ax_out.set_title(fmap_title, fontsize=10)
        self._sizes = ((H, W), fmap_shape)


def blank_grid(input_size):
    """A light checkerboard: shows the pixel grid of a blank input."""
    h, w = input_size
    rows, cols = torch.meshgrid(torch.arange(h), torch.arange(w),
                                indexing="ij")
    return ((rows + cols) % 2).float() * 0.08


def plot_receptive_field(specs, layer, i, j, image=None, ax=None):
    """Draw unit (i, j) of `layer`'s receptive field on the input (6.2.5).

    specs: list of LayerSpec, a preset name or an nn.Module; layer is
    0-based. image: (H, W) tensor, else a blank grid of
    choose_input_size(specs). The dashed box is receptive_box, the red
    overlay |gradient| from empirical_rf. Returns the Axes.
    """
    specs = layer_specs(specs)
    if image is None:
        image = blank_grid(choose_input_size(specs))
    image = torch.as_tensor(image)
    if image.dim() != 2:
        raise ValueError(f"image must be 2-D (H, W), got shape "
                         f"{tuple(image.shape)}")
    size = tuple(image.shape)
    box = receptive_box(specs, layer, i, j, size)
    grad = empirical_rf(specs, layer, i, j, size)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(4.2, 4.2), dpi=80,
                             layout="constrained")
    art = ReceptiveFigure(ax)
    art.im.set_clim(min(0.0, float(image.min())),
                    max(1.0, float(image.max())))
    name = specs[layer % len(specs)].name
    art.update(image, grad, box,
               f"RF of unit ({i}, {j}) after {name}\n{box_text(box)}")
    return ax
