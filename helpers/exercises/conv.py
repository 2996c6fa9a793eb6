"""Checkers for the exercises of sections 6.1 and 6.2.

    from helpers.exercises.conv import check_corr2d_as_matmul
    check_corr2d_as_matmul(my_fn)   # prints ✓ or ✗ with a hint

Each checker tries the learner's answer on fresh random cases drawn from
its own generator (the global seed is left alone), never raises on a
wrong answer, and returns True or False.
"""
import math

import torch
import torch.nn.functional as F

from helpers.conv import corr2d_fast
from helpers.exercises.common import report

__all__ = [
    "check_pixelwise_linear", "check_conv1d", "check_diagonal_edge_image",
    "check_diagonal_edge_kernel", "check_conv2d_grad",
    "check_corr2d_as_matmul", "check_second_derivative_kernel",
    "check_derivative_kernel",
]


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _close(a, b, atol=1e-4):
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    return a.shape == b.shape and torch.allclose(a, b, atol=atol, rtol=1e-4)


def _as_kernel(K, what="K"):
    """The learner's kernel as a float 2-D tensor (1-D becomes one row)."""
    if K is None:
        raise ValueError(f"{what} is None: replace the placeholder")
    K = torch.as_tensor(K, dtype=torch.float32).detach()
    if K.dim() == 1:
        K = K.reshape(1, -1)
    if K.dim() != 2 or K.numel() == 0:
        raise ValueError(f"{what} must be a 2-D tensor, got shape "
                         f"{tuple(K.shape)}")
    return K


def _call(fn, *args):
    """fn(*args) or the error message (never raises)."""
    if not callable(fn):
        return None, f"expected a function, got {type(fn).__name__}"
    try:
        return fn(*args), None
    except Exception as e:  # the learner's bug: report it, don't crash
        return None, f"it raised {type(e).__name__}: {e}"


# ------------------------------------------------------------------ 6.1
def check_pixelwise_linear(fn, seed=0):
    """6.1 ex. 1: with Delta = 0, fn(X, V) is a per-pixel linear layer.

    X: (c_i, h, w), V: (c_o, c_i); the answer is (c_o, h, w) with
    H[d, i, j] = sum_c V[d, c] X[c, i, j], i.e. a 1 x 1 convolution.
    """
    g = _gen(seed)
    for c_i, c_o, h, w in ((3, 2, 4, 5), (1, 4, 3, 3), (5, 1, 2, 6)):
        X = torch.randn((c_i, h, w), generator=g)
        V = torch.randn((c_o, c_i), generator=g)
        want = F.conv2d(X[None], V[:, :, None, None])[0]
        got, err = _call(fn, X, V)
        if err or got is None or not _close(got, want):
            shape = None if got is None else tuple(
                torch.as_tensor(got).shape)
            hint = err or ("expected shape (c_o, h, w) = "
                           f"{tuple(want.shape)}, each pixel's channels "
                           f"multiplied by V (got {shape})")
            return report(False, "Delta = 0 is a per-pixel linear layer",
                          hint)
    return report(True, "Delta = 0 is a per-pixel linear layer "
                  "(a 1 x 1 convolution)")


def _full_conv1d(f, g):
    """Reference (f * g)[i] = sum_a f[a] g[i - a], length n + m - 1."""
    f = torch.as_tensor(f, dtype=torch.float64)
    g = torch.as_tensor(g, dtype=torch.float64)
    out = F.conv1d(f.reshape(1, 1, -1),
                   torch.flip(g, (0,)).reshape(1, 1, -1),
                   padding=len(g) - 1)
    return out.reshape(-1)


def check_conv1d(fn, seed=0):
    """6.1 ex. 6: fn(f, g) is the discrete convolution, and f*g = g*f."""
    gen = _gen(seed)
    for n, m in ((5, 3), (4, 4), (1, 6), (7, 2)):
        f = torch.randn(n, generator=gen, dtype=torch.float64)
        g = torch.randn(m, generator=gen, dtype=torch.float64)
        want = _full_conv1d(f, g)
        got, err = _call(fn, f, g)
        if err or got is None or not _close(got, want):
            return report(False, "discrete convolution (f * g)",
                          err or "expected (f*g)[i] = sum_a f[a] g[i-a] "
                          f"for i = 0..n+m-2 ({n + m - 1} values)")
        swapped, err = _call(fn, g, f)
        if err or swapped is None or not _close(swapped, got):
            return report(False, "f * g = g * f",
                          err or "fn(g, f) differs from fn(f, g)")
    return report(True, "discrete convolution, and f * g = g * f")


