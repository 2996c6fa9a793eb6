"""Drawing for 6.4 (multiple input and output channels).

Pure helpers (`color_test_image`, `channel_partials`, `pixel_matmul`) and
matplotlib drawing: `plot_channels`, `plot_rgb`, and two whole layouts,
`plot_channel_explorer` / `update_channel_explorer` and `plot_1x1_mixer` /
`update_1x1_mixer`, which the widgets in helpers/widgets/channels.py reuse
(build once, then update the artists in place). No ipywidgets here.
"""
import math

import torch
from torch.nn import functional as F

from helpers.channels import corr2d_multi_in_out, corr2d_multi_in_out_1x1

CHANNEL_CMAPS = ("Reds", "Greens", "Blues")
CHANNEL_NAMES = ("R", "G", "B")


def color_test_image(size=16):
    """A 3-channel RGB-like test image (c_i, h, w) = (3, size, size) (6.4)."""
    if not isinstance(size, int) or size < 4:
        raise ValueError(f"size must be an int >= 4, got {size!r}")
    r = torch.arange(size, dtype=torch.float32)
    ii, jj = torch.meshgrid(r, r, indexing="ij")
    # red: a disc in the upper left
    red = (((ii - 0.35 * size) ** 2 + (jj - 0.35 * size) ** 2)
           <= (0.27 * size) ** 2).float()
    # green: a horizontal bar in the lower half (overlaps the disc: yellow)
    green = ((ii >= 0.5 * size) & (ii < 0.8 * size)
             & (jj >= 0.15 * size) & (jj < 0.9 * size)).float()
    # blue: a left-to-right ramp
    blue = jj / (size - 1)
    return torch.stack((red, green, blue))


def _check_multi(X, K):
    if X.dim() != 3:
        raise ValueError("X must have shape (c_i, h, w), got "
                         f"{tuple(X.shape)}")
    if K.dim() != 4:
        raise ValueError("K must have shape (c_o, c_i, k_h, k_w), got "
                         f"{tuple(K.shape)}")
    if K.shape[1] != X.shape[0]:
        raise ValueError(f"K.shape[1] (c_i = {K.shape[1]}) must equal "
                         f"X.shape[0] (c_i = {X.shape[0]}); give each "
                         "input channel its own kernel")
    if K.shape[2] > X.shape[1] or K.shape[3] > X.shape[2]:
        raise ValueError(f"kernel {tuple(K.shape[2:])} must fit inside "
                         f"the input {tuple(X.shape[1:])}")


def channel_partials(X, K):
    """Per-channel maps X[c] ⋆ K[o, c], shape (c_o, c_i, h', w') (6.4.1).

    Summing over dim 1 gives corr2d_multi_in_out(X, K).
    """
    X, K = torch.as_tensor(X), torch.as_tensor(K)
    _check_multi(X, K)
    c_o, c_i, k_h, k_w = K.shape
    # groups=c_i: group c sees only input channel c and uses K[:, c]
    weight = K.permute(1, 0, 2, 3).reshape(c_i * c_o, 1, k_h, k_w)
    P = F.conv2d(X[None].to(weight.dtype), weight, groups=c_i)[0]
    return P.reshape(c_i, c_o, *P.shape[1:]).permute(1, 0, 2, 3)


def pixel_matmul(X, K, i, j):
    """One pixel of a 1x1 conv as a matrix product: (x, W, W @ x) (6.4.3).

    X (c_i, h, w), K (c_o, c_i, 1, 1); x = X[:, i, j] (c_i,),
    W = K[:, :, 0, 0] (c_o, c_i), y = W @ x (c_o,).
    """
    X, K = torch.as_tensor(X), torch.as_tensor(K)
    _check_multi(X, K)
    if K.shape[2:] != (1, 1):
        raise ValueError(f"K must be a 1x1 kernel (c_o, c_i, 1, 1), got "
                         f"{tuple(K.shape)}")
    h, w = X.shape[1:]
    if not (0 <= i < h and 0 <= j < w):
        raise ValueError(f"pixel (i, j) must satisfy 0 <= i < {h} and "
                         f"0 <= j < {w}, got ({i}, {j})")
    x = X[:, i, j]
    W = K[:, :, 0, 0]
    return x, W, W @ x


