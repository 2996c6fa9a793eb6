"""Cross-correlation, convolution, padding and stride (D2L 6.2 and 6.3).

`corr2d` is the chapter's double loop (the teaching reference);
`corr2d_fast` computes the same thing for every output position at once and
adds padding, stride and dilation. Shapes follow two conventions, both
exact: the chapter's total padding (`conv_output_shape`) and PyTorch's
per-side padding (`conv_output_shape_torch`, as `nn.Conv2d(padding=p)`).
Self-check: `python -m helpers.conv` prints the chapter's worked examples.
"""
from dataclasses import dataclass
import numbers

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "Window", "corr2d", "corr2d_fast", "pad2d", "window_at", "Conv2D",
    "convolve2d", "edge_example", "learn_kernel", "conv_output_shape",
    "conv_output_shape_torch", "comp_conv2d",
]


# ---------------------------------------------------------------- checks
def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _pair(value, name, minimum=0):
    """Return (h, w) from an int or a pair of ints, each >= minimum."""
    if _is_int(value):
        pair = (int(value), int(value))
    elif (isinstance(value, (tuple, list)) and len(value) == 2
          and all(_is_int(v) for v in value)):
        pair = (int(value[0]), int(value[1]))
    else:
        raise ValueError(
            f"{name} must be an int or a pair of ints (h, w), got {value!r}")
    for v in pair:
        if v < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return pair


def _fmt(pair):
    return f"{pair[0]}×{pair[1]}"


def _as_tensor(X, name):
    if isinstance(X, torch.Tensor):
        return X
    try:
        return torch.as_tensor(X)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{name} must be a tensor, got {type(X).__name__}"
                         ) from err


def _as_matrix(X, name):
    """Check that X is a 2-D tensor (H, W) with at least one element."""
    X = _as_tensor(X, name)
    if X.dim() != 2:
        raise ValueError(f"{name} must be 2-D (height, width), got shape "
                         f"{tuple(X.shape)}; use corr2d_multi_in for "
                         "channels")
    if X.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape "
                         f"{tuple(X.shape)}")
    return X


def _common_dtype(X, K):
    """The floating dtype that X and K are computed in."""
    if X.device != K.device:
        raise ValueError(f"X is on {X.device} but K is on {K.device}; "
                         "move both to the same device")
    dtype = torch.promote_types(X.dtype, K.dtype)
    return dtype if dtype.is_floating_point else torch.get_default_dtype()


def _float_pair(X, K):
    """Bring X and K to one floating dtype on one device."""
    dtype = _common_dtype(X, K)
    return X.to(dtype), K.to(dtype)


def _out_size(n, k, p, s, d, total=False):
    """Output length along one axis, p per side (or total if `total`)."""
    eff = d * (k - 1) + 1
    padded = n + (p if total else 2 * p)
    if eff > padded:
        return None, eff, padded
    return (padded - eff) // s + 1, eff, padded


def _check_fits(size, ksize, padding, dilation, what="kernel"):
    """Raise ValueError if the (dilated) window exceeds the padded input."""
    eff = tuple(d * (k - 1) + 1 for k, d in zip(ksize, dilation))
    padded = tuple(n + 2 * p for n, p in zip(size, padding))
    if eff[0] > padded[0] or eff[1] > padded[1]:
        dil = "" if dilation == (1, 1) else \
            f" (dilated from {_fmt(ksize)} by {_fmt(dilation)})"
        raise ValueError(
            f"{what} {_fmt(eff)}{dil} is larger than the padded input "
            f"{_fmt(padded)}; use a smaller {what}, more padding or a "
            "larger input")
    return tuple((pd - e) for pd, e in zip(padded, eff))


