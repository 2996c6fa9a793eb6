"""Checkers of the 6.1 and 6.2 exercises: accept right, reject wrong."""
from math import comb

import pytest
import torch
import torch.nn.functional as F

import helpers.exercises.conv as ex
from helpers.conv import Conv2D, corr2d


def _verdict(capsys, result, ok):
    out = capsys.readouterr().out
    assert result is ok
    assert out.startswith("✓" if ok else "✗"), out
    if not ok:
        assert "hint:" in out
    return out


# ------------------------------------------------------------------ 6.1
def _pixelwise_right(X, V):
    return torch.einsum("dc,chw->dhw", V, X)


@pytest.mark.parametrize("fn, ok", [
    (_pixelwise_right, True),
    (lambda X, V: (V @ X.flatten(1)).reshape(-1, *X.shape[1:]), True),
    (lambda X, V: X, False),                      # no mixing at all
    (lambda X, V: _pixelwise_right(X, V) + 1, False),
    (lambda X, V: _pixelwise_right(X, V).transpose(1, 2), False),
    (lambda X, V: None, False),
    (lambda X, V: 1 / 0, False),                  # a crash is reported
    ("not a function", False),
])
def test_check_pixelwise_linear(capsys, fn, ok):
    _verdict(capsys, ex.check_pixelwise_linear(fn), ok)


def _conv1d_loop(f, g):
    out = torch.zeros(len(f) + len(g) - 1, dtype=f.dtype)
    for i in range(len(out)):
        for a in range(len(f)):
            if 0 <= i - a < len(g):
                out[i] += f[a] * g[i - a]
    return out


@pytest.mark.parametrize("fn, ok", [
    (_conv1d_loop, True),
    (lambda f, g: F.conv1d(f.reshape(1, 1, -1), g.flip(0).reshape(1, 1, -1),
                           padding=len(g) - 1).reshape(-1), True),
    # cross-correlation: right length, flipped kernel
    (lambda f, g: F.conv1d(f.reshape(1, 1, -1), g.reshape(1, 1, -1),
                           padding=len(g) - 1).reshape(-1), False),
    (lambda f, g: _conv1d_loop(f, g)[:-1], False),
    (lambda f, g: None, False),
])
def test_check_conv1d(capsys, fn, ok):
    _verdict(capsys, ex.check_conv1d(fn), ok)


# ------------------------------------------------------------------ 6.2
@pytest.mark.parametrize("X, ok", [
    (torch.tril(torch.ones((6, 6))), True),
    (torch.triu(torch.ones((7, 7))), True),
    (torch.fliplr(torch.tril(torch.ones((5, 5)))), True),
    (1 - torch.tril(torch.ones((8, 8)), diagonal=1), True),
    (torch.tril(torch.ones((6, 9)), diagonal=2) * 3.0, True),
    (torch.ones((6, 8)), False),                  # flat
    (torch.eye(6), False),                        # a line: two switches
    (torch.ones(6, 8) - torch.eye(6, 8), False),
    (torch.tril(torch.ones((6, 6)))[:, [0, 2, 1, 3, 4, 5]], False),
    (torch.zeros(2, 2), False),
    (None, False),
    ("text", False),
])
def test_check_diagonal_edge_image(capsys, X, ok):
    _verdict(capsys, ex.check_diagonal_edge_image(X), ok)


def test_diagonal_edge_image_vertical_edges_rejected(capsys):
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    _verdict(capsys, ex.check_diagonal_edge_image(X), False)


@pytest.mark.parametrize("K, ok", [
    (torch.tensor([[1.0, -1.0], [-1.0, 1.0]]), True),
    (torch.tensor([[-2.0, 2.0], [2.0, -2.0]]), True),
    (torch.tensor([[1.0, -2.0, 1.0], [-1.0, 2.0, -1.0]]), True),
    (torch.tensor([[1.0, -1.0]]), False),        # sees vertical edges
    (torch.tensor([[1.0], [-1.0]]), False),      # sees horizontal edges
    (torch.tensor([[1.0, 0.0], [0.0, -1.0]]), False),
    (torch.zeros((2, 2)), False),                # sees nothing at all
    (torch.ones((3, 3)) / 9, False),             # blur: flat regions
    (None, False),
])
def test_check_diagonal_edge_kernel(capsys, K, ok):
    _verdict(capsys, ex.check_diagonal_edge_kernel(K), ok)