def _new_axes(ax, figsize):
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _bare(ax):
    ax.set_xticks([])
    ax.set_yticks([])


def _annotate(ax, A, fmt="{:g}", color="black", size=9):
    """Write each entry of the 2-D tensor A in its cell; return the texts."""
    texts = []
    for r in range(A.shape[0]):
        for c in range(A.shape[1]):
            texts.append(ax.text(c, r, fmt.format(float(A[r, c])),
                                 ha="center", va="center", color=color,
                                 size=size))
    return texts


def _sym(A):
    """A symmetric colour limit for A (never zero)."""
    m = float(torch.as_tensor(A).abs().max()) if torch.numel(
        torch.as_tensor(A)) else 0.0
    return max(m, 1e-6)


def plot_rgb(X, ax=None, title="RGB input", marker=None):
    """Show a 3-channel tensor (3, h, w) as one colour picture (6.4)."""
    X = torch.as_tensor(X)
    if X.dim() != 3 or X.shape[0] != 3:
        raise ValueError(f"X must have shape (3, h, w), got {tuple(X.shape)}")
    ax = _new_axes(ax, (3, 3))
    ax.imshow(X.permute(1, 2, 0).clamp(0, 1).numpy(),
              interpolation="nearest")
    if marker is not None:
        ax.plot([marker[1]], [marker[0]], "s", mfc="none", mec="black",
                ms=8, mew=2)
    ax.set_title(title)
    ax.set_xlabel("column j")
    ax.set_ylabel("row i")
    return ax


def plot_channels(X, axes=None, names=None, cmaps=None, annotate=None,
                  title="input channels"):
    """Draw each channel of X (c, h, w) side by side; returns its axes (6.4).

    `axes=None` makes a new pyplot figure with one panel per channel.
    """
    X = torch.as_tensor(X)
    if X.dim() != 3:
        raise ValueError(f"X must have shape (c, h, w), got {tuple(X.shape)}")
    c = X.shape[0]
    if axes is None:
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, c, figsize=(2.2 * c, 2.4),
                                 layout="constrained", squeeze=False)
        axes = list(axes[0])
        fig.suptitle(title)
    if len(axes) < c:
        raise ValueError(f"axes must hold at least {c} panels, "
                         f"got {len(axes)}")
    if annotate is None:
        annotate = max(X.shape[1:]) <= 6
    for k in range(c):
        ax = axes[k]
        cmap = (cmaps[k] if cmaps else
                CHANNEL_CMAPS[k] if c == 3 else "Blues")
        name = names[k] if names else f"X[{k}]"
        ax.imshow(X[k].numpy(), cmap=cmap, interpolation="nearest",
                  vmin=min(0.0, float(X.min())), vmax=float(X.max()) or 1)
        if annotate:
            _annotate(ax, X[k])
        ax.set_title(name)
        _bare(ax)
    return list(axes[:c])


# ---------------------------------------------------------------- explorer
class ExplorerArtists:
    """Handles of the channel-explorer layout (figure, axes, images, texts)."""

    def __init__(self, fig):
        self.fig = fig
        self.x_axes, self.k_axes, self.p_axes, self.y_axes = [], [], [], []
        self.x_ims, self.k_ims, self.p_ims, self.y_ims = [], [], [], []
        self.k_texts, self.x_texts, self.p_texts = [], [], []
        self.sum_ax = self.sum_im = None
        self.sum_texts = []
        self.annotate = False


def _imshow(ax, A, cmap, vmin, vmax):
    return ax.imshow(A.numpy(), cmap=cmap, vmin=vmin, vmax=vmax,
                     interpolation="nearest")


