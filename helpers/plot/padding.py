"""Padding and stride (6.3): where the windows sit on the padded input.

`padding_layout(...)` is the pure computation behind the figure and the
padding/stride explorer; `plot_padding(...)` draws it. Run a quick look:
`plot_padding(5, 3, padding=1, stride=2)` in a notebook cell.
"""
import math
import textwrap
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch, Rectangle
from torch import nn
from torch.nn import functional as F

from helpers.conv import conv_output_shape
from helpers.env import one_thread

# Cell codes of the input panel: padding, input, window tap on the input,
# window tap on a padding cell.
INPUT_COLORS = ("#bdbdbd", "#f7fbff", "#fd8d3c", "#a63603")
OUTPUT_COLORS = ("#deebf7", "#fd8d3c")


def _pair(x, name):
    """(h, w) from an int or a pair of ints."""
    if isinstance(x, (tuple, list, torch.Size)):
        if len(x) != 2:
            raise ValueError(f"{name} must be an int or a pair (h, w), "
                             f"got {x!r}")
        h, w = x
    else:
        h = w = x
    for v in (h, w):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"{name} must hold ints, got {x!r}")
    return int(h), int(w)


@dataclass
class PaddingLayout:
    """Geometry of one conv layer on one input (6.3).

    pads is (top, bottom, left, right); output_shape is None and error
    says why when the setting is impossible.
    """
    input_size: tuple
    kernel_size: tuple
    stride: tuple
    dilation: tuple
    pads: tuple
    total: bool
    padded_size: tuple
    kernel_extent: tuple
    output_shape: tuple = None
    error: str = None

    @property
    def total_padding(self):
        """The chapter's p_h, p_w: rows/cols added on both sides together."""
        top, bottom, left, right = self.pads
        return top + bottom, left + right

    def window(self, i, j):
        """Padded-input rows and cols read by output cell (i, j)."""
        (k_h, k_w), (s_h, s_w) = self.kernel_size, self.stride
        d_h, d_w = self.dilation
        rows = [i * s_h + a * d_h for a in range(k_h)]
        cols = [j * s_w + b * d_w for b in range(k_w)]
        return rows, cols

    def corners(self):
        """(row, col) of every window's top-left cell in the padded input."""
        if self.output_shape is None:
            return []
        (o_h, o_w), (s_h, s_w) = self.output_shape, self.stride
        return [(i * s_h, j * s_w) for i in range(o_h) for j in range(o_w)]


def split_padding(p, total):
    """(before, after) for one dimension: per side, or the chapter's split.

    With a total padding p the chapter adds ceil(p/2) on top (left) and
    floor(p/2) at the bottom (right) (6.3.1).
    """
    if total:
        return math.ceil(p / 2), p // 2
    return p, p


def padding_layout(input_size, kernel_size, padding=0, stride=1,
                   dilation=1, total=False):
    """Compute where the windows of a conv layer fall (6.3).

    padding is per side (nn.Conv2d's convention) unless total=True, when
    it is the chapter's total p_h, p_w. An impossible setting gives a
    layout with output_shape None and an `error` message (no exception).
    """
    n = _pair(input_size, "input_size")
    k = _pair(kernel_size, "kernel_size")
    p = _pair(padding, "padding")
    s = _pair(stride, "stride")
    d = _pair(dilation, "dilation")
    checks = (("input_size", n, 1), ("kernel_size", k, 1),
              ("padding", p, 0), ("stride", s, 1), ("dilation", d, 1))
    for name, val, low in checks:
        if min(val) < low:
            raise ValueError(f"{name} must be >= {low}, got {val}")
    top, bottom = split_padding(p[0], total)
    left, right = split_padding(p[1], total)
    padded = (n[0] + top + bottom, n[1] + left + right)
    extent = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    layout = PaddingLayout(n, k, s, d, (top, bottom, left, right), total,
                           padded, extent)
    too_big = [(dim, e, q) for dim, e, q in zip("hw", extent, padded)
               if e > q]
    if too_big:
        dim, e, q = too_big[0]
        span = f"spans {e} cells" if e != k["hw".index(dim)] else f"is {e}"
        layout.error = (f"impossible: the kernel {span} in {dim} but the "
                        f"padded input has only {q}; add padding, enlarge "
                        "the input or shrink the kernel/dilation")
        return layout
    try:
        layout.output_shape = tuple(
            conv_output_shape(n[a], k[a], layout.total_padding[a], s[a],
                              d[a]) for a in range(2))
    except ValueError as e:
        layout.error = f"impossible: {e}"
    return layout


