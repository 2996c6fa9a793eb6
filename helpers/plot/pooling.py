"""Figures for 6.5 (pooling) and the shift measurement behind them.

The first half is pure torch (no drawing): `shift_image`,
`shift_sensitivity`, `torch_pool_shape` and `pooling_view`, the one
function the pooling explorer calls per update. The second half draws:
every `plot_*` takes `ax=None` (or `fig=None`), and `PoolingFigure`
builds the explorer's panels once and updates its artists in place.
"""
import math
from collections import namedtuple

import torch
import torch.nn.functional as F
from torch import nn

from helpers.conv import corr2d_fast
from helpers.pooling import pool2d, pool_output_shape, pool_window_at

# The 6.2 vertical-edge kernel: responds where neighbours in a row differ.
EDGE_K = torch.tensor([[1.0, -1.0]])
SHIFTS = tuple(range(-3, 4))
ShiftResult = namedtuple("ShiftResult", [
    "Y", "Y_shifted", "P", "P_shifted",
    "conv_changed", "pool_changed", "conv_rel_change", "pool_rel_change"])


def _pair(v, name):
    """(h, w) from an int or a pair of ints; ValueError otherwise."""
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair, "
                             f"got {v!r}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


# ---------------------------------------------------------------- compute

def shift_image(X, shift):
    """Move X (H, W) by `shift` px ((dy, dx) or dx), repeating borders."""
    dy, dx = (0, int(shift)) if isinstance(shift, int) else _pair(
        shift, "shift")
    H, W = X.shape
    # Positive dx moves the content right; new cells copy the border.
    rows = (torch.arange(H) - dy).clamp(0, H - 1)
    cols = (torch.arange(W) - dx).clamp(0, W - 1)
    return X[rows][:, cols]


def _change(A, B):
    """(fraction of cells that changed, relative L1 change) from A to B."""
    diff = (B - A).abs()
    tol = 1e-6 * max(1.0, A.abs().max().item())
    changed = (diff > tol).float().mean().item()
    norm = A.abs().sum().item()
    if norm > 0:
        rel = diff.sum().item() / norm
    else:  # A is all zeros: no change is 0, any change has no scale
        rel = 0.0 if diff.max().item() <= tol else math.nan
    return changed, rel


def shift_sensitivity(X, K=EDGE_K, shift=1, pool_size=2, mode="max",
                      padding=0, stride=1):
    """How much conv and conv+pooling outputs change when X moves (6.5.1).

    Correlates X (H, W) and its shifted copy with K, pools both conv
    outputs, and compares each pair at the same positions. stride=1 is
    the chapter's `pool2d`; stride=None means stride = window.
    Returns a ShiftResult: the four maps, the fraction of cells that
    changed, and the relative L1 change |B - A|_1 / |A|_1 of each pair.
    """
    if X.dim() != 2:
        raise ValueError(f"X must be 2-D (H, W), got shape {tuple(X.shape)}")
    Y = corr2d_fast(X, K)
    Y_shifted = corr2d_fast(shift_image(X, shift), K)
    P = pool2d(Y, pool_size, mode=mode, padding=padding, stride=stride)
    P_shifted = pool2d(Y_shifted, pool_size, mode=mode, padding=padding,
                       stride=stride)
    conv_changed, conv_rel = _change(Y, Y_shifted)
    pool_changed, pool_rel = _change(P, P_shifted)
    return ShiftResult(Y, Y_shifted, P, P_shifted, conv_changed,
                       pool_changed, conv_rel, pool_rel)