# ------------------------------------------------------------------ 6.2
def _diagonal_images(gen, count=4):
    """Fresh diagonal-edge images: staircases in all four orientations."""
    out = []
    for k in range(count):
        n = int(torch.randint(5, 10, (1,), generator=gen))
        offset = int(torch.randint(-1, 2, (1,), generator=gen))
        X = torch.tril(torch.ones((n, n)), diagonal=offset)
        if k % 2:
            X = torch.fliplr(X)
        if k % 4 >= 2:
            X = 1 - X
        out.append(X)
    return out


def _straight_edges(gen, count=4):
    """Fresh vertical and horizontal edge images and a constant one."""
    out = [torch.full((6, 7), 0.5)]
    for k in range(count):
        h, w = (int(v) for v in torch.randint(5, 10, (2,), generator=gen))
        X = torch.zeros((h, w))
        c = int(torch.randint(1, w - 1, (1,), generator=gen))
        X[:, c:] = 1
        out.append(X if k % 2 else X.T.contiguous())
    return out


def _is_diagonal_edge(X):
    """Rows switch value at most once; the switch moves one column a row.

    Rows without a switch (the staircase's first or last) may only sit
    at the top or the bottom.
    """
    Y = corr2d_fast(X, torch.tensor([[1.0, -1.0]]))
    steps = []  # (row, column of the switch)
    for r, row in enumerate(Y):
        nz = torch.nonzero(row.abs() > 1e-6).flatten()
        if len(nz) > 1:
            return False
        if len(nz) == 1:
            steps.append((r, int(nz[0])))
    if len(steps) < 3:
        return False
    rows = [r for r, _ in steps]
    moves = {b[1] - a[1] for a, b in zip(steps, steps[1:])}
    return rows == list(range(rows[0], rows[-1] + 1)) and \
        moves in ({1}, {-1})


def check_diagonal_edge_image(X):
    """6.2 ex. 1: X is an image with one diagonal edge (a staircase)."""
    try:
        X = _as_kernel(X, "X").float()
    except (ValueError, TypeError, RuntimeError) as e:
        return report(False, "an image with a diagonal edge", str(e))
    ok = min(X.shape) >= 3 and _is_diagonal_edge(X)
    return report(ok, f"X {tuple(X.shape)} has one diagonal edge",
                  "each row should switch between two values at most "
                  "once, one column further right (or left) per row, "
                  "e.g. torch.tril(torch.ones((6, 6)))")


def check_diagonal_edge_kernel(K, seed=0):
    """6.2 ex. 1 (extension): K sees diagonal edges, not straight ones."""
    try:
        K = _as_kernel(K)
    except (ValueError, TypeError, RuntimeError) as e:
        return report(False, "a kernel for diagonal edges only", str(e))
    gen = _gen(seed)
    if min(K.shape) < 2:
        return report(False, "a kernel for diagonal edges only",
                      f"K is {tuple(K.shape)}: a single row or column "
                      "differentiates along one axis, so it responds to "
                      "vertical or horizontal edges; try 2 x 2")
    for X in _straight_edges(gen):
        if K.shape[0] > X.shape[0] or K.shape[1] > X.shape[1]:
            continue
        if corr2d_fast(X, K).abs().max() > 1e-5:
            return report(False, "a kernel for diagonal edges only",
                          "K responds to a vertical, horizontal or flat "
                          "image: its rows and its columns must each sum "
                          "to 0")
    for X in _diagonal_images(gen):
        if corr2d_fast(X, K).abs().max() < 1e-5:
            return report(False, "a kernel for diagonal edges only",
                          "K gives 0 on a diagonal edge too: it must "
                          "not be all zeros")
    return report(True, "K finds diagonal edges and ignores vertical, "
                  "horizontal and flat regions")