def nn_output_shape(layout):
    """(H_out, W_out) of a real nn.Conv2d on the layout's input, or a str.

    Uneven (chapter) padding goes through F.pad first, since nn.Conv2d
    pads the same amount on both sides.
    """
    top, bottom, left, right = layout.pads
    X = torch.zeros(1, 1, *layout.input_size)  # (N, C, H, W)
    symmetric = top == bottom and left == right
    if not symmetric:
        X = F.pad(X, (left, right, top, bottom))
    conv = nn.Conv2d(1, 1, layout.kernel_size, stride=layout.stride,
                     padding=(top, left) if symmetric else 0,
                     dilation=layout.dilation, bias=False)
    try:
        with torch.no_grad(), one_thread():
            return tuple(conv(X).shape[-2:])
    except RuntimeError as e:
        return f"nn.Conv2d refused: {str(e).splitlines()[0]}"


def _grid_segments(h, w):
    """Line segments of an h x w cell grid in imshow coordinates."""
    segs = [[(-0.5, r - 0.5), (w - 0.5, r - 0.5)] for r in range(h + 1)]
    segs += [[(c - 0.5, -0.5), (c - 0.5, h - 0.5)] for c in range(w + 1)]
    return segs


def input_codes(layout, i=0, j=0):
    """(H_pad, W_pad) array of cell codes (see INPUT_COLORS)."""
    H, W = layout.padded_size
    top, _, left, _ = layout.pads
    n_h, n_w = layout.input_size
    codes = np.zeros((H, W), dtype=np.int8)
    codes[top:top + n_h, left:left + n_w] = 1
    if layout.output_shape is not None:
        rows, cols = layout.window(i, j)
        win = codes[np.ix_(rows, cols)]
        codes[np.ix_(rows, cols)] = np.where(win == 1, 2, 3)
    return codes