def pool_settings_error(shape, pool_size, padding, stride):
    """Why nn.MaxPool2d would reject these settings, or '' if it wouldn't."""
    (H, W), (ph, pw), (pad_h, pad_w), (sh, sw) = (
        shape, pool_size, padding, stride)
    if min(ph, pw) < 1:
        return f"window must be >= 1, got {ph}x{pw}"
    if min(sh, sw) < 1:
        return f"stride must be >= 1, got ({sh}, {sw})"
    if min(pad_h, pad_w) < 0:
        return f"padding must be >= 0, got ({pad_h}, {pad_w})"
    if 2 * pad_h > ph or 2 * pad_w > pw:
        return (f"padding ({pad_h}, {pad_w}) is more than half the "
                f"{ph}x{pw} window (PyTorch's rule): lower the padding "
                f"or enlarge the window")
    if ph > H + 2 * pad_h or pw > W + 2 * pad_w:
        return (f"the {ph}x{pw} window does not fit the padded input "
                f"{H + 2 * pad_h}x{W + 2 * pad_w}: use a smaller window "
                f"or more padding")
    return ""


def torch_pool_shape(X, pool_size, mode="max", padding=0, stride=None):
    """(H_out, W_out) from running nn.MaxPool2d / nn.AvgPool2d, or message."""
    layer = (nn.MaxPool2d if mode == "max" else nn.AvgPool2d)(
        pool_size, stride=stride, padding=padding)
    try:
        return tuple(layer(X[None, None]).shape[-2:])
    except RuntimeError as e:  # PyTorch's own words for the learner
        return str(e).splitlines()[0]


