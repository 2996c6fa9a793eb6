"""Tests for helpers.conv (6.2, 6.3); torch's F.conv2d is the oracle."""
import random

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from helpers.conv import (Conv2D, comp_conv2d, conv_output_shape,
                          conv_output_shape_torch, convolve2d, corr2d,
                          corr2d_fast, edge_example, learn_kernel, pad2d,
                          window_at)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def torch_corr(X, K, padding=0, stride=1, dilation=1):
    """The oracle: F.conv2d on (1, 1, H, W); None if torch refuses."""
    try:
        Y = F.conv2d(X[None, None], K[None, None], padding=padding,
                     stride=stride, dilation=dilation)
    except RuntimeError:
        return None
    return None if Y.numel() == 0 else Y[0, 0]


def random_config(rng):
    pair = lambda lo, hi: (rng.randint(lo, hi), rng.randint(lo, hi))
    one = lambda lo, hi: rng.randint(lo, hi)
    choose = lambda lo, hi: one(lo, hi) if rng.random() < 0.5 else \
        pair(lo, hi)
    return dict(size=pair(1, 11), ksize=pair(1, 5), padding=choose(0, 3),
                stride=choose(1, 3), dilation=choose(1, 3))


@pytest.mark.parametrize("method", ["shift", "unfold"])
def test_corr2d_fast_matches_conv2d_on_random_configs(method):
    rng = random.Random(0)
    gen = torch.Generator().manual_seed(0)
    valid = invalid = 0
    for _ in range(400):
        cfg = random_config(rng)
        X = torch.randn(cfg["size"], generator=gen, dtype=torch.float64)
        K = torch.randn(cfg["ksize"], generator=gen, dtype=torch.float64)
        kw = dict(padding=cfg["padding"], stride=cfg["stride"],
                  dilation=cfg["dilation"])
        expected = torch_corr(X, K, **kw)
        if expected is None:
            with pytest.raises(ValueError, match="larger than the padded"):
                corr2d_fast(X, K, method=method, **kw)
            invalid += 1
            continue
        Y = corr2d_fast(X, K, method=method, **kw)
        assert Y.shape == expected.shape, cfg
        torch.testing.assert_close(Y, expected, atol=1e-5, rtol=1e-5)
        valid += 1
    assert valid >= 250 and invalid >= 50


def test_corr2d_loop_matches_conv2d_on_random_configs():
    rng = random.Random(1)
    gen = torch.Generator().manual_seed(1)
    checked = 0
    for _ in range(120):
        X = torch.randn(rng.randint(1, 9), rng.randint(1, 9), generator=gen,
                        dtype=torch.float64)
        K = torch.randn(rng.randint(1, 4), rng.randint(1, 4), generator=gen,
                        dtype=torch.float64)
        expected = torch_corr(X, K)
        if expected is None:
            with pytest.raises(ValueError, match="larger than the padded"):
                corr2d(X, K)
            continue
        torch.testing.assert_close(corr2d(X, K), expected, atol=1e-5,
                                   rtol=1e-5)
        torch.testing.assert_close(corr2d_fast(X, K), corr2d(X, K),
                                   atol=1e-5, rtol=1e-5)
        checked += 1
    assert checked >= 60


def test_output_shape_formulas_match_torch_modules():
    rng = random.Random(2)
    for _ in range(300):
        cfg = random_config(rng)
        k, p = cfg["ksize"], cfg["padding"]
        s, d = cfg["stride"], cfg["dilation"]
        X = torch.zeros((1, 1) + cfg["size"], dtype=torch.float64)
        conv = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d,
                         bias=False, dtype=torch.float64)
        try:
            expected = tuple(conv(X).shape[2:])
        except RuntimeError:
            expected = None
        if expected is not None and 0 in expected:
            expected = None
        total = (2 * p if isinstance(p, int) else (2 * p[0], 2 * p[1]))
        if expected is None:
            with pytest.raises(ValueError, match="larger than the padded"):
                conv_output_shape_torch(cfg["size"], k, p, s, d)
            with pytest.raises(ValueError, match="larger than the padded"):
                conv_output_shape(cfg["size"], k, total, s, d)
            continue
        assert conv_output_shape_torch(cfg["size"], k, p, s, d) == expected
        assert conv_output_shape(cfg["size"], k, total, s, d) == expected


