"""Tests for helpers.pooling (6.5); F.max_pool2d / F.avg_pool2d are the
oracle."""
import random

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from helpers.pooling import (pool2d, pool2d_loop, pool_output_shape,
                             pool_window_at)

TORCH_POOL = {"max": F.max_pool2d, "avg": F.avg_pool2d}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def torch_pool(X, pool_size, mode, padding, stride):
    """The oracle on (N, C, H, W); None if torch refuses."""
    batch = X.reshape((-1, 1) + X.shape[-2:]) if X.dim() == 2 else X
    try:
        Y = TORCH_POOL[mode](batch, pool_size, stride=stride,
                             padding=padding)
    except RuntimeError:
        return None
    if Y.numel() == 0:
        return None
    return Y.reshape(Y.shape[-2:]) if X.dim() == 2 else Y


def test_pool2d_matches_torch_on_random_configs():
    rng = random.Random(0)
    gen = torch.Generator().manual_seed(0)
    valid = invalid = 0
    for _ in range(500):
        lead = rng.choice([(), (rng.randint(1, 3),),
                           (rng.randint(1, 2), rng.randint(1, 3))])
        size = (rng.randint(1, 10), rng.randint(1, 10))
        X = torch.randn(lead + size, generator=gen, dtype=torch.float64)
        pair = lambda lo, hi: (rng.randint(lo, hi), rng.randint(lo, hi))
        pool_size = rng.choice([rng.randint(1, 4), pair(1, 4)])
        padding = rng.choice([0, rng.randint(0, 2), pair(0, 2)])
        stride = rng.choice([None, rng.randint(1, 3), pair(1, 3)])
        mode = rng.choice(["max", "avg"])
        expected = torch_pool(X, pool_size, mode, padding, stride)
        if expected is None:
            with pytest.raises(ValueError, match="pool"):
                pool2d(X, pool_size, mode, padding, stride)
            invalid += 1
            continue
        Y = pool2d(X, pool_size, mode=mode, padding=padding, stride=stride)
        assert Y.shape == expected.shape
        torch.testing.assert_close(Y, expected, atol=1e-5, rtol=1e-5)
        assert pool_output_shape(tuple(X.shape[-2:]), pool_size, padding,
                                 stride) == tuple(Y.shape[-2:])
        valid += 1
    assert valid >= 250 and invalid >= 100


def test_pool2d_loop_matches_torch_with_stride_one():
    rng = random.Random(1)
    gen = torch.Generator().manual_seed(1)
    for _ in range(60):
        X = torch.randn(rng.randint(2, 7), rng.randint(2, 7), generator=gen)
        p = (rng.randint(1, 2), rng.randint(1, 2))
        for mode in ("max", "avg"):
            expected = torch_pool(X, p, mode, 0, 1)
            torch.testing.assert_close(pool2d_loop(X, p, mode), expected)
            torch.testing.assert_close(pool2d(X, p, mode, stride=1),
                                       expected)


def test_chapter_pooling_examples():
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    assert torch.equal(pool2d_loop(X, (2, 2)),
                       torch.tensor([[4.0, 5.0], [7.0, 8.0]]))
    assert torch.equal(pool2d_loop(X, (2, 2), "avg"),
                       torch.tensor([[2.0, 3.0], [5.0, 6.0]]))
    assert torch.equal(pool2d(X, (2, 2), stride=1),
                       torch.tensor([[4.0, 5.0], [7.0, 8.0]]))
    # the default stride is the window, as nn.MaxPool2d
    assert torch.equal(pool2d(X, (2, 2)), torch.tensor([[4.0]]))
    X = torch.arange(16, dtype=torch.float32).reshape((1, 1, 4, 4))
    assert torch.equal(pool2d(X, 3), torch.tensor([[[[10.0]]]]))
    five = torch.tensor([[[[5.0, 7.0], [13.0, 15.0]]]])
    assert torch.equal(pool2d(X, 3, padding=1, stride=2), five)
    assert torch.equal(pool2d(X, (2, 3), stride=(2, 3), padding=(0, 1)),
                       five)
    assert torch.equal(nn.MaxPool2d(3, padding=1, stride=2)(X), five)
    X = torch.cat((X, X + 1), 1)
    Y = pool2d(X, 3, padding=1, stride=2)
    assert Y.shape == (1, 2, 2, 2)
    assert torch.equal(Y[0, 1], five[0, 0] + 1)


def test_avg_pool_counts_zero_padding_like_torch():
    X = torch.ones(3, 3)
    Y = pool2d(X, 2, "avg", padding=1)
    # the corner window holds one pixel and three padding zeros
    assert Y[0, 0] == 0.25
    torch.testing.assert_close(Y, F.avg_pool2d(X[None, None], 2,
                                               padding=1)[0, 0])


def test_max_pool_ignores_padding_on_negative_inputs():
    X = -torch.ones(2, 2)
    assert torch.equal(pool2d(X, 2, padding=1), -torch.ones(2, 2))


def test_pool_window_at_matches_pool2d():
    rng = random.Random(2)
    gen = torch.Generator().manual_seed(2)
    for _ in range(40):
        X = torch.randn(rng.randint(3, 8), rng.randint(3, 8), generator=gen)
        k = rng.randint(1, 3)
        kw = dict(padding=rng.randint(0, k // 2),
                  stride=rng.choice([None, 1, 2]),
                  mode=rng.choice(["max", "avg"]))
        Y = pool2d(X, k, **kw)
        i, j = rng.randrange(Y.shape[0]), rng.randrange(Y.shape[1])
        win = pool_window_at(X, k, i, j, **kw)
        assert win.value == pytest.approx(float(Y[i, j]), abs=1e-6)
        assert win.products is None and win.patch.shape == (k, k)
        assert win.rows == [i * (kw["stride"] or k) + a for a in range(k)]


def test_int_input_gives_float_output():
    X = torch.arange(9).reshape(3, 3)
    torch.testing.assert_close(pool2d(X, 2, "avg", stride=1),
                               torch.tensor([[2.0, 3.0], [5.0, 6.0]]))


@pytest.mark.parametrize("call, message", [
    (lambda: pool2d(torch.ones(4, 4), 3, padding=2),
     "padding must be at most half the pool size"),
    (lambda: pool2d(torch.ones(4, 4), 5),
     "pool window 5×5 is larger than the padded input 4×4"),
    (lambda: pool2d(torch.ones(4, 4), 2, stride=0), "stride must be >= 1"),
    (lambda: pool2d(torch.ones(4, 4), 0), "pool_size must be >= 1"),
    (lambda: pool2d(torch.ones(4, 4), 2, padding=-1),
     "padding must be >= 0"),
    (lambda: pool2d(torch.ones(4, 4), 2, mode="min"),
     "mode must be 'max' or 'avg'"),
    (lambda: pool2d(torch.ones(4), 2), "X must be a non-empty"),
    (lambda: pool2d(torch.ones(1, 1, 1, 4, 4), 2), "X must be a non-empty"),
    (lambda: pool2d_loop(torch.ones(2, 2), (3, 3)),
     "pool window 3×3 is larger"),
    (lambda: pool2d_loop(torch.ones(1, 2, 2), (1, 1)), "X must be 2-D"),
    (lambda: pool_output_shape(4, 3, padding=2), "at most half"),
    (lambda: pool_output_shape(0, 3), "n \\(input size\\) must be >= 1"),
    (lambda: pool_window_at(torch.ones(4, 4), 2, 2, 0),
     r"i must be an int in \[0, 2\)"),
])
def test_invalid_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