# ------------------------------------------------- 6.2.1 cross-correlation
def corr2d(X, K):
    """Compute 2D cross-correlation with the chapter's double loop (6.2.1)."""
    X, K = _as_matrix(X, "X"), _as_matrix(K, "K")
    _check_fits(tuple(X.shape), tuple(K.shape), (0, 0), (1, 1))
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1),
                    dtype=_common_dtype(X, K), device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def pad2d(X, padding, value=0.0):
    """Pad the last two axes by `padding` on each side (6.3.1)."""
    X = _as_tensor(X, "X")
    if X.dim() < 2:
        raise ValueError(f"X must have at least 2 axes (height, width), got "
                         f"shape {tuple(X.shape)}")
    ph, pw = _pair(padding, "padding")
    if not isinstance(value, numbers.Real):
        raise ValueError(f"value must be a number, got {value!r}")
    if ph == 0 and pw == 0:
        return X
    if not X.dtype.is_floating_point and not float(value).is_integer():
        X = X.to(torch.get_default_dtype())
    shape = X.shape[:-2] + (X.shape[-2] + 2 * ph, X.shape[-1] + 2 * pw)
    Y = X.new_full(shape, value)
    Y[..., ph:ph + X.shape[-2], pw:pw + X.shape[-1]] = X
    return Y


def _strided_slice(Xp, a, b, out, stride, dilation):
    """The input values met by kernel tap (a, b) at every output position."""
    r0, c0 = a * dilation[0], b * dilation[1]
    return Xp[..., r0:r0 + stride[0] * (out[0] - 1) + 1:stride[0],
              c0:c0 + stride[1] * (out[1] - 1) + 1:stride[1]]