def test_output_shape_chapter_formula_and_ints():
    # floor((n - k + p + s) / s) with total padding p, as 6.3.2 writes it
    assert conv_output_shape(8, 3, 2, 1) == 8
    assert conv_output_shape(8, 3, 2, 2) == 4
    assert conv_output_shape(8, 3, 1, 1) == 7     # odd total padding
    assert conv_output_shape((8, 8), (3, 5), (0, 2), (3, 4)) == (2, 2)
    assert conv_output_shape_torch(8, 3, padding=1, stride=2) == 4
    assert conv_output_shape_torch(28, 5, dilation=2) == 20
    assert isinstance(conv_output_shape(8, 3, 2, 1), int)


def test_chapter_comp_conv2d_cases():
    X = torch.rand(size=(8, 8))
    cases = [(dict(kernel_size=3, padding=1), (8, 8)),
             (dict(kernel_size=(5, 3), padding=(2, 1)), (8, 8)),
             (dict(kernel_size=3, padding=1, stride=2), (4, 4)),
             (dict(kernel_size=(3, 5), padding=(0, 1), stride=(3, 4)),
              (2, 2))]
    for kw, shape in cases:
        assert comp_conv2d(nn.LazyConv2d(1, **kw), X).shape == shape
        assert comp_conv2d(nn.Conv2d(1, 1, **kw), X).shape == shape
        assert conv_output_shape_torch((8, 8), kw["kernel_size"],
                                       kw["padding"],
                                       kw.get("stride", 1)) == shape


def test_comp_conv2d_rejects_impossible_settings():
    with pytest.raises(ValueError, match="kernel 9×9 is larger"):
        comp_conv2d(nn.Conv2d(1, 1, 9), torch.rand(8, 8))
    with pytest.raises(ValueError, match="input channels"):
        comp_conv2d(nn.Conv2d(3, 1, 3), torch.rand(8, 8))
    with pytest.raises(ValueError, match="2-D"):
        comp_conv2d(nn.Conv2d(1, 1, 3), torch.rand(1, 8, 8))


def test_edge_example_reproduces_chapter():
    X, K, Y = edge_example()
    assert X.shape == (6, 8) and X[:, 2:6].eq(0).all()
    assert X[:, :2].eq(1).all() and X[:, 6:].eq(1).all()
    assert torch.equal(K, torch.tensor([[1.0, -1.0]]))
    row = torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0, -1.0, 0.0])
    assert torch.equal(Y, row.repeat(6, 1))
    # the vertical-edge detector sees nothing in the transposed image
    assert torch.equal(corr2d(X.t(), K), torch.zeros(8, 5))
    assert torch.equal(corr2d_fast(X.t(), K), torch.zeros(8, 5))


def test_learn_kernel_recovers_edge_kernel_with_book_setup():
    X, K, Y = edge_example()
    for seed in range(10):
        gen = torch.Generator().manual_seed(seed)
        K_hat, losses = learn_kernel(X, Y, kernel_size=(1, 2), lr=3e-2,
                                     generator=gen)
        assert K_hat.shape == (1, 2)
        assert (K_hat - K).abs().max() < 0.05, (seed, K_hat)
        assert losses[-1] < losses[0] and len(losses) == 20


