"""Figures for LeNet (6.6): feature maps, probabilities, mistakes.

Pure matplotlib. Each plot_* draws into `ax` / `fig` when given and
otherwise makes a pyplot figure (so a notebook cell shows it inline).
Figure text is English: the default fonts have no Chinese glyphs.

    from helpers.plot.lenet import plot_confusion_matrix
    plot_confusion_matrix(cm, TEXT_LABELS)
"""
from dataclasses import dataclass, field

import numpy as np

from ..data import TEXT_LABELS

CORRECT, WRONG, OTHER = "tab:green", "tab:red", "tab:gray"
PREDICTED = "tab:blue"  # the prediction when the true class is unknown
MAP_CMAP = "viridis"


def _np(x):
    """Tensor or array-like -> float numpy array on the CPU."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def _new_fig(figsize):
    import matplotlib.pyplot as plt
    return plt.figure(figsize=figsize, layout="constrained")


def _new_ax(figsize):
    import matplotlib.pyplot as plt
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _title(ax, text, **kw):
    """Title at a fixed height: skips matplotlib's costly auto-placing."""
    return ax.set_title(text, y=1.0, **kw)


def _clean(ax):
    ax.set_xticks([])
    ax.set_yticks([])


def _image2d(image):
    """(28, 28), (1, 28, 28) or (1, 1, 28, 28) -> (28, 28) array."""
    img = _np(image)
    while img.ndim > 2 and img.shape[0] == 1:
        img = img[0]
    if img.ndim != 2:
        raise ValueError(f"image must be one grey image, (H, W) or "
                         f"(1, H, W), got shape {img.shape}")
    return img


def _layer_range(maps):
    lo, hi = float(maps.min()), float(maps.max())
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def _range_title(name, maps):
    lo, hi = float(maps.min()), float(maps.max())
    return (f"{name}: {maps.shape[0]} maps {maps.shape[1]}x{maps.shape[2]}"
            f", values {lo:.2f} to {hi:.2f}")


def plot_image(image, title="input", ax=None):
    """Show one grey image (white background, like Fashion-MNIST)."""
    ax = _new_ax((2.2, 2.2)) if ax is None else ax
    im = ax.imshow(_image2d(image), cmap="gray_r", vmin=0, vmax=1)
    _title(ax, title, fontsize=9)
    _clean(ax)
    return im


