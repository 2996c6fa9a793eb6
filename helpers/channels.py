"""Multiple input and output channels, 1×1 convolutions (D2L 6.4).

The chapter's three functions, computed like `corr2d_fast` (same values
as the loop `corr2d`, all channels at once: fast enough for widgets),
plus parameter and multiply-accumulate counts for conv and fully
connected layers (6.1, 6.4).
"""
import torch

from .conv import (_as_tensor, _check_fits, _float_pair, _fmt, _is_int,
                   _pair, _shift_corr, pad2d)

__all__ = ["corr2d_multi_in", "corr2d_multi_in_out",
           "corr2d_multi_in_out_1x1", "conv_param_count", "fc_param_count",
           "conv_macs"]


def _check_dims(T, name, dims, layout):
    T = _as_tensor(T, name)
    if T.dim() != dims or T.numel() == 0:
        raise ValueError(f"{name} must be a non-empty {layout} tensor, got "
                         f"shape {tuple(T.shape)}")
    return T


def _check_channels(X, K):
    if X.shape[0] != K.shape[-3]:
        raise ValueError(f"X has {X.shape[0]} channels but K expects "
                         f"{K.shape[-3]}; make c_i agree")


def _corr_channels(X, K, padding, stride, dilation):
    """Per-channel cross-correlations, all channels at once.

    X: (c_i, H, W), K: (..., c_i, kh, kw) -> (..., c_i, H_out, W_out).
    """
    padding = _pair(padding, "padding")
    stride = _pair(stride, "stride", 1)
    dilation = _pair(dilation, "dilation", 1)
    spare = _check_fits(tuple(X.shape[-2:]), tuple(K.shape[-2:]), padding,
                        dilation)
    out = (spare[0] // stride[0] + 1, spare[1] // stride[1] + 1)
    X, K = _float_pair(X, K)
    return _shift_corr(pad2d(X, padding), K, out, stride, dilation)


def corr2d_multi_in(X, K, padding=0, stride=1, dilation=1):
    """Sum the per-channel cross-correlations (6.4.1).

    X: (c_i, H, W), K: (c_i, kh, kw) -> (H_out, W_out). The same sum as
    the chapter's `sum(corr2d(x, k) for x, k in zip(X, K))`, with every
    channel computed at once (padding, stride, dilation as corr2d_fast).
    """
    X = _check_dims(X, "X", 3, "(c_i, H, W)")
    K = _check_dims(K, "K", 3, "(c_i, kh, kw)")
    _check_channels(X, K)
    return _corr_channels(X, K, padding, stride, dilation).sum(0)


def corr2d_multi_in_out(X, K, padding=0, stride=1, dilation=1):
    """One multi-input correlation per output channel (6.4.2).

    X: (c_i, H, W), K: (c_o, c_i, kh, kw) -> (c_o, H_out, W_out), as the
    chapter's `torch.stack([corr2d_multi_in(X, k) for k in K], 0)`.
    """
    X = _check_dims(X, "X", 3, "(c_i, H, W)")
    K = _check_dims(K, "K", 4, "(c_o, c_i, kh, kw)")
    _check_channels(X, K)
    return _corr_channels(X, K, padding, stride, dilation).sum(1)


def corr2d_multi_in_out_1x1(X, K):
    """A 1×1 convolution as a matrix product over channels (6.4.3).

    X: (c_i, H, W), K: (c_o, c_i, 1, 1) or (c_o, c_i) -> (c_o, H, W).
    """
    X = _check_dims(X, "X", 3, "(c_i, H, W)")
    K = _as_tensor(K, "K")
    if K.dim() == 4 and tuple(K.shape[2:]) != (1, 1):
        raise ValueError(f"K must be a 1×1 kernel, got "
                         f"{_fmt(tuple(K.shape[2:]))}; use "
                         "corr2d_multi_in_out for larger kernels")
    if K.dim() not in (2, 4) or K.numel() == 0:
        raise ValueError(f"K must be (c_o, c_i, 1, 1) or (c_o, c_i), got "
                         f"shape {tuple(K.shape)}")
    if X.shape[0] != K.shape[1]:
        raise ValueError(f"X has {X.shape[0]} channels but K expects "
                         f"{K.shape[1]}; make c_i agree")
    X, K = _float_pair(X, K)
    c_i, h, w = X.shape
    c_o = K.shape[0]
    X = X.reshape((c_i, h * w))
    K = K.reshape((c_o, c_i))
    # Matrix multiplication in the fully connected layer
    Y = torch.matmul(K, X)
    return Y.reshape((c_o, h, w))


def _count(value, name, minimum=1):
    if not _is_int(value) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got "
                         f"{value!r}")
    return int(value)


def conv_param_count(c_i, c_o, k_h, k_w, bias=True):
    """Weights (+ biases) of a conv layer: c_o*c_i*k_h*k_w (+ c_o) (6.4)."""
    c_i, c_o = _count(c_i, "c_i"), _count(c_o, "c_o")
    k_h, k_w = _count(k_h, "k_h"), _count(k_w, "k_w")
    return c_o * c_i * k_h * k_w + (c_o if bias else 0)


def fc_param_count(n_in, n_out, bias=True):
    """Weights (+ biases) of a fully connected layer (6.1)."""
    n_in, n_out = _count(n_in, "n_in"), _count(n_out, "n_out")
    return n_in * n_out + (n_out if bias else 0)


def conv_macs(c_i, c_o, h, w, k_h, k_w, padding=0, stride=1):
    """Multiply-accumulates of one conv forward pass on h×w (6.4.3)."""
    c_i, c_o = _count(c_i, "c_i"), _count(c_o, "c_o")
    size = (_count(h, "h"), _count(w, "w"))
    ksize = (_count(k_h, "k_h"), _count(k_w, "k_w"))
    padding = _pair(padding, "padding")
    stride = _pair(stride, "stride", 1)
    spare = _check_fits(size, ksize, padding, (1, 1))
    out_h, out_w = (spare[0] // stride[0] + 1, spare[1] // stride[1] + 1)
    return c_o * out_h * out_w * c_i * ksize[0] * ksize[1]