def test_learn_kernel_callback_and_init():
    X, K, Y = edge_example()
    seen = []
    K_hat, losses = learn_kernel(
        X, Y, num_epochs=3, K_init=torch.zeros(1, 2),
        callback=lambda epoch, loss, K: seen.append((epoch, loss, K)))
    assert [e for e, _, _ in seen] == [1, 2, 3]
    assert [l for _, l, _ in seen] == losses
    assert torch.equal(seen[-1][2], K_hat)
    # first step from zero: loss = sum(Y**2) = 12 (six 1s and six -1s)
    assert losses[0] == pytest.approx(12.0)
    with pytest.raises(ValueError, match="Y has shape 6×8"):
        learn_kernel(X, X)
    with pytest.raises(ValueError, match="num_epochs"):
        learn_kernel(X, Y, num_epochs=0)
    with pytest.raises(ValueError, match="lr"):
        learn_kernel(X, Y, lr=-1)
    with pytest.raises(ValueError, match="K_init"):
        learn_kernel(X, Y, K_init=torch.zeros(2, 2))


def test_conv2d_module_forward_and_gradients():
    layer = Conv2D((1, 2))
    assert layer.weight.shape == (1, 2) and layer.bias.shape == (1,)
    X, _, _ = edge_example()
    with torch.no_grad():
        layer.bias.fill_(0.5)
    Y = layer(X)
    torch.testing.assert_close(Y, corr2d(X, layer.weight.detach()) + 0.5)
    Y.sum().backward()
    assert layer.weight.grad is not None and layer.bias.grad is not None
    fast = Conv2D(3, fast=True)
    torch.testing.assert_close(fast(X), corr2d(X, fast.weight.detach()))


def test_convolve2d_is_correlation_with_flipped_kernel():
    gen = torch.Generator().manual_seed(3)
    X, K = torch.randn(7, 6, generator=gen), torch.randn(3, 2, generator=gen)
    expected = F.conv2d(X[None, None], K.flip(0, 1)[None, None],
                        padding=1, stride=2)[0, 0]
    torch.testing.assert_close(convolve2d(X, K, padding=1, stride=2),
                               expected)
    # by definition: Y[i, j] = sum_ab X[i + a, j + b] K[kh-1-a, kw-1-b]
    Y = convolve2d(X, K)
    i, j = 2, 3
    by_hand = sum(X[i + a, j + b] * K[2 - a, 1 - b]
                  for a in range(3) for b in range(2))
    torch.testing.assert_close(Y[i, j], by_hand)
    # a symmetric kernel: convolution == cross-correlation
    S = torch.tensor([[1.0, 2.0, 1.0]])
    torch.testing.assert_close(convolve2d(X, S), corr2d_fast(X, S))


def test_corr2d_fast_gradients_match_conv2d():
    gen = torch.Generator().manual_seed(4)
    X = torch.randn(9, 8, generator=gen, dtype=torch.float64,
                    requires_grad=True)
    K = torch.randn(3, 3, generator=gen, dtype=torch.float64,
                    requires_grad=True)
    Y = corr2d_fast(X, K, padding=1, stride=2, dilation=2)
    gX, gK = torch.autograd.grad(Y.square().sum(), (X, K))
    Z = F.conv2d(X[None, None], K[None, None], padding=1, stride=2,
                 dilation=2)
    hX, hK = torch.autograd.grad(Z.square().sum(), (X, K))
    torch.testing.assert_close(gX, hX)
    torch.testing.assert_close(gK, hK)


def test_window_at_matches_output_cells():
    rng = random.Random(5)
    gen = torch.Generator().manual_seed(5)
    for _ in range(40):
        X = torch.randn(rng.randint(3, 9), rng.randint(3, 9), generator=gen)
        K = torch.randn(rng.randint(1, 3), rng.randint(1, 3), generator=gen)
        kw = dict(padding=rng.randint(0, 2), stride=rng.randint(1, 3),
                  dilation=rng.randint(1, 2))
        Y = corr2d_fast(X, K, **kw)
        i, j = rng.randrange(Y.shape[0]), rng.randrange(Y.shape[1])
        win = window_at(X, K, i, j, **kw)
        assert win.value == pytest.approx(float(Y[i, j]), abs=1e-5)
        assert win.rows[0] == i * kw["stride"]
        assert win.cols[1] - win.cols[0] == kw["dilation"] if \
            K.shape[1] > 1 else True
        Xp = pad2d(X, kw["padding"])
        torch.testing.assert_close(win.patch, Xp[win.rows][:, win.cols])
        torch.testing.assert_close(win.products, win.patch * K)
    with pytest.raises(ValueError, match=r"i must be an int in \[0, 7\)"):
        window_at(torch.ones(8, 8), torch.ones(2, 2), 7, 0)