def plot_channel_explorer(X, K, out_channel=0, fig=None, max_in=None,
                          max_out=None, annotate=None, kernel_values=True):
    """Whole 6.4 layout: rows X[c] | K[o, c] | X[c] ⋆ K[o, c]; Σ; stack Y.

    X (c_i, h, w), K (c_o, c_i, k_h, k_w). Panels are allocated for
    `max_in` input and `max_out` output channels (default: this X, K) so a
    widget can show fewer later with `update_channel_explorer`. `annotate`
    writes the numbers of X and of the maps (default: inputs <= 6x6);
    `kernel_values` writes the kernel entries (text is the slow part of a
    redraw, so the widget shows them in its readout instead).
    Returns an ExplorerArtists.
    """
    X, K = torch.as_tensor(X).float(), torch.as_tensor(K).float()
    _check_multi(X, K)
    c_o, c_i = K.shape[:2]
    max_in = max_in or c_i
    max_out = max_out or c_o
    if c_i > max_in or c_o > max_out:
        raise ValueError(f"max_in/max_out ({max_in}, {max_out}) must be >= "
                         f"(c_i, c_o) = ({c_i}, {c_o})")
    if fig is None:
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=(9.5, 1.75 * max(max_in, max_out) + 0.6),
                         layout="constrained")
    rows = max(max_in, max_out)
    gs = fig.add_gridspec(rows, 5, width_ratios=[1, 0.8, 1, 1.3, 1])
    art = ExplorerArtists(fig)
    if annotate is None:
        annotate = max(X.shape[1:]) <= 6
    art.annotate = annotate
    k_h, k_w = K.shape[2:]
    kx = torch.zeros(k_h, k_w)
    P0 = torch.zeros(X.shape[1] - k_h + 1, X.shape[2] - k_w + 1)
    for c in range(max_in):
        ax = fig.add_subplot(gs[c, 0])
        cmap = CHANNEL_CMAPS[c] if max_in == 3 else "Blues"
        art.x_axes.append(ax)
        art.x_ims.append(_imshow(ax, X[0] * 0, cmap, 0, 1))
        art.x_texts.append(_annotate(ax, X[0]) if annotate else [])
        name = f" ({CHANNEL_NAMES[c]})" if max_in == 3 else ""
        _title(ax, f"X[{c}]{name}")
        ax = fig.add_subplot(gs[c, 1])
        art.k_axes.append(ax)
        art.k_ims.append(_imshow(ax, kx, "PuOr_r", -1, 1))
        art.k_texts.append(_annotate(ax, kx, "{:.2g}", size=8)
                           if kernel_values else [])
        ax = fig.add_subplot(gs[c, 2])
        art.p_axes.append(ax)
        art.p_ims.append(_imshow(ax, P0, "RdBu_r", -1, 1))
        art.p_texts.append(_annotate(ax, P0, "{:.3g}") if annotate else [])
    art.sum_ax = fig.add_subplot(gs[:, 3])
    art.sum_im = _imshow(art.sum_ax, P0, "RdBu_r", -1, 1)
    art.sum_texts = _annotate(art.sum_ax, P0, "{:.4g}") if annotate else []
    art.sum_ax.axis("off")
    for o in range(max_out):
        ax = fig.add_subplot(gs[o, 4])
        art.y_axes.append(ax)
        art.y_ims.append(_imshow(ax, P0, "RdBu_r", -1, 1))
    for ax in art.x_axes + art.k_axes + art.p_axes + art.y_axes:
        ax.axis("off")
    update_channel_explorer(art, X, K, out_channel)
    return art


def _title(ax, text):
    """Set a title at a fixed height (cheaper to redraw than auto-placed)."""
    ax.set_title(text, size=10, y=1.0, pad=3)


def _set_texts(texts, A, fmt, vmax=None):
    """Rewrite annotation texts; white on the darkest cells."""
    flat = A.reshape(-1).tolist()
    for t, v in zip(texts, flat):
        t.set_text(fmt.format(v))
        if vmax:
            t.set_color("white" if abs(v) > 0.65 * vmax else "black")


