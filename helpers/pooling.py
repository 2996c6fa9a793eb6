"""Maximum and average pooling from scratch (D2L 6.5).

`pool2d_loop` is the chapter's double loop (stride 1); `pool2d` adds
padding, stride (default: the window, as nn.MaxPool2d) and channels and
agrees with F.max_pool2d / F.avg_pool2d (zero padding counted in the
average, PyTorch's default).
"""
import torch

from .conv import (Window, _as_matrix, _as_tensor, _check_cell, _fmt,
                   _is_int, _pair, _window_indices, pad2d)

__all__ = ["pool2d_loop", "pool2d", "pool_output_shape", "pool_window_at"]

_MODES = ("max", "avg")


def _check_mode(mode):
    if mode not in _MODES:
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")


def _pool_args(pool_size, padding, stride):
    """Validate and normalise pool_size, padding and stride to pairs."""
    pool_size = _pair(pool_size, "pool_size", 1)
    padding = _pair(padding, "padding")
    stride = pool_size if stride is None else _pair(stride, "stride", 1)
    for p, k in zip(padding, pool_size):
        if 2 * p > k:
            raise ValueError(
                f"padding must be at most half the pool size (PyTorch's "
                f"rule), got padding {_fmt(padding)} for pool size "
                f"{_fmt(pool_size)}; use padding <= pool_size // 2")
    return pool_size, padding, stride


def _pool_out(size, pool_size, padding, stride):
    padded = tuple(n + 2 * p for n, p in zip(size, padding))
    if pool_size[0] > padded[0] or pool_size[1] > padded[1]:
        raise ValueError(
            f"pool window {_fmt(pool_size)} is larger than the padded "
            f"input {_fmt(padded)}; use a smaller pool_size or a larger "
            "input")
    return tuple((q - k) // s + 1
                 for q, k, s in zip(padded, pool_size, stride))


def pool_output_shape(n, pool_size, padding=0, stride=None):
    """Pooling output size, per-side padding, stride = window (6.5)."""
    given = (n, pool_size, padding) + (() if stride is None else (stride,))
    any_pair = not all(_is_int(v) for v in given)
    size = _pair(n, "n (input size)", 1)
    out = _pool_out(size, *_pool_args(pool_size, padding, stride))
    return out if any_pair else out[0]


def pool2d_loop(X, pool_size, mode="max"):
    """The chapter's pooling double loop, stride 1 (6.5.1)."""
    X = _as_matrix(X, "X")
    _check_mode(mode)
    p_h, p_w = _pair(pool_size, "pool_size", 1)
    _pool_out(tuple(X.shape), (p_h, p_w), (0, 0), (1, 1))
    dtype = X.dtype if X.dtype.is_floating_point else \
        torch.get_default_dtype()
    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1),
                    dtype=dtype, device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            if mode == "max":
                Y[i, j] = X[i: i + p_h, j: j + p_w].max()
            elif mode == "avg":
                Y[i, j] = X[i: i + p_h, j: j + p_w].to(dtype).mean()
    return Y


def pool2d(X, pool_size, mode="max", padding=0, stride=None):
    """Max or average pooling with padding, stride, channels (6.5).

    X: (H, W), (C, H, W) or (N, C, H, W); each channel is pooled on its
    own (6.5.3). pool_size, padding (per side) and stride are ints or
    (h, w) pairs; stride defaults to pool_size. Max pooling pads with
    -inf, average pooling with zeros that count in the mean.
    """
    X = _as_tensor(X, "X")
    _check_mode(mode)
    if X.dim() not in (2, 3, 4) or X.numel() == 0:
        raise ValueError(f"X must be a non-empty (H, W), (C, H, W) or "
                         f"(N, C, H, W) tensor, got shape {tuple(X.shape)}")
    pool_size, padding, stride = _pool_args(pool_size, padding, stride)
    out = _pool_out(tuple(X.shape[-2:]), pool_size, padding, stride)
    if not X.dtype.is_floating_point:
        X = X.to(torch.get_default_dtype())
    fill = float("-inf") if mode == "max" else 0.0
    Xp = pad2d(X, padding, fill)
    # (..., H_out, W_out, p_h, p_w) view of every window, no copy
    windows = Xp.unfold(-2, pool_size[0], stride[0]).unfold(
        -2, pool_size[1], stride[1])
    windows = windows[..., :out[0], :out[1], :, :]
    if mode == "max":
        return windows.amax(dim=(-2, -1))
    return windows.mean(dim=(-2, -1))


def pool_window_at(X, pool_size, i, j, mode="max", padding=0, stride=None):
    """The window and value behind pooled output cell (i, j) (6.5)."""
    X = _as_matrix(X, "X")
    _check_mode(mode)
    pool_size, padding, stride = _pool_args(pool_size, padding, stride)
    out = _pool_out(tuple(X.shape), pool_size, padding, stride)
    _check_cell(i, j, out)
    if not X.dtype.is_floating_point:
        X = X.to(torch.get_default_dtype())
    fill = float("-inf") if mode == "max" else 0.0
    rows, cols = _window_indices(i, j, pool_size, stride, (1, 1))
    patch = pad2d(X, padding, fill)[rows][:, cols]
    value = patch.max() if mode == "max" else patch.mean()
    return Window(rows, cols, patch, None, float(value))