def test_pad2d():
    X = torch.arange(6.0).reshape(2, 3)
    Y = pad2d(X, (1, 2), value=-1.0)
    assert Y.shape == (4, 7)
    assert torch.equal(Y[1:3, 2:5], X)
    assert Y.sum() == X.sum() - (Y.numel() - X.numel())
    torch.testing.assert_close(pad2d(X, 2), F.pad(X, (2, 2, 2, 2)))
    with pytest.raises(ValueError, match="padding must be >= 0"):
        pad2d(X, -1)


@pytest.mark.parametrize("call, message", [
    (lambda: corr2d_fast(torch.ones(4, 4), torch.ones(5, 5)),
     "kernel 5×5 is larger than the padded input 4×4"),
    (lambda: corr2d_fast(torch.ones(4, 4), torch.ones(3, 3), stride=0),
     "stride must be >= 1, got 0"),
    (lambda: corr2d_fast(torch.ones(4, 4), torch.ones(3, 3), padding=-1),
     "padding must be >= 0, got -1"),
    (lambda: corr2d_fast(torch.ones(4, 4), torch.ones(3, 3), dilation=0),
     "dilation must be >= 1"),
    (lambda: corr2d_fast(torch.ones(4, 4), torch.ones(3, 3),
                         stride=(1, 2, 3)), "stride must be an int or a"),
    (lambda: corr2d_fast(torch.ones(4, 4), torch.ones(3, 3), stride=1.5),
     "stride must be an int"),
    (lambda: corr2d_fast(torch.ones(4, 4), torch.ones(2, 2), dilation=4),
     r"kernel 5×5 \(dilated from 2×2 by 4×4\) is larger"),
    (lambda: corr2d_fast(torch.ones(2, 4, 4), torch.ones(3, 3)),
     "X must be 2-D"),
    (lambda: corr2d(torch.ones(4, 4), torch.ones(3)), "K must be 2-D"),
    (lambda: corr2d(torch.ones(0, 4), torch.ones(1, 1)), "X must not be"),
    (lambda: corr2d(torch.ones(2, 2), torch.ones(3, 1)),
     "kernel 3×1 is larger than the padded input 2×2"),
    (lambda: corr2d_fast(torch.ones(4, 4), torch.ones(2, 2), method="fft"),
     "method must be"),
    (lambda: convolve2d(torch.ones(4, 4), torch.ones(2, 2), stride=-2),
     "stride must be >= 1"),
    (lambda: conv_output_shape(4, 3, -1, 1), "p \\(total padding\\) must"),
    (lambda: conv_output_shape(4, 3, 0, 0), "s \\(stride\\) must be >= 1"),
    (lambda: conv_output_shape((4, 4), (5, 5), 0, 1),
     "kernel 5×5 is larger than the padded input 4×4"),
    (lambda: conv_output_shape_torch(0, 3), "n \\(input size\\) must"),
    (lambda: Conv2D(0), "kernel_size must be >= 1"),
])
def test_invalid_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_int_inputs_are_promoted_to_float():
    X = torch.arange(12).reshape(3, 4)
    K = torch.tensor([[1, -1]])
    Y = corr2d_fast(X, K)
    assert Y.dtype == torch.get_default_dtype()
    torch.testing.assert_close(Y, torch.full((3, 3), -1.0))
    torch.testing.assert_close(corr2d(X, K), Y)
