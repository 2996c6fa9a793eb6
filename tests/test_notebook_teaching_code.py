"""The teaching code written in notebooks 6.1/6.2 equals the helpers'.

The cells are read from the stored .ipynb and exec'ed on their own, so
the test fails if someone edits the notebook's corr2d / Conv2D (or the
6.1 convolution loop) into something that no longer agrees with
helpers.conv and PyTorch.
"""
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.conv import Conv2D as HelperConv2D
from helpers.conv import corr2d as helper_corr2d
from helpers.conv import corr2d_fast

NB_DIR = Path(__file__).resolve().parent.parent / "notebooks"


def _cell(notebook, start):
    """Source of the one code cell of `notebook` starting with `start`."""
    nb = nbformat.read(NB_DIR / notebook, as_version=4)
    found = [c.source for c in nb.cells
             if c.cell_type == "code" and c.source.startswith(start)]
    assert len(found) == 1, f"{notebook}: {len(found)} cells start {start!r}"
    return found[0]


@pytest.fixture(scope="module")
def taught():
    """corr2d and Conv2D exactly as notebook 6.2 defines them."""
    ns = {"torch": torch, "nn": nn}
    exec(_cell("6.2-image-convolution.ipynb", "def corr2d(X, K):"), ns)
    exec(_cell("6.2-image-convolution.ipynb", "class Conv2D(nn.Module):"),
         ns)
    return ns


def _cases(seed=0, n=12):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n):
        h, w = (int(v) for v in torch.randint(1, 9, (2,), generator=g))
        kh = int(torch.randint(1, h + 1, (1,), generator=g))
        kw = int(torch.randint(1, w + 1, (1,), generator=g))
        yield (torch.randn((h, w), generator=g),
               torch.randn((kh, kw), generator=g))


def test_chapter_example(taught):
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    assert taught["corr2d"](X, K).tolist() == [[19.0, 25.0], [37.0, 43.0]]


@pytest.mark.parametrize("X, K", list(_cases()))
def test_corr2d_matches_helpers_and_torch(taught, X, K):
    Y = taught["corr2d"](X, K)
    ref = F.conv2d(X[None, None], K[None, None])[0, 0]
    assert Y.shape == ref.shape
    assert torch.allclose(Y, ref, atol=1e-5)
    assert torch.allclose(Y, corr2d_fast(X, K), atol=1e-5)
    assert torch.allclose(Y, helper_corr2d(X, K), atol=1e-5)


def test_edge_example(taught):
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    Y = taught["corr2d"](X, torch.tensor([[1.0, -1.0]]))
    assert torch.equal(Y[:, 1], torch.ones(6))
    assert torch.equal(Y[:, 5], -torch.ones(6))
    assert Y.abs().sum() == 12


@pytest.mark.parametrize("kernel_size", [(1, 2), (2, 2), (3, 1)])
def test_conv2d_module_matches_nn_conv2d_and_helpers(taught, kernel_size):
    layer = taught["Conv2D"](kernel_size)
    params = dict(layer.named_parameters())
    assert set(params) == {"weight", "bias"}
    assert tuple(layer.weight.shape) == kernel_size
    with torch.no_grad():
        layer.bias.fill_(0.25)
    ref = nn.Conv2d(1, 1, kernel_size)
    mine = HelperConv2D(kernel_size)
    with torch.no_grad():
        ref.weight.copy_(layer.weight[None, None])
        ref.bias.fill_(0.25)
        mine.weight.copy_(layer.weight)
        mine.bias.fill_(0.25)
    X = torch.randn(5, 6)
    Y = layer(X)
    assert torch.allclose(Y, ref(X[None, None])[0, 0], atol=1e-5)
    assert torch.allclose(Y, mine(X), atol=1e-5)


def test_conv2d_gradients_match_torch(taught):
    layer = taught["Conv2D"]((2, 3))
    X, Y = torch.randn(6, 8), torch.randn(5, 6)
    ((layer(X) - Y) ** 2).sum().backward()
    W = layer.weight.detach().clone().requires_grad_(True)
    b = torch.zeros(1, requires_grad=True)
    ((F.conv2d(X[None, None], W[None, None], b)[0, 0] - Y) ** 2
     ).sum().backward()
    assert torch.allclose(layer.weight.grad, W.grad, atol=1e-4)
    assert torch.allclose(layer.bias.grad, b.grad, atol=1e-4)


def test_61_convolution_loop_matches_torch():
    ns = {"torch": torch}
    src = _cell("6.1-from-fc-to-conv.ipynb", "def conv1d_full(f, g):")
    exec(src.split("\n\n\nf = ")[0], ns)  # the definition only
    g = torch.Generator().manual_seed(1)
    for n, m in ((8, 3), (4, 4), (1, 5)):
        f, k = torch.randn(n, generator=g), torch.randn(m, generator=g)
        ref = F.conv1d(f.reshape(1, 1, -1), k.flip(0).reshape(1, 1, -1),
                       padding=m - 1).reshape(-1)
        assert torch.allclose(ns["conv1d_full"](f, k), ref, atol=1e-5)
        assert torch.allclose(ns["conv1d_full"](f, k),
                              ns["conv1d_full"](k, f), atol=1e-5)