class PaddingFigure:
    """Artists of the padded-input and output panels, updated in place."""

    def __init__(self, ax_in, ax_out, legend=True):
        self.ax_in, self.ax_out = ax_in, ax_out
        self.im_in = ax_in.imshow(
            np.zeros((1, 1)), cmap=ListedColormap(INPUT_COLORS), vmin=0,
            vmax=3, interpolation="nearest")
        self.grid_in = ax_in.add_collection(
            LineCollection([], colors="#9e9e9e", linewidths=0.6))
        self.border = ax_in.add_patch(Rectangle(
            (0, 0), 1, 1, fill=False, edgecolor="black", linewidth=1.6))
        self.win_box = ax_in.add_patch(Rectangle(
            (0, 0), 1, 1, fill=False, edgecolor="#d62728", linewidth=2.2,
            zorder=4))
        self.corners = ax_in.scatter([], [], s=14, c="black", zorder=3)
        self.im_out = ax_out.imshow(
            np.zeros((1, 1)), cmap=ListedColormap(OUTPUT_COLORS), vmin=0,
            vmax=1, interpolation="nearest")
        self.grid_out = ax_out.add_collection(
            LineCollection([], colors="#6b6b6b", linewidths=0.6))
        self.message = ax_out.text(
            0.5, 0.5, "", transform=ax_out.transAxes, ha="center",
            va="center", color="#b2182b", fontsize=10)
        for ax in (ax_in, ax_out):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel("column")
            ax.set_ylabel("row")
        if legend:
            self._legend(ax_in)
        self._shapes = (None, None)

    @staticmethod
    def _legend(ax_in):
        ax_in.legend(handles=[
            Patch(facecolor=INPUT_COLORS[0], label="padding"),
            Patch(facecolor=INPUT_COLORS[1], edgecolor="black",
                  label="input"),
            Patch(facecolor=INPUT_COLORS[2], label="window"),
            Patch(facecolor=INPUT_COLORS[3], label="window on padding"),
            ax_in.scatter([], [], s=14, c="black",
                          label="window top-left corners"),
        ], loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
            frameon=False)

    def update(self, layout, i=0, j=0):
        """Redraw for `layout` with output cell (i, j) selected."""
        H, W = layout.padded_size
        top, _, left, _ = layout.pads
        n_h, n_w = layout.input_size
        self.im_in.set_data(input_codes(layout, i, j))
        self.im_in.set_extent((-0.5, W - 0.5, H - 0.5, -0.5))
        if self._shapes[0] != (H, W):
            self.grid_in.set_segments(_grid_segments(H, W))
            # Same cell size in both panels: the output shows its shrink.
            for ax in (self.ax_in, self.ax_out):
                ax.set_xlim(-0.5, W - 0.5)
                ax.set_ylim(H - 0.5, -0.5)
        self.border.set_xy((left - 0.5, top - 0.5))
        self.border.set_width(n_w)
        self.border.set_height(n_h)
        self.ax_in.set_title(f"padded input {H}x{W} (input {n_h}x{n_w})",
                             fontsize=10)
        ok = layout.output_shape is not None
        for art in (self.win_box, self.corners, self.im_out, self.grid_out):
            art.set_visible(ok)
        self.message.set_text(
            "" if ok else textwrap.fill(layout.error, 30))
        if not ok:
            self.ax_out.set_title("output: impossible setting", fontsize=10)
            self._shapes = ((H, W), None)
            return
        rows, cols = layout.window(i, j)
        self.win_box.set_xy((cols[0] - 0.5, rows[0] - 0.5))
        self.win_box.set_width(cols[-1] - cols[0] + 1)
        self.win_box.set_height(rows[-1] - rows[0] + 1)
        self.corners.set_offsets(
            np.array([(c, r) for r, c in layout.corners()], dtype=float))
        o_h, o_w = layout.output_shape
        out = np.zeros((o_h, o_w), dtype=np.int8)
        out[i, j] = 1
        self.im_out.set_data(out)
        self.im_out.set_extent((-0.5, o_w - 0.5, o_h - 0.5, -0.5))
        if self._shapes[1] != (o_h, o_w):
            self.grid_out.set_segments(_grid_segments(o_h, o_w))
        self.ax_out.set_title(f"output {o_h}x{o_w}, cell ({i}, {j})",
                              fontsize=10)
        self._shapes = ((H, W), (o_h, o_w))


def plot_padding(input_size, kernel_size, padding=0, stride=1, dilation=1,
                 total=False, cell=(0, 0), ax=None):
    """Draw padded input, windows and output of a conv layer (6.3).

    ax: None (new figure), or a pair of Axes (input panel, output panel).
    Returns the PaddingFigure, whose .layout holds the computed geometry.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(1, 2, figsize=(9, 3.8), dpi=80,
                               width_ratios=(1.45, 1), layout="constrained")
    if not isinstance(ax, (tuple, list, np.ndarray)) or len(ax) != 2:
        raise ValueError("ax must be None or a pair of Axes (input panel, "
                         f"output panel), got {ax!r}")
    layout = padding_layout(input_size, kernel_size, padding, stride,
                            dilation, total)
    art = PaddingFigure(*ax)
    i, j = _pair(cell, "cell")
    if layout.output_shape is not None:
        o_h, o_w = layout.output_shape
        if not (0 <= i < o_h and 0 <= j < o_w):
            raise ValueError(f"cell must lie in the {o_h}x{o_w} output, "
                             f"got {(i, j)}")
    art.update(layout, i, j)
    art.layout = layout
    ax[0].figure.suptitle(_caption(layout), fontsize=11)
    return art


def _caption(layout):
    """Figure title naming the layer."""
    (k_h, k_w), (s_h, s_w) = layout.kernel_size, layout.stride
    (d_h, d_w), pads = layout.dilation, layout.pads
    dil = "" if (d_h, d_w) == (1, 1) else f", dilation {d_h}x{d_w}"
    return (f"{k_h}x{k_w} kernel, stride {s_h}x{s_w}{dil}, padding "
            "top/bottom {}/{}, left/right {}/{}".format(*pads))