def test_check_diagonal_edge_kernel_agrees_with_corr2d():
    # the accepted kernel really is 0 on straight edges, non-zero on a
    # diagonal one (independent of the checker's own images)
    K = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    assert corr2d(X, K).abs().max() == 0
    assert corr2d(X.t(), K).abs().max() == 0
    assert corr2d(torch.tril(torch.ones((6, 6))), K).abs().max() == 1


class _NoGradConv2D(Conv2D):
    """Detaches its output: autograd cannot reach the weight."""

    def forward(self, x):
        return super().forward(x).detach().requires_grad_(True)


class _WrongGradConv2D(Conv2D):
    """Convolves (flipped kernel) instead of correlating."""

    def forward(self, x):
        return corr2d(x, self.weight.flip((0, 1))) + self.bias


@pytest.mark.parametrize("cls, ok", [
    (Conv2D, True),
    (_NoGradConv2D, False),
    (_WrongGradConv2D, False),
    (lambda kernel_size: None, False),
    (None, False),
])
def test_check_conv2d_grad(capsys, cls, ok):
    _verdict(capsys, ex.check_conv2d_grad(cls), ok)


def _matmul_windows(X, K):
    h, w = K.shape
    oh, ow = X.shape[0] - h + 1, X.shape[1] - w + 1
    rows = torch.stack([X[i:i + h, j:j + w].reshape(-1)
                        for i in range(oh) for j in range(ow)])
    return (rows @ K.reshape(-1)).reshape(oh, ow)


def _matmul_unfold(X, K):
    cols = F.unfold(X[None, None], K.shape)[0]  # (kh*kw, L)
    oh, ow = X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1
    return (K.reshape(1, -1) @ cols).reshape(oh, ow)


@pytest.mark.parametrize("fn, ok", [
    (_matmul_windows, True),
    (_matmul_unfold, True),
    (corr2d, True),                               # same numbers
    (lambda X, K: _matmul_windows(X, K.flip((0, 1))), False),  # convolve
    (lambda X, K: _matmul_windows(X.T, K.T), False),
    (lambda X, K: None, False),
    (lambda X, K: X @ K, False),                  # crashes on shapes
])
def test_check_corr2d_as_matmul(capsys, fn, ok):
    _verdict(capsys, ex.check_corr2d_as_matmul(fn), ok)


@pytest.mark.parametrize("K, ok", [
    (torch.tensor([[1.0, -2.0, 1.0]]), True),
    (torch.tensor([1.0, -2.0, 1.0]), True),       # 1-D is one row
    (torch.tensor([[1.0], [-2.0], [1.0]]), True),  # along the columns
    (torch.tensor([[0.25, 0.0, -0.5, 0.0, 0.25]]), True),  # spacing 2
    (torch.tensor([[-1.0, 1.0]]), False),         # first derivative
    (torch.tensor([[-1.0, 2.0, -1.0]]), False),   # wrong sign
    (torch.tensor([[1.0, -2.0], [1.0, 0.0]]), False),
    (None, False),
])
def test_check_second_derivative_kernel(capsys, K, ok):
    _verdict(capsys, ex.check_second_derivative_kernel(K), ok)


def test_second_derivative_checker_uses_quadratics():
    # oracle: [1, -2, 1] maps 3x^2 + x + 1 to 6 everywhere
    x = torch.arange(8.0)
    Y = corr2d((3 * x ** 2 + x + 1).reshape(1, -1),
               torch.tensor([[1.0, -2.0, 1.0]]))
    assert torch.allclose(Y, torch.full_like(Y, 6.0))


def _binomial(d):
    return torch.tensor([[(-1.0) ** (d - k) * comb(d, k)
                          for k in range(d + 1)]])


def _too_big(d):
    # d-th derivative but with one extra (zero) tap: not minimal
    return torch.cat([_binomial(d), torch.zeros((1, 1))], dim=1)


@pytest.mark.parametrize("fn, ok, part", [
    (_binomial, True, "minimal"),
    (_too_big, False, "as small as possible"),
    (lambda d: -_binomial(d), False, "order 1"),
    (lambda d: torch.tensor([[-1.0, 1.0]]), False, "order 2"),
    (lambda d: None, False, "None"),
    (lambda d: 1 / 0, False, "ZeroDivisionError"),
])
def test_check_derivative_kernel(capsys, fn, ok, part):
    out = _verdict(capsys, ex.check_derivative_kernel(fn), ok)
    assert part in out


def test_checkers_leave_the_global_seed_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    ex.check_corr2d_as_matmul(_matmul_windows)
    ex.check_diagonal_edge_kernel(torch.tensor([[1.0, -1.0], [-1.0, 1.0]]))
    assert torch.equal(torch.rand(3), expected)
