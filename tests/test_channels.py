"""Tests for helpers.channels (6.1, 6.4); F.conv2d and nn modules are the
oracle."""
import random

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from helpers.channels import (conv_macs, conv_param_count, corr2d_multi_in,
                              corr2d_multi_in_out, corr2d_multi_in_out_1x1,
                              fc_param_count)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_chapter_multi_in_example():
    X = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                      [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])
    K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
    assert torch.equal(corr2d_multi_in(X, K),
                       torch.tensor([[56.0, 72.0], [104.0, 120.0]]))
    K = torch.stack((K, K + 1, K + 2), 0)
    assert K.shape == (3, 2, 2, 2)
    Y = corr2d_multi_in_out(X, K)
    assert torch.equal(Y[0], torch.tensor([[56.0, 72.0], [104.0, 120.0]]))
    assert torch.equal(Y[1], torch.tensor([[76.0, 100.0], [148.0, 172.0]]))
    assert torch.equal(Y[2], torch.tensor([[96.0, 128.0], [192.0, 224.0]]))


def test_1x1_convolution_is_a_matrix_product():
    gen = torch.Generator().manual_seed(0)
    X = torch.normal(0, 1, (3, 3, 3), generator=gen)
    K = torch.normal(0, 1, (2, 3, 1, 1), generator=gen)
    Y1 = corr2d_multi_in_out_1x1(X, K)
    Y2 = corr2d_multi_in_out(X, K)
    assert float(torch.abs(Y1 - Y2).sum()) < 1e-6
    torch.testing.assert_close(Y1, F.conv2d(X[None], K)[0])
    # the same numbers as a fully connected layer applied at every pixel
    fc = torch.einsum("oi,ihw->ohw", K[:, :, 0, 0], X)
    torch.testing.assert_close(Y1, fc)
    torch.testing.assert_close(corr2d_multi_in_out_1x1(X, K[:, :, 0, 0]),
                               Y1)


def test_multi_channel_matches_conv2d_on_random_configs():
    rng = random.Random(1)
    gen = torch.Generator().manual_seed(1)
    for _ in range(60):
        c_i, c_o = rng.randint(1, 3), rng.randint(1, 3)
        X = torch.randn(c_i, rng.randint(5, 8), rng.randint(5, 8),
                        generator=gen, dtype=torch.float64)
        K = torch.randn(c_o, c_i, rng.randint(1, 3), rng.randint(1, 3),
                        generator=gen, dtype=torch.float64)
        kw = dict(padding=rng.randint(0, 2), stride=rng.randint(1, 2),
                  dilation=rng.randint(1, 2))
        expected = F.conv2d(X[None], K, **kw)[0]
        torch.testing.assert_close(corr2d_multi_in_out(X, K, **kw),
                                   expected)
        torch.testing.assert_close(corr2d_multi_in(X, K[0], **kw),
                                   expected[0])


def test_param_counts_match_torch_layers():
    for c_i, c_o, k_h, k_w in [(1, 6, 5, 5), (6, 16, 5, 5), (3, 64, 3, 3),
                               (64, 32, 1, 1), (2, 3, 3, 1)]:
        for bias in (True, False):
            layer = nn.Conv2d(c_i, c_o, (k_h, k_w), bias=bias)
            n = sum(p.numel() for p in layer.parameters())
            assert conv_param_count(c_i, c_o, k_h, k_w, bias=bias) == n
    for n_in, n_out in [(400, 120), (120, 84), (784, 10)]:
        for bias in (True, False):
            n = sum(p.numel() for p in nn.Linear(n_in, n_out,
                                                 bias=bias).parameters())
            assert fc_param_count(n_in, n_out, bias=bias) == n


def test_chapter_6_1_fully_connected_example():
    # one-megapixel images, 1000 hidden units: 10**9 weights (6.1)
    assert fc_param_count(10 ** 6, 1000, bias=False) == 10 ** 9
    # a 3-channel 3x3 conv to 64 channels: independent of image size
    assert conv_param_count(3, 64, 3, 3) == 64 * 27 + 64


def test_conv_macs_counts_one_mac_per_weight_and_output():
    for c_i, c_o, h, w, k, p, s in [(1, 6, 28, 28, 5, 2, 1),
                                    (6, 16, 14, 14, 5, 0, 1),
                                    (3, 8, 9, 7, 3, 1, 2)]:
        out = nn.Conv2d(c_i, c_o, k, padding=p, stride=s)(
            torch.zeros(1, c_i, h, w))
        expected = out[0].numel() * c_i * k * k
        assert conv_macs(c_i, c_o, h, w, k, k, padding=p,
                         stride=s) == expected
    # LeNet's first layer: 6 * 28 * 28 * 25
    assert conv_macs(1, 6, 28, 28, 5, 5, padding=2) == 117600


@pytest.mark.parametrize("call, message", [
    (lambda: corr2d_multi_in(torch.ones(3, 4, 4), torch.ones(2, 2, 2)),
     "X has 3 channels but K expects 2"),
    (lambda: corr2d_multi_in_out(torch.ones(3, 4, 4),
                                 torch.ones(1, 2, 2, 2)),
     "X has 3 channels but K expects 2"),
    (lambda: corr2d_multi_in_out(torch.ones(3, 4, 4), torch.ones(3, 2, 2)),
     r"K must be a non-empty \(c_o, c_i, kh, kw\)"),
    (lambda: corr2d_multi_in(torch.ones(4, 4), torch.ones(1, 2, 2)),
     r"X must be a non-empty \(c_i, H, W\)"),
    (lambda: corr2d_multi_in(torch.ones(1, 2, 2), torch.ones(1, 3, 3)),
     "kernel 3×3 is larger than the padded input 2×2"),
    (lambda: corr2d_multi_in_out_1x1(torch.ones(3, 4, 4),
                                     torch.ones(2, 3, 3, 3)),
     "K must be a 1×1 kernel"),
    (lambda: corr2d_multi_in_out_1x1(torch.ones(3, 4, 4),
                                     torch.ones(2, 2, 1, 1)),
     "X has 3 channels but K expects 2"),
    (lambda: conv_param_count(0, 1, 3, 3), "c_i must be an int >= 1"),
    (lambda: fc_param_count(10, 2.5), "n_out must be an int >= 1"),
    (lambda: conv_macs(1, 1, 4, 4, 5, 5), "kernel 5×5 is larger"),
    (lambda: conv_macs(1, 1, 4, 4, 3, 3, stride=0), "stride must be >= 1"),
])
def test_invalid_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