def corr2d_fast(X, K, padding=0, stride=1, dilation=1, method="shift"):
    """Vectorised 2D cross-correlation with padding/stride/dilation (6.3).

    X: (H, W), K: (kh, kw); padding is per side (PyTorch's convention);
    padding, stride and dilation are ints or (h, w) pairs. method='shift'
    sums kh*kw shifted, strided views of the whole input (one tensor
    operation per kernel tap, none per output position); method='unfold'
    gathers all windows (im2col) and takes one matrix product.
    Differentiable in X and K. Returns (H_out, W_out).
    """
    X, K = _as_matrix(X, "X"), _as_matrix(K, "K")
    padding = _pair(padding, "padding")
    stride = _pair(stride, "stride", 1)
    dilation = _pair(dilation, "dilation", 1)
    if method not in ("shift", "unfold"):
        raise ValueError(f"method must be 'shift' or 'unfold', got "
                         f"{method!r}")
    spare = _check_fits(tuple(X.shape), tuple(K.shape), padding, dilation)
    out = (spare[0] // stride[0] + 1, spare[1] // stride[1] + 1)
    X, K = _float_pair(X, K)
    Xp = pad2d(X, padding)
    kh, kw = K.shape
    if method == "unfold":
        cols = F.unfold(Xp[None, None], (kh, kw), dilation=dilation,
                        stride=stride)  # (1, kh*kw, H_out*W_out)
        return (K.reshape(1, -1) @ cols[0]).reshape(out)
    return _shift_corr(Xp, K, out, stride, dilation)


def _shift_corr(Xp, K, out, stride, dilation):
    """Sum over kernel taps of K[..., a, b] * shifted view of Xp.

    Xp: (..., H_pad, W_pad), K: (..., kh, kw), broadcast against each
    other; returns (..., H_out, W_out). One tensor op per tap.
    """
    kh, kw = K.shape[-2:]
    lead = torch.broadcast_shapes(Xp.shape[:-2], K.shape[:-2])
    Y = torch.zeros(lead + tuple(out), dtype=Xp.dtype, device=Xp.device)
    for a in range(kh):
        for b in range(kw):
            Y = Y.addcmul_(_strided_slice(Xp, a, b, out, stride, dilation),
                           K[..., a, b, None, None])
    return Y


@dataclass
class Window:
    """One output cell's input window (6.2.1, 6.3, 6.5)."""
    rows: list      # row indices into the padded input
    cols: list      # column indices into the padded input
    patch: torch.Tensor     # (kh, kw) padded-input values
    products: object        # patch * K, or None for pooling
    value: float            # the output cell's value


def _check_cell(i, j, out):
    for name, v, n in (("i", i, out[0]), ("j", j, out[1])):
        if not _is_int(v) or not 0 <= v < n:
            raise ValueError(f"{name} must be an int in [0, {n}) for an "
                             f"output of shape {_fmt(out)}, got {v!r}")


def _window_indices(i, j, ksize, stride, dilation):
    rows = [i * stride[0] + a * dilation[0] for a in range(ksize[0])]
    cols = [j * stride[1] + b * dilation[1] for b in range(ksize[1])]
    return rows, cols


def window_at(X, K, i, j, padding=0, stride=1, dilation=1):
    """The window, products and value behind output cell (i, j) (6.2, 6.3)."""
    X, K = _as_matrix(X, "X"), _as_matrix(K, "K")
    padding = _pair(padding, "padding")
    stride = _pair(stride, "stride", 1)
    dilation = _pair(dilation, "dilation", 1)
    spare = _check_fits(tuple(X.shape), tuple(K.shape), padding, dilation)
    _check_cell(i, j, (spare[0] // stride[0] + 1, spare[1] // stride[1] + 1))
    X, K = _float_pair(X, K)
    rows, cols = _window_indices(i, j, tuple(K.shape), stride, dilation)
    patch = pad2d(X, padding)[rows][:, cols]
    products = patch * K
    return Window(rows, cols, patch, products, float(products.sum()))


# ---------------------------------------------------- 6.2.2 conv layers
class Conv2D(nn.Module):
    """The chapter's convolutional layer: weight and bias (6.2.2)."""

    def __init__(self, kernel_size, fast=False):
        super().__init__()
        kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))
        self.fast = fast

    def forward(self, x):
        corr = corr2d_fast if self.fast else corr2d
        return corr(x, self.weight) + self.bias


def convolve2d(X, K, padding=0, stride=1, dilation=1):
    """True convolution: cross-correlation with K flipped (6.2.4)."""
    K = _as_matrix(K, "K")
    return corr2d_fast(X, torch.flip(K, (0, 1)), padding=padding,
                       stride=stride, dilation=dilation)


# -------------------------------------------- 6.2.3 the edge example
def edge_example():
    """The chapter's edge-detection example: (X, K, Y) (6.2.3)."""
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    K = torch.tensor([[1.0, -1.0]])
    return X, K, corr2d(X, K)


def learn_kernel(X, Y, kernel_size=(1, 2), lr=3e-2, num_epochs=20,
                 callback=None, K_init=None, generator=None):
    """Learn the kernel that maps X to Y with squared loss (6.2.3).

    As the chapter: Y_hat = corr(X, K), loss = sum((Y_hat - Y)**2), plain
    gradient steps with learning rate lr, no bias. K starts from K_init
    or uniform in [-1/sqrt(kh*kw), 1/sqrt(kh*kw)] (nn.Conv2d's default),
    drawn from `generator` if given. callback(epoch, loss, K) is called
    after each step (epoch counts from 1). Returns (K, losses).
    """
    X, Y = _as_matrix(X, "X"), _as_matrix(Y, "Y")
    kh, kw = _pair(kernel_size, "kernel_size", 1)
    if not _is_int(num_epochs) or num_epochs < 1:
        raise ValueError(f"num_epochs must be an int >= 1, got "
                         f"{num_epochs!r}")
    if not isinstance(lr, numbers.Real) or not lr > 0:
        raise ValueError(f"lr must be a number > 0, got {lr!r}")
    _check_fits(tuple(X.shape), (kh, kw), (0, 0), (1, 1))
    out = (X.shape[0] - kh + 1, X.shape[1] - kw + 1)
    if tuple(Y.shape) != out:
        raise ValueError(f"Y has shape {_fmt(tuple(Y.shape))} but X "
                         f"{_fmt(tuple(X.shape))} with a {kh}×{kw} kernel "
                         f"gives {_fmt(out)}")
    dtype = torch.promote_types(X.dtype, Y.dtype)
    if not dtype.is_floating_point:
        dtype = torch.get_default_dtype()
    X, Y = X.to(dtype), Y.to(dtype)
    if K_init is None:
        bound = 1 / (kh * kw) ** 0.5
        K = (torch.rand((kh, kw), generator=generator, dtype=dtype) * 2
             - 1) * bound
        K = K.to(X.device)
    else:
        K = _as_matrix(K_init, "K_init").detach().to(X.device, dtype)
        if tuple(K.shape) != (kh, kw):
            raise ValueError(f"K_init has shape {_fmt(tuple(K.shape))} but "
                             f"kernel_size is {kh}×{kw}")
        K = K.clone()
    K.requires_grad_(True)
    losses = []
    for epoch in range(num_epochs):
        loss = ((corr2d_fast(X, K) - Y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            K -= lr * K.grad
        K.grad = None
        losses.append(loss.item())
        if callback is not None:
            callback(epoch + 1, losses[-1], K.detach().clone())
    return K.detach(), losses


# ------------------------------------------- 6.3 padding and stride
def _output_shape(n, k, p, s, d, total):
    any_pair = not all(_is_int(v) for v in (n, k, p, s, d))
    n = _pair(n, "n (input size)", 1)
    k = _pair(k, "k (kernel size)", 1)
    p = _pair(p, "p (total padding)" if total else "padding")
    s = _pair(s, "s (stride)" if total else "stride", 1)
    d = _pair(d, "d (dilation)" if total else "dilation", 1)
    sizes = [_out_size(n[a], k[a], p[a], s[a], d[a], total=total)
             for a in range(2)]
    if any(size is None for size, _, _ in sizes):
        eff = tuple(e for _, e, _ in sizes)
        padded = tuple(q for _, _, q in sizes)
        shown = (_fmt(eff), _fmt(padded)) if any_pair else (eff[0],
                                                            padded[0])
        raise ValueError(f"kernel {shown[0]} is larger than the padded "
                         f"input {shown[1]}; use a smaller kernel, more "
                         "padding or a larger input")
    result = tuple(size for size, _, _ in sizes)
    return result if any_pair else result[0]


def conv_output_shape(n, k, p, s, d=1):
    """Output size floor((n - k + p + s) / s), p = TOTAL padding (6.3.2).

    The chapter's formula; with dilation d the kernel spans
    k' = d*(k-1)+1. Ints, or (h, w) pairs (then returns a tuple).
    """
    return _output_shape(n, k, p, s, d, total=True)


def conv_output_shape_torch(n, k, padding=0, stride=1, dilation=1):
    """Output size with PyTorch's per-side padding, as nn.Conv2d (6.3)."""
    return _output_shape(n, k, padding, stride, dilation, total=False)


def comp_conv2d(conv2d, X):
    """Apply conv2d to a 2-D X via a (1, 1, H, W) batch (6.3.1)."""
    X = _as_matrix(X, "X")
    if isinstance(conv2d, nn.Conv2d):
        if conv2d.in_channels not in (0, 1):  # 0: lazy, not yet built
            raise ValueError(f"conv2d expects {conv2d.in_channels} input "
                             "channels but comp_conv2d feeds 1")
        if isinstance(conv2d.padding, str):
            padding = (0, 0) if conv2d.padding == "valid" else None
        else:
            padding = tuple(conv2d.padding)
        if padding is not None:
            _check_fits(tuple(X.shape), tuple(conv2d.kernel_size), padding,
                        tuple(conv2d.dilation))
    # (N, C, H, W) = (1, 1, H, W)
    X = X.reshape((1, 1) + X.shape)
    Y = conv2d(X)
    if Y.shape[1] != 1:
        return Y[0]
    return Y.reshape(Y.shape[2:])


if __name__ == "__main__":
    X, K, Y = edge_example()
    print("edge example Y =\n", Y)
    for kw in (dict(kernel_size=3, padding=1),
               dict(kernel_size=(5, 3), padding=(2, 1)),
               dict(kernel_size=3, padding=1, stride=2),
               dict(kernel_size=(3, 5), padding=(0, 1), stride=(3, 4))):
        conv = nn.Conv2d(1, 1, **kw)
        print(kw, tuple(comp_conv2d(conv, torch.rand(8, 8)).shape))