def check_conv2d_grad(layer_cls, seed=0):
    """6.2 ex. 2: the layer's autograd gradient matches nn.functional."""
    gen = _gen(seed)
    X = torch.randn((6, 8), generator=gen)
    Y = torch.randn((6, 7), generator=gen)
    K = torch.randn((1, 2), generator=gen)
    layer, err = _call(layer_cls, (1, 2))
    if err:
        return report(False, "Conv2D's gradient", err)
    try:
        with torch.no_grad():
            layer.weight.copy_(K)
            layer.bias.zero_()
        layer.zero_grad()
        ((layer(X) - Y) ** 2).sum().backward()
        got = layer.weight.grad
    except Exception as e:
        return report(False, "Conv2D's gradient",
                      f"forward/backward raised {type(e).__name__}: {e}")
    Kr = K.clone().requires_grad_(True)
    ((F.conv2d(X[None, None], Kr[None, None])[0, 0] - Y) ** 2
     ).sum().backward()
    return report(got is not None and _close(got, Kr.grad),
                  "Conv2D's weight gradient equals F.conv2d's",
                  "weight.grad is missing or differs: keep the forward "
                  "pass in torch operations so autograd can follow it")


def check_corr2d_as_matmul(fn, seed=0):
    """6.2 ex. 3: fn(X, K) computes corr2d via one matrix product."""
    gen = _gen(seed)
    for (h, w), (kh, kw) in (((3, 3), (2, 2)), ((6, 8), (1, 2)),
                             ((5, 4), (3, 2)), ((4, 7), (4, 1))):
        X = torch.randn((h, w), generator=gen)
        K = torch.randn((kh, kw), generator=gen)
        want = corr2d_fast(X, K)
        got, err = _call(fn, X, K)
        if err or got is None or not _close(got, want):
            shape = None if got is None else tuple(
                torch.as_tensor(got).shape)
            return report(False, "cross-correlation as a matrix product",
                          err or f"for X {h}x{w}, K {kh}x{kw} expected "
                          f"shape {tuple(want.shape)} equal to corr2d, got "
                          f"{shape}; stack every window of X as a row "
                          "(or build a matrix from K) and multiply")
    return report(True, "cross-correlation as a matrix product")


def _poly_rows(gen, degree, n=9, rows=3):
    """Rows of random polynomials of `degree`; returns (X, leading)."""
    x = torch.arange(n, dtype=torch.float64)
    coeffs = torch.randn((rows, degree + 1), generator=gen,
                         dtype=torch.float64)
    X = sum(coeffs[:, p:p + 1] * x ** p for p in range(degree + 1))
    return X, coeffs[:, degree]


def _derivative_ok(K, degree, gen):
    """K applied along rows gives degree! * leading coefficient."""
    if K.shape[0] != 1:
        K = K.T  # a column kernel: test it along the columns instead
        if K.shape[0] != 1:
            return False
    X, lead = _poly_rows(gen, degree, n=max(9, K.shape[1] + 2))
    Y = corr2d_fast(X, K.double())
    want = math.factorial(degree) * lead[:, None].expand_as(Y)
    return torch.allclose(Y, want, atol=1e-6 * (1 + want.abs().max()))


def check_second_derivative_kernel(K, seed=0):
    """6.2 ex. 4.1: K turns every quadratic a x^2+bx+c into 2a."""
    try:
        K = _as_kernel(K)
    except (ValueError, TypeError, RuntimeError) as e:
        return report(False, "a second-derivative kernel", str(e))
    ok = _derivative_ok(K, 2, _gen(seed))
    return report(ok, f"K {K.flatten().tolist()} is a second derivative",
                  "on f(x) = a x^2 + b x + c sampled at x = 0, 1, 2, ... "
                  "the output should be 2a everywhere; apply the "
                  "difference [-1, 1] twice")


def check_derivative_kernel(fn, max_degree=5, seed=0):
    """6.2 ex. 4.3: fn(d) is a minimal kernel for the d-th derivative."""
    gen = _gen(seed)
    for d in range(1, max_degree + 1):
        K, err = _call(fn, d)
        try:
            K = _as_kernel(K, f"fn({d})") if not err else None
        except (ValueError, TypeError, RuntimeError) as e:
            err = str(e)
        if err:
            return report(False, "d-th derivative kernels", err)
        if not _derivative_ok(K, d, gen):
            return report(False, f"fn({d}) is a derivative of order {d}",
                          f"on a degree-{d} polynomial with leading "
                          f"coefficient a it should give {d}! * a; "
                          "apply the difference [-1, 1] d times (mind "
                          "the sign: correlating with [-1, 1] gives "
                          "f(x+1) - f(x))")
        if K.numel() != d + 1:
            return report(False, f"fn({d}) is as small as possible",
                          f"it has {K.numel()} entries; d + 1 = {d + 1} "
                          "suffice (and fewer cannot work)")
    return report(True, f"fn(d) is a minimal d-th derivative kernel for "
                  f"d = 1..{max_degree} (size d + 1)")