def pooling_view(X, pool_size=2, mode="max", padding=0, stride=None,
                 i=0, j=0, shift=1, K=EDGE_K, shifts=SHIFTS):
    """Everything the 6.5 pooling explorer shows, as a dict (no drawing).

    X (H, W); stride None means stride = window (PyTorch's default).
    Impossible settings give valid=False and a message; never raise.
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    ph, pw = _pair(pool_size, "pool_size")
    pad = _pair(padding, "padding")
    s = (ph, pw) if stride is None else _pair(stride, "stride")
    layer = "nn.MaxPool2d" if mode == "max" else "nn.AvgPool2d"
    state = dict(X=X, mode=mode, pool_size=(ph, pw), padding=pad, stride=s,
                 shift=shift, layer=layer, valid=False, message="",
                 out_shape=None, out_shape_torch=None, Y=None, i=None,
                 j=None, window_rows=None, window_cols=None, patch=None,
                 value=None, shift_valid=False, shift_message="",
                 shift_result=None, conv_changed=None, pool_changed=None,
                 conv_rel_change=None, pool_rel_change=None,
                 shifts=tuple(shifts), conv_curve=None, pool_curve=None)
    msg = pool_settings_error(tuple(X.shape), (ph, pw), pad, s)
    state["out_shape_torch"] = (
        None if min(ph, pw, *s) < 1 or min(pad) < 0
        else torch_pool_shape(X, (ph, pw), mode, pad, s))
    if msg:
        state["message"] = msg
    else:
        Y = pool2d(X, (ph, pw), mode=mode, padding=pad, stride=s)
        i = min(max(int(i), 0), Y.shape[0] - 1)
        j = min(max(int(j), 0), Y.shape[1] - 1)
        win = pool_window_at(X, (ph, pw), i, j, mode=mode, padding=pad,
                             stride=s)
        state.update(valid=True, Y=Y, i=i, j=j,
                     out_shape=tuple(pool_output_shape(
                         tuple(X.shape), (ph, pw), pad, s)),
                     window_rows=list(win.rows), window_cols=list(win.cols),
                     patch=win.patch, value=float(win.value))
    _shift_view(state, X, K, shift, shifts)
    return state


def _shift_view(state, X, K, shift, shifts):
    """Fill the shift-robustness part of a pooling_view state."""
    kh, kw = K.shape
    conv_shape = (X.shape[0] - kh + 1, X.shape[1] - kw + 1)
    msg = pool_settings_error(conv_shape, state["pool_size"],
                              state["padding"], state["stride"])
    if min(conv_shape) < 1 or msg:
        state["shift_message"] = (
            f"the conv output {conv_shape[0]}x{conv_shape[1]} cannot be "
            f"pooled with these settings: {msg}")
        return
    kw_ = dict(K=K, pool_size=state["pool_size"], mode=state["mode"],
               padding=state["padding"], stride=state["stride"])
    res = shift_sensitivity(X, shift=shift, **kw_)
    curve = [res if t == shift else shift_sensitivity(X, shift=t, **kw_)
             for t in shifts]
    state.update(shift_valid=True, shift_result=res,
                 conv_changed=res.conv_changed,
                 pool_changed=res.pool_changed,
                 conv_rel_change=res.conv_rel_change,
                 pool_rel_change=res.pool_rel_change,
                 conv_curve=[r.conv_rel_change for r in curve],
                 pool_curve=[r.pool_rel_change for r in curve])


# ---------------------------------------------------------------- drawing

def _axes(ax, figsize=(4, 3.5)):
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _cmap():
    import matplotlib
    return matplotlib.colormaps["Blues"].with_extremes(bad="0.85")


def _fmt(v):
    if math.isinf(v):
        return "-∞" if v < 0 else "∞"
    return f"{v:.3g}"


def padded_for_display(X, padding):
    """X padded with NaN (drawn grey): where the padding cells lie."""
    pad_h, pad_w = _pair(padding, "padding")
    return F.pad(X, (pad_w, pad_w, pad_h, pad_h), value=math.nan)


class _Grid:
    """An image plus a pool of cell labels and a highlight rectangle."""

    def __init__(self, ax, max_labels=100):
        from matplotlib.patches import Rectangle

        self.ax, self.max_labels = ax, max_labels
        self.diverging = False  # True: dark cells at both ends (RdBu)
        self.im = ax.imshow([[0.0]], cmap=_cmap(), vmin=0, vmax=1,
                            interpolation="nearest")
        self.texts = [ax.text(0, 0, "", ha="center", va="center",
                              fontsize=8, visible=False)
                      for _ in range(max_labels)]
        self.rect = Rectangle((0, 0), 1, 1, fill=False, ec="tab:red",
                              lw=2.5, visible=False)
        ax.add_patch(self.rect)

    def show(self, A, labels=None, vmin=None, vmax=None):
        """Draw A (h, w) (NaN = grey); label cells when they are few."""
        A = A.detach().float()
        h, w = A.shape
        finite = A[torch.isfinite(A)]
        lo = finite.min().item() if vmin is None and len(finite) else vmin
        hi = finite.max().item() if vmax is None and len(finite) else vmax
        lo = 0.0 if lo is None else lo
        hi = lo + 1.0 if hi is None or hi <= lo else hi
        self.im.set_data(A.numpy())
        self.im.set_clim(lo, hi)
        self.im.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
        self.ax.set_xlim(-0.5, w - 0.5)
        self.ax.set_ylim(h - 0.5, -0.5)
        n = h * w if labels is not None and h * w <= self.max_labels else 0
        for k, t in enumerate(self.texts):
            if k >= n:
                if t.get_visible():
                    t.set_visible(False)
                continue
            r, c = divmod(k, w)
            v = A[r, c].item()
            u = (v - lo) / (hi - lo) if math.isfinite(v) else 0.0
            dark = abs(u - 0.5) > 0.3 if self.diverging else u > 0.6
            t.set_position((c, r))
            t.set_text(labels[r][c])
            t.set_color("white" if dark else "black")
            t.set_visible(True)

    def highlight(self, r0, c0, h, w):
        self.rect.set_xy((c0 - 0.5, r0 - 0.5))
        self.rect.set_width(w)
        self.rect.set_height(h)
        self.rect.set_visible(True)


def _labels(A, pad_text=""):
    return [[pad_text if math.isnan(v) else _fmt(v) for v in row]
            for row in A.tolist()]


def plot_pool_window(X, pool_size=2, i=0, j=0, mode="max", padding=0,
                     stride=None, ax=None):
    """Draw X (padding grey) with the window of output cell (i, j) (6.5.1)."""
    ax = _axes(ax)
    v = pooling_view(X, pool_size, mode, padding, stride, i, j)
    if not v["valid"]:
        raise ValueError(v["message"])
    grid = _Grid(ax)
    Xp = padded_for_display(X, v["padding"])
    grid.show(Xp, _labels(Xp, "-∞" if mode == "max" else "0"))
    rows, cols = v["window_rows"], v["window_cols"]
    grid.highlight(rows[0], cols[0], len(rows), len(cols))
    ax.set_title(f"{mode} pooling window for output ({v['i']}, {v['j']}):"
                 f" {_fmt(v['value'])}")
    ax.set_xlabel("column (padded input)")
    ax.set_ylabel("row (padded input)")
    return ax


def plot_pool_output(Y, i=None, j=None, title="pooling output", ax=None):
    """Draw a pooled output map Y (h, w), marking cell (i, j) if given."""
    ax = _axes(ax)
    grid = _Grid(ax)
    grid.show(Y, _labels(Y))
    if i is not None and j is not None:
        grid.highlight(i, j, 1, 1)
    ax.set_title(title)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    return ax


def plot_shift_maps(X, K=EDGE_K, shift=1, pool_size=2, mode="max",
                    padding=0, stride=1, fig=None):
    """Conv and pooled outputs before/after shifting X (6.5.1), 2x2 grid."""
    if fig is None:
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=(8, 5.5), layout="constrained")
    r = shift_sensitivity(X, K, shift, pool_size, mode, padding, stride)
    axes = fig.subplots(2, 2)
    panels = [(r.Y, "conv output Y"),
              (r.Y_shifted, f"conv output, input shifted {shift} px"),
              (r.P, f"{mode} pooling of Y"),
              (r.P_shifted, f"{mode} pooling, input shifted {shift} px")]
    # symmetric colour scale: 0 is white, +/- edges equally dark
    m = max(r.Y.abs().max().item(), r.Y_shifted.abs().max().item(), 1e-6)
    for ax, (A, title) in zip(axes.flat, panels):
        grid = _Grid(ax)
        grid.im.set_cmap("RdBu_r")
        grid.diverging = True
        grid.show(A, _labels(A), vmin=-m, vmax=m)
        ax.set_title(title)
        ax.set_xlabel("column")
        ax.set_ylabel("row")
    fig.suptitle(f"shift by {shift} px: conv changes {r.conv_changed:.0%} "
                 f"of cells, pooled {r.pool_changed:.0%}")
    return fig


def plot_shift_sensitivity(X, K=EDGE_K, pool_size=2, mode="max",
                           padding=0, stride=1, shifts=SHIFTS, shift=None,
                           ax=None):
    """Relative change of conv vs pooled output against the shift (6.5.1)."""
    ax = _axes(ax, (4.5, 3.2))
    curves = _ShiftCurves(ax)
    results = [shift_sensitivity(X, K, t, pool_size, mode, padding, stride)
               for t in shifts]
    curves.update(list(shifts), [r.conv_rel_change for r in results],
                  [r.pool_rel_change for r in results], shift)
    return ax


def _round_up(x):
    """The smallest of 1, 1.5, 2, 3, 4, 5, 6, 8 (times 10**k) >= x > 0."""
    scale = 10.0 ** math.floor(math.log10(x))
    return scale * next(m for m in (1, 1.5, 2, 3, 4, 5, 6, 8, 10)
                        if m * scale >= x * (1 - 1e-9))


class _ShiftCurves:
    def __init__(self, ax):
        self.ax = ax
        (self.conv,) = ax.plot([], [], "o-", color="tab:blue",
                               label="conv output")
        (self.pool,) = ax.plot([], [], "s-", color="tab:orange",
                               label="conv + pooling")
        self.mark = ax.axvline(0, color="tab:red", lw=1, ls="--")
        ax.set_title("shift robustness")
        ax.set_xlabel("shift of the input (px, right > 0)")
        ax.set_ylabel("relative L1 change")
        # two coloured labels instead of a legend: a legend re-measures
        # its box on every draw and costs ~10% of an explorer update
        for x, text, color in ((0.03, "conv output", "tab:blue"),
                               (0.97, "conv + pooling", "tab:orange")):
            ax.text(x, 0.96, text, color=color, fontsize=8, va="top",
                    ha="left" if x < 0.5 else "right",
                    transform=ax.transAxes)
        ax.grid(alpha=0.3)

    def update(self, shifts, conv, pool, shift=None):
        self.conv.set_data(shifts, conv)
        self.pool.set_data(shifts, pool)
        self.mark.set_visible(shift is not None)
        if shift is not None:
            self.mark.set_xdata([shift, shift])
        vals = [v for v in conv + pool if v is not None and math.isfinite(v)]
        top = max(vals, default=1.0)
        self.ax.set_xlim(min(shifts) - 0.5, max(shifts) + 0.5)
        # headroom above the curves for the two labels; a rounded top
        # keeps the ticks (and an explorer's saved background) steady
        hi = _round_up(1.4 * max(top, 0.1))
        self.ax.set_ylim(-hi / 28, hi)


class PoolingFigure:
    """The pooling explorer's panels: built once, `update(state)` in place.

    `top` (a Figure or SubFigure) shows the padded input with the pooling
    window and the pooled output; `bottom` shows |change| of the conv
    output and of the pooled conv output for the current shift, and the
    relative change against the shift. Two figures, so that moving the
    output cell or the shift re-renders only the half that changed.
    """

    def __init__(self, top, bottom, max_labels=100):
        self.top, self.bottom = top, bottom
        self.ax_in, self.ax_out = top.subplots(1, 2)
        gs = bottom.add_gridspec(1, 3)
        self.ax_dconv = bottom.add_subplot(gs[0, 0])
        self.ax_dpool = bottom.add_subplot(gs[0, 1])
        self.ax_curve = bottom.add_subplot(gs[0, 2])
        self.g_in = _Grid(self.ax_in, max_labels)
        self.g_out = _Grid(self.ax_out, max_labels)
        self.g_dconv = _Grid(self.ax_dconv, 0)
        self.g_dpool = _Grid(self.ax_dpool, 0)
        for g in (self.g_dconv, self.g_dpool):
            g.im.set_cmap("Reds")
        self.curves = _ShiftCurves(self.ax_curve)
        self.msg_out = self.ax_out.text(
            0.5, 0.5, "", transform=self.ax_out.transAxes, ha="center",
            va="center", wrap=True, fontsize=9, color="tab:red")
        self.msg_shift = self.ax_dpool.text(
            0.5, 0.5, "", transform=self.ax_dpool.transAxes, ha="center",
            va="center", wrap=True, fontsize=8, color="tab:red")
        from matplotlib.ticker import MaxNLocator

        for ax in (self.ax_in, self.ax_out):
            ax.set_xlabel("column")
            ax.set_ylabel("row")
            # few integer ticks: tick labels are most of the drawing time
            for axis in (ax.xaxis, ax.yaxis):
                axis.set_major_locator(
                    MaxNLocator(5, integer=True, min_n_ticks=1))
        for ax in (self.ax_dconv, self.ax_dpool):
            ax.set_xticks([])
            ax.set_yticks([])
        self.ax_in.set_xlabel("column (padded input)")
        self.ax_in.set_ylabel("row (padded input)")

    def fast_artists(self):
        """(top, bottom): the artists a window move or a shift changes."""
        top = [self.g_in.rect, self.g_out.rect, self.ax_in.title,
               self.ax_out.title]
        bottom = [self.g_dconv.im, self.g_dpool.im, self.ax_dconv.title,
                  self.ax_dpool.title, self.curves.mark]
        return top, bottom

    def update(self, s, top=True, bottom=True):
        """Show a `pooling_view` state; only artists change."""
        if bottom:
            self._update_shift(s)
        if not top:
            return
        mode, (ph, pw) = s["mode"], s["pool_size"]
        Xp = padded_for_display(s["X"], s["padding"])
        self.g_in.show(Xp, _labels(Xp, "-∞" if mode == "max" else "0"))
        if s["valid"]:
            rows, cols = s["window_rows"], s["window_cols"]
            self.g_in.highlight(rows[0], cols[0], len(rows), len(cols))
            self.g_out.show(s["Y"], _labels(s["Y"]))
            self.g_out.highlight(s["i"], s["j"], 1, 1)
            self.ax_in.set_title(
                f"input, {mode} window {ph}x{pw} for output "
                f"({s['i']}, {s['j']})")
            h, w = s["out_shape"]
            self.ax_out.set_title(
                f"{mode} pooling output {h}x{w}: "
                f"Y[{s['i']}, {s['j']}] = {_fmt(s['value'])}")
            self.msg_out.set_text("")
        else:
            self.g_in.rect.set_visible(False)
            self.g_out.rect.set_visible(False)
            self.g_out.show(torch.full((1, 1), math.nan))
            self.ax_in.set_title(f"input, {mode} window {ph}x{pw}")
            self.ax_out.set_title("pooling output: impossible settings")
            self.msg_out.set_text(_wrap(s["message"]))

    def _update_shift(self, s):
        if s["shift_valid"]:
            r = s["shift_result"]
            dY = (r.Y_shifted - r.Y).abs()
            dP = (r.P_shifted - r.P).abs()
            hi = max(dY.max().item(), dP.max().item(), 1e-6)
            self.g_dconv.show(dY, vmin=0, vmax=hi)
            self.g_dpool.show(dP, vmin=0, vmax=hi)
            self.ax_dconv.set_title(
                f"|conv change|: {s['conv_changed']:.0%} cells")
            self.ax_dpool.set_title(
                f"|pooled change|: {s['pool_changed']:.0%} cells")
            self.msg_shift.set_text("")
            self.curves.update(list(s["shifts"]), s["conv_curve"],
                               s["pool_curve"], s["shift"])
        else:
            nan = torch.full((1, 1), math.nan)
            self.g_dconv.show(nan)
            self.g_dpool.show(nan)
            self.ax_dconv.set_title("|conv change|")
            self.ax_dpool.set_title("|pooled change|")
            self.msg_shift.set_text(_wrap(s["shift_message"], 30))
            n = len(s["shifts"])
            self.curves.update(list(s["shifts"]), [math.nan] * n,
                               [math.nan] * n, s["shift"])


def split_layers(fig, fast):
    """(slow, fast) lists of `fig`'s artists, in a full draw's order.

    `fast`: artists that change on every move. In each axes' z-order,
    its artists from the first fast one up join `fast`; the others but
    the axes background and its ticks (Axis) are `slow`. Drawn in this
    order over the ticks, they give the pixels of a full draw.
    """
    from matplotlib.axis import Axis

    fast_ids = {id(a) for a in fast}
    slow_out, fast_out = [], []
    for ax in fig.axes:
        arts = sorted((a for a in ax.get_children()
                       if a is not ax.patch and not isinstance(a, Axis)),
                      key=lambda a: a.get_zorder())
        k = next((n for n, a in enumerate(arts) if id(a) in fast_ids),
                 len(arts))
        slow_out += arts[:k]
        fast_out += arts[k:]
    return slow_out, fast_out


def _wrap(text, width=40):
    import textwrap
    return "\n".join(textwrap.wrap(text, width))


def plot_pooling_explorer(X=None, pool_size=2, mode="max", padding=0,
                          stride=1, i=0, j=0, shift=1, fig=None):
    """The pooling explorer's figure as a static picture (6.5 default)."""
    if X is None:
        X = torch.ones(6, 8)
        X[:, 2:6] = 0  # the 6.2 edge image
    if fig is None:
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=(10, 6.4), dpi=72, layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=(1.1, 1))
    panels = PoolingFigure(top, bottom)
    panels.update(pooling_view(X, pool_size, mode, padding, stride, i, j,
                               shift))
    return fig
