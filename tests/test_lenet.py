"""LeNet (6.6.1): the chapter's layers, shape table, Xavier init, variant."""
import math

import pytest
import torch
from torch import nn

from helpers.lenet import (CLASSIC_LR, MODERN_LR, init_xavier, layer_shapes,
                           lenet, lenet_variant, print_layer_shapes)
from oracles import d2l_lenet

# The table the chapter prints for a 1x1x28x28 input (6.6.1).
CHAPTER_TABLE = [
    ("Conv2d", (1, 6, 28, 28)), ("Sigmoid", (1, 6, 28, 28)),
    ("AvgPool2d", (1, 6, 14, 14)), ("Conv2d", (1, 16, 10, 10)),
    ("Sigmoid", (1, 16, 10, 10)), ("AvgPool2d", (1, 16, 5, 5)),
    ("Flatten", (1, 400)), ("Linear", (1, 120)), ("Sigmoid", (1, 120)),
    ("Linear", (1, 84)), ("Sigmoid", (1, 84)), ("Linear", (1, 10)),
]


def test_classic_layers_match_the_chapter():
    net, ref = lenet(), d2l_lenet()
    assert [repr(m) for m in net] == [repr(m) for m in ref]


def test_modern_swaps_activation_and_pooling():
    net = lenet("modern")
    kinds = [type(m) for m in net]
    assert kinds.count(nn.ReLU) == 4 and kinds.count(nn.MaxPool2d) == 2
    assert nn.Sigmoid not in kinds and nn.AvgPool2d not in kinds
    pools = [m for m in net if isinstance(m, nn.MaxPool2d)]
    assert all(p.kernel_size == 2 and p.stride == 2 for p in pools)


def test_layer_shapes_is_the_chapter_table():
    assert layer_shapes(lenet()) == CHAPTER_TABLE
    names = [name for name, _ in layer_shapes(lenet("modern"))]
    assert names[1:3] == ["ReLU", "MaxPool2d"]


def test_layer_shapes_equal_running_the_net():
    torch.manual_seed(0)
    net = lenet("modern")
    X = torch.rand(3, 1, 28, 28)
    rows = layer_shapes(net, shape=(3, 1, 28, 28))
    for (name, shape), layer in zip(rows, net):
        X = layer(X)
        assert (name, shape) == (type(layer).__name__, tuple(X.shape))


def test_print_layer_shapes_uses_d2l_format(capsys):
    print_layer_shapes(lenet())
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Conv2d output shape:\t torch.Size([1, 6, 28, 28])"
    assert lines[-1] == "Linear output shape:\t torch.Size([1, 10])"
    assert len(lines) == 12


def test_parameter_count():
    # conv 156 + 2416, dense 48120 + 10164 + 850
    n = sum(p.numel() for p in lenet().parameters())
    assert n == sum(p.numel() for p in d2l_lenet().parameters()) == 61706


def test_xavier_matches_torch_init():
    torch.manual_seed(0)
    net = lenet()
    torch.manual_seed(0)
    ref = d2l_lenet()  # same default init draws as lenet(init=False)
    for m in ref:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
    for (k, a), (_, b) in zip(net.state_dict().items(),
                              ref.state_dict().items()):
        assert torch.equal(a, b), k


def test_xavier_bounds_and_spread():
    torch.manual_seed(1)
    for m in lenet():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            w = m.weight
            fan_in = w[0].numel()
            fan_out = w.shape[0] * w[0, 0].numel() if w.dim() == 4 \
                else w.shape[0]
            bound = math.sqrt(6 / (fan_in + fan_out))
            assert w.abs().max() <= bound
    # the largest layer: uniform(-b, b) has std b / sqrt(3); PyTorch's
    # default (bound 1/sqrt(400) = 0.05) would give 0.029, not 0.062
    w = lenet()[7].weight
    assert w.std().item() == pytest.approx(math.sqrt(2 / 520), rel=0.03)


def test_init_false_keeps_torch_default_and_init_xavier_returns_net():
    torch.manual_seed(0)
    a = lenet(init=False)
    torch.manual_seed(0)
    b = d2l_lenet()
    assert all(torch.equal(x, y) for x, y in
               zip(a.parameters(), b.parameters()))
    assert init_xavier(a) is a


def test_variant_detection_and_bad_variant():
    assert lenet_variant(lenet()) == "classic"
    assert lenet_variant(lenet("modern")) == "modern"
    assert lenet_variant(d2l_lenet()) == "classic"
    assert lenet_variant(nn.Sequential(nn.Linear(2, 2))) is None
    with pytest.raises(ValueError, match="variant must be one of"):
        lenet("resnet")


def test_bad_shape():
    with pytest.raises(ValueError, match="shape must be"):
        layer_shapes(lenet(), shape=(1, 28, 28))


def test_learning_rates():
    assert CLASSIC_LR == 0.9
    assert 0 < MODERN_LR < CLASSIC_LR
