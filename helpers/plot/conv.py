"""Figures for sections 6.1 and 6.2 (pure matplotlib, every plot_* ax=None).

    from helpers.plot.conv import (
        explorer_input, kernel_preset, plot_kernel_explorer)
    X = explorer_input("chapter 6x8")
    plot_kernel_explorer(X, kernel_preset("chapter [1, -1]"), 0, 1)

The kernel explorer's pure parts live here too (its inputs, kernel
presets and `explorer_state`), so `helpers.widgets.conv` only wires.
"""
import matplotlib.pyplot as plt
import torch
from matplotlib.patches import Rectangle

# Grids with at most this many cells get their numbers written in.
ANNOTATE_MAX = 64

EXPLORER_INPUTS = ("chapter 6x8", "Fashion-MNIST", "checkerboard",
                   "diagonal")
KERNEL_PRESETS = {
    "chapter [1, -1]": [[1.0, -1.0]],
    "Sobel vertical": [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0],
                       [-1.0, 0.0, 1.0]],
    "Sobel horizontal": [[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0],
                         [1.0, 2.0, 1.0]],
    "blur": [[1 / 9] * 3] * 3,
    "sharpen": [[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]],
    "identity": [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]],
}


# ---------------------------------------------------------------- compute
def edge_image(h=6, w=8):
    """The chapter's black-and-white image: ones, middle columns 0 (6.2.3)."""
    X = torch.ones((h, w))
    X[:, w // 4:w - w // 4] = 0
    return X


def checkerboard(n=8, square=2):
    """An n x n checkerboard of square x square blocks (values 0/1)."""
    idx = torch.arange(n) // square
    return ((idx[:, None] + idx[None, :]) % 2).float()


def diagonal_edge(n=8):
    """Ones on and below the diagonal: one diagonal edge (6.2 exercise)."""
    return torch.tril(torch.ones((n, n)))


def explorer_input(name, index=0):
    """One of the kernel explorer's inputs as an (H, W) float tensor."""
    if name == "chapter 6x8":
        return edge_image()
    if name == "Fashion-MNIST":
        from helpers.data import fashion_mnist_image
        return fashion_mnist_image(index)[0].float()
    if name == "checkerboard":
        return checkerboard()
    if name == "diagonal":
        return diagonal_edge()
    raise ValueError(f"name must be one of {EXPLORER_INPUTS}, got {name!r}")


def kernel_preset(name):
    """A preset kernel of the explorer as a 2-D float tensor."""
    if name not in KERNEL_PRESETS:
        raise ValueError(f"name must be one of {tuple(KERNEL_PRESETS)}, "
                         f"got {name!r}")
    return torch.tensor(KERNEL_PRESETS[name], dtype=torch.float32)


def explorer_state(X, K, i, j):
    """Everything the kernel explorer shows for output cell (i, j) (6.2.1).

    (i, j) is clamped into the output map, so any position is valid.
    """
    from helpers.conv import corr2d_fast, window_at

    X = torch.as_tensor(X, dtype=torch.float32)
    K = torch.as_tensor(K, dtype=torch.float32)
    if X.dim() != 2 or K.dim() != 2:
        raise ValueError(f"X and K must be 2-D, got shapes "
                         f"{tuple(X.shape)} and {tuple(K.shape)}")
    if K.shape[0] > X.shape[0] or K.shape[1] > X.shape[1]:
        raise ValueError(f"kernel {tuple(K.shape)} must fit inside the "
                         f"input {tuple(X.shape)}: choose a smaller kernel")
    Y = corr2d_fast(X, K)  # (H - kh + 1, W - kw + 1)
    i = min(max(int(i), 0), Y.shape[0] - 1)
    j = min(max(int(j), 0), Y.shape[1] - 1)
    win = window_at(X, K, i, j)
    return {"X": X, "K": K, "i": i, "j": j,
            "rows": list(win.rows), "cols": list(win.cols),
            "patch": win.patch, "products": win.products,
            "sum": float(win.value), "output": Y,
            "output_shape": tuple(Y.shape)}


# ---------------------------------------------------------------- helpers
def _fmt(v):
    """A short label for a number: 1, -1, 0.11 (no '-0')."""
    v = float(v) + 0.0
    if abs(v - round(v)) < 1e-6:
        return str(int(round(v))) if abs(v) < 1e6 else f"{v:.0e}"
    return f"{v:.2f}"


def _axes(ax, ncols, figsize):
    """`ax` as a list of ncols axes; new pyplot subplots when None."""
    if ax is None:
        _, axes = plt.subplots(1, ncols, figsize=figsize,
                               layout="constrained")
        return list(axes) if ncols > 1 else [axes]
    if hasattr(ax, "flat"):  # a numpy array of axes
        axes = list(ax.flat)
    else:
        axes = list(ax) if isinstance(ax, (list, tuple)) else [ax]
    if len(axes) != ncols:
        raise ValueError(f"ax must hold {ncols} axes, got {len(axes)}")
    return axes


def _one_ax(ax, figsize):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _sym_limits(A):
    m = float(torch.as_tensor(A).abs().max()) if A.numel() else 0.0
    return (-m, m) if m > 0 else (-1.0, 1.0)


def _grid_ticks(ax, h, w):
    """Integer ticks for small grids, sparse ones for images."""
    step = 1 if max(h, w) <= 12 else 7
    ax.set_xticks(range(0, w, step))
    ax.set_yticks(range(0, h, step))


# ------------------------------------------------------------ plain grids
def plot_matrix(A, title="", ax=None, cmap="Blues", annotate=None,
                symmetric=False, xlabel="column j", ylabel="row i"):
    """A 2-D tensor as a heat map, small ones with their numbers (6.2)."""
    A = torch.as_tensor(A).detach().float().cpu()
    ax = _one_ax(ax, (0.5 * A.shape[1] + 1.2, 0.5 * A.shape[0] + 0.9))
    vmin, vmax = _sym_limits(A) if symmetric else (None, None)
    if not symmetric and A.numel() and float(A.min()) == float(A.max()):
        vmin, vmax = float(A.min()) - 1, float(A.max()) + 1
    im = ax.imshow(A.numpy(), cmap=cmap, vmin=vmin, vmax=vmax)
    if annotate is None:
        annotate = A.numel() <= ANNOTATE_MAX
    if annotate:
        lo, hi = im.get_clim()
        for (r, c), v in zip(_cells(A.shape), A.flatten().tolist()):
            ax.text(c, r, _fmt(v), ha="center", va="center", fontsize=8,
                    color=_text_color(v, lo, hi, cmap))
    _grid_ticks(ax, *A.shape)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def _cells(shape):
    return [(r, c) for r in range(shape[0]) for c in range(shape[1])]


def _text_color(v, lo, hi, cmap):
    """White text on the dark end of the colour map, black elsewhere."""
    t = 0.5 if hi <= lo else (v - lo) / (hi - lo)
    if cmap in ("gray",):
        return "black" if t > 0.5 else "white"
    if cmap in ("RdBu_r", "coolwarm", "bwr"):
        return "white" if abs(t - 0.5) > 0.35 else "black"
    return "white" if t > 0.6 else "black"


def plot_matrices(mats, titles, ax=None, cmap="Blues", symmetric=False,
                  suptitle=None):
    """Several small tensors side by side (e.g. X, K and Y of 6.2.1)."""
    n = len(mats)
    axes = _axes(ax, n, (2.6 * n, 2.6))
    for A, t, a in zip(mats, titles, axes):
        plot_matrix(A, t, ax=a, cmap=cmap, symmetric=symmetric)
    if suptitle and ax is None:
        axes[0].figure.suptitle(suptitle)
    return axes


def plot_feature_maps(maps, titles, ax=None, cmap="gray", suptitle=None):
    """Images or feature maps without numbers (6.1.4, 6.2.3).

    cmap: one colour map, or one per map ('RdBu_r' is centred on 0).
    """
    n = len(maps)
    axes = _axes(ax, n, (2.4 * n, 2.6))
    cmaps = [cmap] * n if isinstance(cmap, str) else list(cmap)
    for A, t, a, cm in zip(maps, titles, axes, cmaps):
        A = torch.as_tensor(A).detach().float().cpu()
        sym = cm == "RdBu_r"
        vmin, vmax = _sym_limits(A) if sym else (None, None)
        a.imshow(A.numpy(), cmap=cm, vmin=vmin, vmax=vmax)
        a.set_title(t, fontsize=10)
        a.set_xlabel("column j")
        a.set_ylabel("row i")
        _grid_ticks(a, *A.shape)
    if suptitle and ax is None:
        axes[0].figure.suptitle(suptitle)
    return axes


# ------------------------------------------------------------------ 6.1
def plot_param_counts(counts, ax=None,
                      title="Parameters of one hidden layer"):
    """Bar chart (log scale) of parameter counts by layer design (6.1.2)."""
    ax = _one_ax(ax, (7.0, 2.8))
    names, values = list(counts), [float(v) for v in counts.values()]
    bars = ax.barh(names, values, color="tab:blue")
    ax.set_xscale("log")
    ax.invert_yaxis()
    for b, v in zip(bars, values):
        ax.text(v * 1.3, b.get_y() + b.get_height() / 2, f"{v:,.0f}",
                va="center", fontsize=9)
    ax.set_xlim(1, max(values) * 200)
    ax.set_xlabel("number of parameters (log scale)")
    ax.set_title(title)
    return ax


def plot_shift_equivariance(X, Y, X_shift, Y_shift, shift, ax=None):
    """Input, shifted input and both feature maps: the shift carries over."""
    axes = _axes(ax, 4, (9.6, 2.8))
    titles = ("input X", f"X shifted by {tuple(shift)}", "conv(X)",
              "conv(shifted X)")
    for A, t, a in zip((X, X_shift, Y, Y_shift), titles, axes):
        A = torch.as_tensor(A).detach().float().cpu()
        sym = t.startswith("conv")
        vmin, vmax = _sym_limits(A) if sym else (None, None)
        a.imshow(A.numpy(), cmap="RdBu_r" if sym else "gray",
                 vmin=vmin, vmax=vmax)
        a.set_title(t, fontsize=10)
        a.set_xlabel("column j")
        _grid_ticks(a, *A.shape)
    axes[0].set_ylabel("row i")
    return axes


def plot_conv_vs_corr(f, g, corr, conv, ax=None):
    """1-D signals: a kernel, its flip, correlation and convolution (6.1.3)."""
    axes = _axes(ax, 2, (8.0, 2.6))
    axes[0].stem(range(len(f)), torch.as_tensor(f).tolist(), label="f")
    axes[0].plot(range(len(g)), torch.as_tensor(g).tolist(), "o--",
                 color="tab:orange", label="g (kernel)")
    axes[0].set_title("signal f and kernel g")
    axes[0].set_xlabel("index")
    axes[0].legend(fontsize=8)
    n = range(len(corr))
    axes[1].plot(n, torch.as_tensor(corr).tolist(), "o-",
                 label="cross-correlation")
    axes[1].plot(range(len(conv)), torch.as_tensor(conv).tolist(), "s--",
                 label="convolution (g flipped)")
    axes[1].set_title("f ⋆ g vs f * g")
    axes[1].set_xlabel("output index")
    axes[1].legend(fontsize=8)
    return axes


# ------------------------------------------------------------------ 6.2
def plot_loss_curve(losses, ax=None, num_epochs=None,
                    title="Learning the kernel: squared loss"):
    """Loss per epoch (log scale); returns (ax, line) for live updates."""
    ax = _one_ax(ax, (4.4, 2.8))
    losses = [float(v) for v in losses]
    (line,) = ax.plot(range(1, len(losses) + 1), losses, "o-", ms=3)
    ax.set_yscale("log")
    ax.set_xlim(0.5, (num_epochs or max(len(losses), 1)) + 0.5)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (sum of squares)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    return ax, line


def update_loss_curve(ax, line, losses):
    """Put new losses into a curve from plot_loss_curve (in place)."""
    losses = [float(v) for v in losses]
    line.set_data(range(1, len(losses) + 1), losses)
    positive = [v for v in losses if v > 0]
    if positive:
        ax.set_ylim(min(positive) / 2, max(positive) * 2)
    return line


def plot_receptive_field_stack(sizes, boxes, titles, ax=None,
                               suptitle="Receptive field of one unit"):
    """Grids of stacked layers, each with the unit's receptive field boxed.

    sizes: [(h, w)] per grid (input first); boxes: [(r0, r1, c0, c1)]
    half-open boxes per grid (6.2.6).
    """
    n = len(sizes)
    axes = _axes(ax, n, (2.4 * n, 2.6))
    for (h, w), (r0, r1, c0, c1), t, a in zip(sizes, boxes, titles, axes):
        mask = torch.zeros((h, w))
        mask[r0:r1, c0:c1] = 1
        a.imshow(mask.numpy(), cmap="Blues", vmin=0, vmax=1.6)
        # inset a little so the box is not hidden under the spines
        a.add_patch(Rectangle((c0 - 0.42, r0 - 0.42), c1 - c0 - 0.16,
                              r1 - r0 - 0.16, fill=False, ec="tab:red",
                              lw=2.5))
        a.set_xticks([x - 0.5 for x in range(w + 1)], minor=True)
        a.set_yticks([y - 0.5 for y in range(h + 1)], minor=True)
        a.grid(which="minor", color="0.7", lw=0.8)
        a.tick_params(which="minor", length=0)
        _grid_ticks(a, h, w)
        a.set_title(t, fontsize=10)
        a.set_xlabel("column j")
    axes[0].set_ylabel("row i")
    if suptitle and ax is None:
        axes[0].figure.suptitle(suptitle)
    return axes


# ------------------------------------------------------- kernel explorer
class KernelExplorerArtists:
    """The four panels of the kernel explorer, built once, updated in place.

    Panels: input X with the window, kernel K, window * K (products and
    their sum), output Y with the cell (i, j) the sum lands in. Text is
    the costly part of a redraw (about 0.3 ms a glyph here), so only the
    window, K, the products and Y[i, j] carry numbers, titles are short
    and fixed, and the details (position, sum, shapes) go to one
    suptitle when `details` is True (the widget shows them in HTML).
    """

    def __init__(self, axes, state, details=True):
        self.axes = axes
        ax_x, ax_k, ax_p, ax_y = axes
        # aspect 'auto': every panel fills the box the first layout gave it
        kw = dict(cmap="RdBu_r", aspect="auto")
        self.im_x = ax_x.imshow([[0.0]], cmap="gray", aspect="auto")
        self.im_k = ax_k.imshow([[0.0]], **kw)
        self.im_p = ax_p.imshow([[0.0]], **kw)
        self.im_y = ax_y.imshow([[0.0]], **kw)
        self.win = Rectangle((0, 0), 1, 1, fill=False, ec="tab:red", lw=2)
        self.cell = Rectangle((0, 0), 1, 1, fill=False, ec="tab:red", lw=2)
        ax_x.add_patch(self.win)
        ax_y.add_patch(self.cell)
        kw = dict(ha="center", va="center", fontsize=8, visible=False)
        self.t_x = [ax_x.text(0, 0, "", **kw) for _ in range(9)]
        self.t_k = [ax_k.text(0, 0, "", **kw) for _ in range(9)]
        self.t_p = [ax_p.text(0, 0, "", **kw) for _ in range(9)]
        self.t_y = ax_y.text(0, 0, "", **kw)
        for a, title in zip(axes, ("input X", "kernel K", "window * K",
                                   "output Y")):
            a.set_xticks([])
            a.set_yticks([])
            a.set_title(title, fontsize=10)
        ax_x.set_xlabel("column j")
        ax_x.set_ylabel("row i")
        self.details = axes[0].figure.suptitle("") if details else None
        self.shapes = None
        self.update(state)

    @staticmethod
    def _image(im, A, symmetric):
        """Put A into `im`; returns the colour limits (lo, hi)."""
        h, w = A.shape
        im.set_data(A.detach().float().cpu().numpy())
        im.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
        if symmetric:
            lo, hi = _sym_limits(A)
        else:
            lo, hi = float(A.min()), float(A.max())
            if hi <= lo:
                lo, hi = lo - 1, hi + 1
        im.set_clim(lo, hi)
        return lo, hi

    @staticmethod
    def _label(texts, cells, values, lim, cmap):
        """Write values at (row, col) cells; hide the spare texts."""
        n = min(len(cells), len(values))
        for k, t in enumerate(texts):
            if k < n:
                r, c = cells[k]
                t.set_position((c, r))
                t.set_text(_fmt(values[k]))
                t.set_color(_text_color(values[k], *lim, cmap))
                t.set_visible(True)
            else:
                t.set_visible(False)

    @staticmethod
    def _frame(ax, h, w):
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)

    def update(self, state):
        """Redraw every panel from an explorer_state() dict (in place)."""
        X, K, P, Y = (state["X"], state["K"], state["products"],
                      state["output"])
        shapes = (tuple(X.shape), tuple(K.shape), tuple(Y.shape))
        if shapes != self.shapes:  # re-frame only when sizes change
            for a, A in zip(self.axes, (X, K, P, Y)):
                self._frame(a, *A.shape)
            self.shapes = shapes
        i, j, rows, cols = state["i"], state["j"], state["rows"], \
            state["cols"]
        window = [(r, c) for r in rows for c in cols]
        local = _cells(tuple(K.shape))
        small_x, small_y = X.numel() <= ANNOTATE_MAX, \
            Y.numel() <= ANNOTATE_MAX  # no numbers in 28 x 28 cells
        lim = self._image(self.im_x, X, False)
        self._label(self.t_x, window if small_x else [],
                    state["patch"].flatten().tolist(), lim, "gray")
        lim = self._image(self.im_k, K, True)
        self._label(self.t_k, local, K.flatten().tolist(), lim, "RdBu_r")
        lim = self._image(self.im_p, P, True)
        self._label(self.t_p, local, P.flatten().tolist(), lim, "RdBu_r")
        lim = self._image(self.im_y, Y, True)
        self._label([self.t_y], [(i, j)],
                    [state["sum"]] if small_y else [], lim, "RdBu_r")
        self.win.set_xy((cols[0] - 0.5, rows[0] - 0.5))
        self.win.set_width(len(cols))
        self.win.set_height(len(rows))
        self.cell.set_xy((j - 0.5, i - 0.5))
        if self.details is not None:
            self.details.set_text(
                f"X {tuple(X.shape)}, K {tuple(K.shape)}: window at "
                f"({i}, {j}), sum of products = Y[{i}, {j}] = "
                f"{_fmt(state['sum'])}, output Y {tuple(Y.shape)}")


def plot_kernel_explorer(X, K, i=0, j=0, ax=None):
    """The kernel explorer's figure for one position, as a static plot."""
    axes = _axes(ax, 4, (10.0, 3.0))
    return KernelExplorerArtists(axes, explorer_state(X, K, i, j))