def update_channel_explorer(art, X, K, out_channel=0, partials=None,
                            Y=None):
    """Redraw the explorer in place for X (c_i, h, w), K (c_o, c_i, ...)."""
    X, K = torch.as_tensor(X).float(), torch.as_tensor(K).float()
    c_o, c_i = K.shape[:2]
    o = out_channel
    if not 0 <= o < c_o:
        raise ValueError(f"out_channel must be in 0..{c_o - 1}, got {o}")
    if partials is None:
        partials = channel_partials(X, K)
    if Y is None:
        Y = corr2d_multi_in_out(X, K)
    kmax = _sym(K[o])
    pmax = _sym(partials[o])
    for c in range(len(art.x_axes)):
        show = c < c_i
        for ax in (art.x_axes[c], art.k_axes[c], art.p_axes[c]):
            ax.set_visible(show)
        if not show:
            continue
        art.x_ims[c].set_data(X[c].numpy())
        art.x_ims[c].set_clim(min(0.0, float(X.min())),
                              max(float(X.max()), 1e-6))
        _set_texts(art.x_texts[c], X[c], "{:g}", float(X.abs().max()))
        art.k_ims[c].set_data(K[o, c].numpy())
        art.k_ims[c].set_clim(-kmax, kmax)
        _set_texts(art.k_texts[c], K[o, c], "{:.2g}", kmax)
        art.p_ims[c].set_data(partials[o, c].numpy())
        art.p_ims[c].set_clim(-pmax, pmax)
        _set_texts(art.p_texts[c], partials[o, c], "{:.3g}", pmax)
    # few texts: each costs a few ms per redraw, so the K and partial
    # columns get one header each instead of one title per panel
    _title(art.k_axes[0], f"⋆ K[{o}, c]")
    _title(art.p_axes[0], f"= X[c] ⋆ K[{o}, c]")
    smax = _sym(Y[o])
    art.sum_im.set_data(Y[o].numpy())
    art.sum_im.set_clim(-smax, smax)
    _title(art.sum_ax, f"Σ over c = Y[{o}]")
    _set_texts(art.sum_texts, Y[o], "{:.4g}", smax)
    for q, ax in enumerate(art.y_axes):
        ax.set_visible(q < c_o)
        if q < c_o:
            m = _sym(Y[q])
            art.y_ims[q].set_data(Y[q].numpy())
            art.y_ims[q].set_clim(-m, m)
            _title(ax, f"Y[{q}]" + (" ◀" if q == o else ""))
    art.fig.suptitle(
        f"X {c_i}×{X.shape[1]}×{X.shape[2]} ⋆ "
        f"K {c_o}×{c_i}×{K.shape[2]}×{K.shape[3]} → "
        f"Y {c_o}×{Y.shape[1]}×{Y.shape[2]}", size=11)
    return art


# ------------------------------------------------------------------- mixer
class MixerArtists:
    """Handles of the 1x1-mixer layout."""

    def __init__(self, fig):
        self.fig = fig
        self.rgb_ax = self.rgb_im = self.rgb_mark = None
        self.x_axes, self.x_ims = [], []
        self.y_ax = self.y_im = self.y_mark = None
        self.text_ax = self.text = None


def _mixer_text(x, W, y, i, j, conv_value):
    names = CHANNEL_NAMES if W.shape[1] == 3 else [
        str(c) for c in range(W.shape[1])]
    xs = ", ".join(f"{v:.2f}" for v in x.tolist())
    ws = ", ".join(f"{v:.2f}" for v in W[0].tolist())
    terms = " + ".join(f"({w:.2f})·{v:.2f}" for w, v in
                       zip(W[0].tolist(), x.tolist()))
    return (f"pixel (i, j) = ({i}, {j})   x = X[:, {i}, {j}] = [{xs}]"
            f"   ({', '.join(names)})\n"
            f"W = K[:, :, 0, 0] = [[{ws}]]\n"
            f"W x = {terms} = {float(y[0]):.4f}\n"
            f"1x1 conv output Y[0, {i}, {j}] = {conv_value:.4f}")


