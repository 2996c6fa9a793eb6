"""6.5 exercise checkers: right answers pass, typical wrong ones fail."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.exercises.pooling import (
    check_avg_pool_as_conv, check_max_pool_relu, check_min_pool,
    check_pool_cost, check_softmax_pool, pool_cost_reference,
    softmax_pool_reference)


def avg_conv(pool_size=2, channels=1, weight=None, stride=None, groups=True):
    g = channels if groups else 1
    conv = nn.Conv2d(channels, channels, pool_size, bias=False, groups=g,
                     stride=pool_size if stride is None else stride)
    ph, pw = (pool_size, pool_size) if isinstance(pool_size, int) \
        else pool_size
    conv.weight.data.fill_(1 / (ph * pw) if weight is None else weight)
    return conv


# ------------------------------------------------------------ exercise 1

@pytest.mark.parametrize("pool_size", [2, 3, (2, 3)])
def test_avg_pool_as_conv_accepts(pool_size, capsys):
    assert check_avg_pool_as_conv(avg_conv(pool_size), pool_size)
    assert capsys.readouterr().out.startswith("✓")


def test_avg_pool_as_conv_multichannel_needs_groups(capsys):
    assert check_avg_pool_as_conv(avg_conv(2, 3), 2, channels=3)
    # All-ones mixing across channels sums the channels: wrong.
    assert not check_avg_pool_as_conv(avg_conv(2, 3, groups=False), 2,
                                      channels=3)
    assert "groups" in capsys.readouterr().out


@pytest.mark.parametrize("bad, word", [
    (dict(weight=1.0), "1 / (p_h * p_w)"),
    (dict(stride=1), "stride"),
])
def test_avg_pool_as_conv_rejects(bad, word, capsys):
    assert not check_avg_pool_as_conv(avg_conv(2, **bad), 2)
    out = capsys.readouterr().out
    assert out.startswith("✗") and word in out


def test_avg_pool_as_conv_bias_rejected():
    conv = avg_conv(2)
    conv.bias = nn.Parameter(torch.ones(1))
    assert not check_avg_pool_as_conv(conv, 2)


def test_verdict_is_truthy_and_silent_in_notebooks():
    v = check_min_pool(lambda X, p: -F.max_pool2d(-X, p))
    assert v and bool(v) is True and repr(v) == "Verdict(True)"
    assert v._ipython_display_() is None


def test_avg_pool_as_conv_functional_answer():
    K = torch.full((1, 1, 2, 2), 0.25)
    assert check_avg_pool_as_conv(lambda X: F.conv2d(X, K, stride=2))


# ------------------------------------------------------------ exercise 3

def max_pool_relu(X):
    X = X[..., :X.shape[-2] // 2 * 2, :X.shape[-1] // 2 * 2]
    a, b = X[..., ::2], X[..., 1::2]
    cols = a + torch.relu(b - a)
    c, d = cols[..., ::2, :], cols[..., 1::2, :]
    return c + torch.relu(d - c)


def test_max_pool_relu_accepts(capsys):
    assert check_max_pool_relu(max_pool_relu)
    out = capsys.readouterr().out
    assert out == "✓ 2x2 max pooling from ReLU, + and -\n"


@pytest.mark.parametrize("wrong", [
    lambda X: F.avg_pool2d(X, 2),
    lambda X: F.max_pool2d(X, 2, stride=1),
    lambda X: X[..., ::2, ::2] + torch.relu(X[..., 1::2, 1::2]),
    lambda X: 1 / 0,
])
def test_max_pool_relu_rejects(wrong, capsys):
    assert not check_max_pool_relu(wrong)
    assert "hint:" in capsys.readouterr().out


# ------------------------------------------------------------ exercise 4

def cost(c, h, w, p_h, p_w, s_h, s_w):
    return c * (h // s_h + 1) * (w // s_w + 1) * (p_h * p_w - 1)


def count_comparisons(c, h, w, p_h, p_w, s_h, s_w):
    """Brute force: walk every window of the padded input, count compares."""
    n = 0
    for _ in range(c):
        for top in range(0, h + p_h - p_h + 1, s_h):
            for left in range(0, w + p_w - p_w + 1, s_w):
                n += p_h * p_w - 1
    return n


@pytest.mark.parametrize("args", [
    (1, 4, 4, 2, 2, 2, 2), (3, 5, 7, 3, 2, 1, 2), (8, 28, 28, 2, 2, 2, 2),
    (2, 6, 9, 4, 3, 3, 4), (1, 1, 1, 1, 1, 1, 1)])
def test_pool_cost_reference_counts(args):
    assert pool_cost_reference(*args) == count_comparisons(*args) \
        == cost(*args)
    c, h, w, p_h, p_w, s_h, s_w = args
    assert pool_cost_reference(*args, mode="avg") == \
        c * (h // s_h + 1) * (w // s_w + 1) * p_h * p_w


def test_pool_cost_accepts(capsys):
    assert check_pool_cost(cost)
    assert check_pool_cost(
        lambda *a: cost(*a) + a[0] * (a[1] // a[5] + 1) * (a[2] // a[6] + 1),
        mode="avg")
    assert capsys.readouterr().out.count("✓") == 2


@pytest.mark.parametrize("wrong", [
    lambda c, h, w, p_h, p_w, s_h, s_w: c * h * w * (p_h * p_w - 1),
    lambda c, h, w, p_h, p_w, s_h, s_w: c * (h // s_h) * (w // s_w) * (
        p_h * p_w - 1),
    lambda c, h, w, p_h, p_w, s_h, s_w: c * (h // s_h + 1) * (
        w // s_w + 1) * p_h * p_w,
    lambda *a: "many",
])
def test_pool_cost_rejects(wrong, capsys):
    assert not check_pool_cost(wrong)
    assert "expected" in capsys.readouterr().out


# ------------------------------------------------------------ exercise 6

def min_pool(X, pool_size):
    return -F.max_pool2d(-X, pool_size)


def test_min_pool_accepts(capsys):
    assert check_min_pool(min_pool)
    assert capsys.readouterr().out.startswith("✓")


@pytest.mark.parametrize("wrong", [
    lambda X, p: F.max_pool2d(X, p),
    lambda X, p: -F.max_pool2d(X, p),
    lambda X, p: -F.max_pool2d(-X, p, stride=1),
    lambda X, p: -F.max_pool2d(-X, 2),
])
def test_min_pool_rejects(wrong, capsys):
    assert not check_min_pool(wrong)
    assert "-max(-x)" in capsys.readouterr().out


# ------------------------------------------------------------ exercise 7

def softmax_pool(X, pool_size, tau=1.0):
    w = F.unfold(X.flatten(0, 1)[:, None], pool_size, stride=pool_size)
    out = (torch.softmax(w / tau, dim=1) * w).sum(1)
    H, W = X.shape[-2] // pool_size, X.shape[-1] // pool_size
    return out.reshape(*X.shape[:2], H, W)


def naive_softmax_pool(X, pool_size, tau=1.0):
    w = F.unfold(X.flatten(0, 1)[:, None], pool_size, stride=pool_size)
    e = torch.exp(w / tau)
    out = (e / e.sum(1, keepdim=True) * w).sum(1)
    H, W = X.shape[-2] // pool_size, X.shape[-1] // pool_size
    return out.reshape(*X.shape[:2], H, W)


def test_softmax_pool_reference_limits():
    X = torch.randn(2, 3, 6, 6)
    torch.testing.assert_close(softmax_pool_reference(X, 2, 1e-4),
                               F.max_pool2d(X, 2))
    torch.testing.assert_close(softmax_pool_reference(X, 2, 1e4),
                               F.avg_pool2d(X, 2), atol=1e-3, rtol=1e-3)


def test_softmax_pool_accepts(capsys):
    assert check_softmax_pool(softmax_pool)
    assert capsys.readouterr().out.startswith("✓")


@pytest.mark.parametrize("wrong, word", [
    (naive_softmax_pool, "overflow"),
    (lambda X, p, tau=1.0: F.avg_pool2d(X, p), "softmax"),
    (lambda X, p, tau=1.0: softmax_pool(X, p, 1.0), "tau"),
])
def test_softmax_pool_rejects(wrong, word, capsys):
    assert not check_softmax_pool(wrong)
    assert word in capsys.readouterr().out