def tile_maps(maps, ncols=8, pad=1):
    """(C, H, W) maps -> one (rows*(H+pad)-pad, ...) mosaic, NaN gaps."""
    m = _np(maps)
    if m.ndim != 3:
        raise ValueError(f"maps must be (C, H, W), got shape {m.shape}")
    C, H, W = m.shape
    ncols = max(1, min(ncols, C))
    nrows = -(-C // ncols)
    out = np.full((nrows * (H + pad) - pad, ncols * (W + pad) - pad),
                  np.nan)
    for c in range(C):
        r, k = divmod(c, ncols)
        out[r * (H + pad):r * (H + pad) + H,
            k * (W + pad):k * (W + pad) + W] = m[c]
    return out


def _map_cmap():
    import matplotlib

    # white for NaN: the gaps between maps
    return matplotlib.colormaps[MAP_CMAP].with_extremes(bad="white")


def plot_feature_maps(maps, fig=None, title=None, ncols=8):
    """Draw each conv layer's maps as one mosaic per layer (6.6 ex. 4).

    `maps` is the dict from helpers.evaluate.feature_maps; channel c
    sits at row c // ncols, column c % ncols of its layer's mosaic.
    All maps of one layer share a colour scale, so they compare
    honestly. Returns {layer name: AxesImage} for in-place updates.
    """
    if not maps:
        raise ValueError("maps must be a non-empty dict {layer: (C, H, W)}")
    tiles = {name: tile_maps(m, ncols) for name, m in maps.items()}
    if fig is None:
        fig = _new_fig((7.5, 1.2 + 0.9 * sum(
            t.shape[0] / t.shape[1] * 8 for t in tiles.values())))
    axes = np.atleast_1d(fig.subplots(len(maps), 1, height_ratios=[
        max(t.shape[0] / t.shape[1], 0.15) for t in tiles.values()]))
    artists, cmap = {}, _map_cmap()
    for ax, (name, m) in zip(axes, maps.items()):
        m = _np(m)
        lo, hi = _layer_range(m)
        artists[name] = ax.imshow(tiles[name], cmap=cmap, vmin=lo, vmax=hi,
                                  interpolation="nearest")
        ax.set_axis_off()
        _title(ax, _range_title(name, m), fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return artists


def update_feature_maps(artists, maps, ncols=8):
    """Put new maps into the mosaics made by plot_feature_maps."""
    for name, im in artists.items():
        m = _np(maps[name])
        im.set_data(tile_maps(m, ncols))
        im.set_clim(*_layer_range(m))
        _title(im.axes, _range_title(name, m), fontsize=9)


def _bar_colors(n, pred, label):
    colors = [OTHER] * n
    if label is not None and 0 <= label < n:
        colors[label] = CORRECT
    if label is None:
        colors[pred] = PREDICTED
    elif pred != label:
        colors[pred] = WRONG
    return colors


def plot_probabilities(probs, class_names=TEXT_LABELS, label=None,
                       ax=None):
    """Horizontal bars of predicted class probabilities (6.6).

    Green: the true class; red: a wrong prediction. Returns the bars.
    """
    p = _np(probs).reshape(-1)
    if len(p) != len(class_names):
        raise ValueError(f"probs has {len(p)} entries but class_names has "
                         f"{len(class_names)}")
    ax = _new_ax((3.4, 2.6)) if ax is None else ax
    pred = int(p.argmax())
    y = np.arange(len(p))
    bars = ax.barh(y, p, color=_bar_colors(len(p), pred, label))
    ax.set_yticks(y, class_names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    _title(ax, f"prediction: {class_names[pred]} ({p[pred]:.2f})",
                 fontsize=9)
    return bars


def update_probabilities(bars, probs, class_names=TEXT_LABELS, label=None):
    """Set new bar lengths and colours in place."""
    p = _np(probs).reshape(-1)
    pred = int(p.argmax())
    for bar, v, c in zip(bars, p, _bar_colors(len(p), pred, label)):
        bar.set_width(v)
        bar.set_color(c)
    _title(bars[0].axes,
        f"prediction: {class_names[pred]} ({p[pred]:.2f})", fontsize=9)


def _input_title(index, label, class_names):
    where = "" if index is None else f"test image {index}"
    if label is None:
        return where or "input"
    return f"{where}\ntrue: {class_names[label]}".strip()


@dataclass
class LenetView:
    """Artists of the viewer figure, kept for in-place updates."""
    fig: object
    image: object
    bars: object
    maps: dict = field(default_factory=dict)
    class_names: tuple = TEXT_LABELS

    def dynamic_artists(self):
        """The artists update_lenet_view changes (for blitting)."""
        ax = self.image.axes
        # spines after the image: in a full draw they lie on top of it
        arts = [self.image, *ax.spines.values(), ax.title, *self.bars,
                self.bars[0].axes.title]
        for im in self.maps.values():
            arts += [im, im.axes.title]
        return arts


def plot_lenet_view(image, maps, probs, class_names=TEXT_LABELS,
                    label=None, index=None, fig=None):
    """Input, its conv1/conv2 feature maps and the class probabilities.

    The viewer's figure (6.6); the same call draws its static default
    state in the notebook. Returns a LenetView for update_lenet_view.
    """
    if fig is None:
        fig = _new_fig((10, 4.4))
    left, right = fig.subfigures(1, 2, width_ratios=[1.0, 2.6])
    ax_img, ax_p = left.subplots(2, 1, height_ratios=[1.0, 1.2])
    im = plot_image(image, _input_title(index, label, class_names), ax_img)
    bars = plot_probabilities(probs, class_names, label, ax_p)
    artists = plot_feature_maps(maps, fig=right)
    fig.suptitle("LeNet: what the conv layers see", fontsize=10)
    return LenetView(fig, im, bars, artists, tuple(class_names))


def update_lenet_view(view, image, maps, probs, label=None, index=None):
    """Redraw a LenetView in place for a new image."""
    view.image.set_data(_image2d(image))
    _title(view.image.axes,
        _input_title(index, label, view.class_names), fontsize=9)
    update_probabilities(view.bars, probs, view.class_names, label)
    update_feature_maps(view.maps, maps)


def plot_confusion_matrix(cm, class_names=TEXT_LABELS, ax=None,
                          normalize=False, title="confusion matrix"):
    """Heat map of cm[true, predicted] with counts in the cells."""
    cm = _np(cm)
    n = len(class_names)
    if cm.shape != (n, n):
        raise ValueError(f"cm must be ({n}, {n}) to match class_names, "
                         f"got shape {cm.shape}")
    ax = _new_ax((6.2, 5.4)) if ax is None else ax
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) \
        if normalize else cm
    # a log-like scale would hide the diagonal; clip it instead so the
    # off-diagonal confusions stay visible next to ~900 correct ones
    off = shown[~np.eye(n, dtype=bool)]
    vmax = max(float(off.max()) * 1.5 if off.size else 1.0, 1e-9)
    ax.imshow(np.minimum(shown, vmax), cmap="Blues", vmin=0, vmax=vmax)
    for i in range(n):
        for j in range(n):
            v = shown[i, j]
            txt = f"{v:.2f}" if normalize else f"{int(v)}"
            dark = min(v, vmax) > 0.6 * vmax
            ax.text(j, i, txt, ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")
    ax.set_xticks(range(n), class_names, rotation=45, ha="right",
                  fontsize=8)
    ax.set_yticks(range(n), class_names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    _title(ax, title)
    return ax


def plot_misclassified(images, labels, preds, probs=None,
                       class_names=TEXT_LABELS, indices=None, ncols=8,
                       fig=None, title="misclassified test images"):
    """Gallery of images with 'true -> predicted (probability)' titles."""
    n = len(images)
    if not (len(labels) == len(preds) == n):
        raise ValueError(f"images, labels and preds must have the same "
                         f"length, got {n}, {len(labels)}, {len(preds)}")
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be an int >= 1, got {ncols!r}")
    nrows = max(1, -(-n // ncols))
    if fig is None:
        fig = _new_fig((1.25 * ncols, 1.45 * nrows + 0.4))
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for k, ax in enumerate(axes):
        _clean(ax)
        if k >= n:
            ax.set_visible(False)
            continue
        ax.imshow(_image2d(images[k]), cmap="gray_r", vmin=0, vmax=1)
        t = f"{class_names[int(labels[k])]}\n-> {class_names[int(preds[k])]}"
        if probs is not None:
            t += f" ({float(probs[k]):.2f})"
        _title(ax, t, fontsize=7, color=WRONG)
        if indices is not None:
            ax.set_xlabel(f"#{int(indices[k])}", fontsize=7, labelpad=1)
    fig.suptitle(title + (" (none)" if n == 0 else ""), fontsize=10)
    return fig


def _get(history, key):
    if isinstance(history, dict):
        return list(history.get(key) or [])
    return list(getattr(history, key, None) or [])


def plot_history(history, ax=None, title="LeNet on Fashion-MNIST"):
    """Train loss, train acc and test acc per epoch (d2l's Animator)."""
    ax = _new_ax((4.2, 3.0)) if ax is None else ax
    lines = {}
    for key, style in (("loss", "-"), ("train_acc", "m--"),
                       ("test_acc", "g-.")):
        ys = _get(history, key)
        if ys:
            xs = np.arange(1, len(ys) + 1)
            lines[key] = ax.plot(xs, ys, style, label=key.replace(
                "_", " "), marker="o", markersize=3)[0]
    n = max((len(_get(history, k)) for k in ("loss", "test_acc")),
            default=0)
    ax.set_xlim(0.5, max(n, 1) + 0.5)
    if n <= 12:  # one tick per epoch
        ax.set_xticks(range(1, max(n, 1) + 1))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss / accuracy")
    _title(ax, title)
    ax.grid(True, alpha=0.3)
    if lines:
        ax.legend(fontsize=8)
    return ax