def plot_1x1_mixer(X, K, i=0, j=0, fig=None, Y=None, show_text=True):
    """1x1 conv mixing 3 channels: inputs, output, pixel matmul (6.4.3).

    X (3, h, w), K (1, 3, 1, 1). `show_text` writes the pixel's matrix
    product under the maps (the widget shows it in its readout instead:
    text is the slow part of a redraw). Returns a MixerArtists.
    """
    X, K = torch.as_tensor(X).float(), torch.as_tensor(K).float()
    pixel_matmul(X, K, i, j)  # validates shapes and the pixel
    if X.shape[0] != 3 or K.shape[0] != 1:
        raise ValueError("the mixer expects X (3, h, w) and K (1, 3, 1, 1), "
                         f"got {tuple(X.shape)} and {tuple(K.shape)}")
    if fig is None:
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=(9.5, 3.6 if show_text else 2.9),
                         layout="constrained")
    art = MixerArtists(fig)
    gs = (fig.add_gridspec(2, 5, height_ratios=[3, 1]) if show_text
          else fig.add_gridspec(1, 5))
    art.rgb_ax = fig.add_subplot(gs[0, 0])
    art.rgb_im = art.rgb_ax.imshow(X.permute(1, 2, 0).clamp(0, 1).numpy(),
                                   interpolation="nearest")
    _title(art.rgb_ax, "X (RGB)")
    art.rgb_ax.axis("off")
    for c in range(3):
        ax = fig.add_subplot(gs[0, c + 1])
        art.x_axes.append(ax)
        art.x_ims.append(_imshow(ax, X[c], CHANNEL_CMAPS[c], 0, 1))
        ax.axis("off")
    art.y_ax = fig.add_subplot(gs[0, 4])
    art.y_im = _imshow(art.y_ax, X[0], "gray", 0, 1)
    art.y_ax.axis("off")
    mk = dict(marker="s", mfc="none", mec="magenta", ms=7, mew=1.8)
    art.rgb_mark, = art.rgb_ax.plot([j], [i], **mk)
    art.y_mark, = art.y_ax.plot([j], [i], **mk)
    art.x_marks = [ax.plot([j], [i], **mk)[0] for ax in art.x_axes]
    if show_text:
        art.text_ax = fig.add_subplot(gs[1, :])
        art.text_ax.axis("off")
        art.text = art.text_ax.text(0.0, 0.5, "", family="monospace",
                                    size=9.5, va="center", ha="left",
                                    transform=art.text_ax.transAxes)
    update_1x1_mixer(art, X, K, i, j, Y=Y)
    return art


def update_1x1_mixer(art, X, K, i, j, Y=None):
    """Redraw the 1x1 mixer in place (weights K (1, 3, 1, 1), pixel i, j)."""
    X, K = torch.as_tensor(X).float(), torch.as_tensor(K).float()
    x, W, y = pixel_matmul(X, K, i, j)
    if Y is None:
        Y = corr2d_multi_in_out_1x1(X, K)
    lo, hi = float(Y.min()), float(Y.max())
    if math.isclose(lo, hi):
        lo, hi = lo - 0.5, hi + 0.5
    art.y_im.set_data(Y[0].numpy())
    art.y_im.set_clim(lo, hi)
    w = W[0].tolist()
    for c, ax in enumerate(art.x_axes):
        _title(ax, f"{w[c]:.2f} × X[{c}]")
    _title(art.y_ax, "Y[0] = Σ w_c·X[c]")
    for m in [art.rgb_mark, art.y_mark] + art.x_marks:
        m.set_data([j], [i])
    if art.text is not None:
        art.text.set_text(_mixer_text(x, W, y, i, j, float(Y[0, i, j])))
    art.fig.suptitle("1×1 conv = one linear layer at every pixel", size=11)
    return art


def explorer_kernels():
    """Default K (3, 3, 3, 3) of the channel explorer (6.4.2).

    Y[0]: vertical edges summed over R, G, B; Y[1]: red minus green;
    Y[2]: blurred blue (the other channels' kernels are zero).
    """
    K = torch.zeros(3, 3, 3, 3)
    K[0, :] = torch.tensor([[1.0, 0.0, -1.0]] * 3)
    K[1, 0, 1, 1], K[1, 1, 1, 1] = 1.0, -1.0
    K[2, 2] = 0.1
    return K


# weights (w_R, w_G, w_B) of the 1x1 mixer's presets (6.4.3)
MIXER_PRESETS = {
    "grayscale (0.3, 0.59, 0.11)": (0.3, 0.59, 0.11),
    "average": (0.35, 0.35, 0.35),
    "red only": (1.0, 0.0, 0.0),
    "red − green": (1.0, -1.0, 0.0),
    "blue − red": (-1.0, 0.0, 1.0),
}

# 3x3 kernels the explorer offers for the edited K[o, c]
KERNEL_PRESETS = {
    "vertical edge": [[1.0, 0.0, -1.0]] * 3,
    "horizontal edge": [[1.0] * 3, [0.0] * 3, [-1.0] * 3],
    "identity": [[0.0] * 3, [0.0, 1.0, 0.0], [0.0] * 3],
    "blur": [[0.1] * 3] * 3,
    "zero": [[0.0] * 3] * 3,
}
