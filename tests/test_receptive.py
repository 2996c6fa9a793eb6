"""Tests for helpers.receptive (6.2.5): analytic == exact == empirical, and
real torch modules as the oracle for shapes and gradients."""
import random

import pytest
import torch
from torch import nn

from helpers.receptive import (RF_PRESETS, LayerSpec, empirical_rf,
                               layer_output_sizes, layer_specs, nominal_box,
                               receptive_box, receptive_field,
                               receptive_mask)
from oracles import d2l_lenet


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def random_stack(rng):
    specs = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["conv", "conv", "maxpool", "avgpool"])
        k = (rng.randint(1, 4), rng.randint(1, 4))
        s = (rng.randint(1, 3), rng.randint(1, 3))
        d = (rng.randint(1, 3), rng.randint(1, 3)) if kind == "conv" else \
            (rng.randint(1, 2),) * 2 if kind == "maxpool" else (1, 1)
        if kind == "conv":
            p = (rng.randint(0, 3), rng.randint(0, 3))
        else:
            p = (rng.randint(0, k[0] // 2), rng.randint(0, k[1] // 2))
        specs.append(LayerSpec(kind, k, s, p, d))
    return specs


def to_module(specs, c=2):
    """A real network with these geometries, activations in between."""
    layers = []
    for spec in specs:
        if spec.kind == "conv":
            layers.append(nn.Conv2d(c, c, spec.kernel_size, spec.stride,
                                    spec.padding, spec.dilation,
                                    dtype=torch.float64))
            layers += [nn.BatchNorm2d(c, dtype=torch.float64), nn.ReLU()]
        elif spec.kind == "maxpool":
            layers.append(nn.MaxPool2d(spec.kernel_size, spec.stride,
                                       spec.padding, spec.dilation))
        else:
            layers += [nn.AvgPool2d(spec.kernel_size, spec.stride,
                                    spec.padding), nn.Dropout(0.5)]
    return nn.Sequential(*layers).eval()


def support_box(mask):
    rows = mask.any(1).nonzero().flatten()
    cols = mask.any(0).nonzero().flatten()
    if len(rows) == 0:
        return None
    return (int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)


def test_lenet_after_second_pooling_has_rf_16_jump_4():
    net = d2l_lenet()
    infos = receptive_field(net[:6])
    assert [info.size for info in infos] == [(5, 5), (6, 6), (14, 14),
                                             (16, 16)]
    assert infos[-1].jump == (4, 4)
    assert infos[-1].name == "5: AvgPool2d"
    specs = layer_specs(net, stop_at_unsupported=True)
    assert receptive_field(specs)[-1].size == (16, 16)
    assert len(receptive_field(net, stop_at_unsupported=True)) == 4
    preset = receptive_field("LeNet (conv/pool stack)")
    assert preset[-1].size == (16, 16) and preset[-1].jump == (4, 4)
    assert layer_output_sizes(net[:6], 28) == [(28, 28), (14, 14),
                                               (10, 10), (5, 5)]
    # a centre unit of the 5x5 output sees a full 16x16 patch
    assert receptive_box(net[:6], 3, 2, 2, 28) == (6, 22, 6, 22)
    assert int(receptive_mask(net[:6], 3, 2, 2, 28).sum()) == 256


def test_chapter_6_2_5_two_2x2_layers_see_the_whole_3x3_input():
    specs = [LayerSpec("conv", 2), LayerSpec("conv", 2)]
    assert receptive_field(specs)[1].size == (3, 3)
    assert receptive_mask(specs, 1, 0, 0, 3).all()
    assert receptive_field(RF_PRESETS["two 3x3 convs"])[1].size == (5, 5)


def test_analytic_equals_empirical_on_random_stacks():
    rng = random.Random(0)
    gen = torch.Generator().manual_seed(0)
    stacks = units = 0
    while stacks < 60:
        specs = random_stack(rng)
        n = (rng.randint(6, 18), rng.randint(6, 18))
        net = to_module(specs)
        X = torch.randn((1, 2) + n, generator=gen, dtype=torch.float64)
        shapes, Y = [], X
        try:
            for layer in net:
                Y = layer(Y)
                if isinstance(layer, (nn.Conv2d, nn.MaxPool2d,
                                      nn.AvgPool2d)):
                    shapes.append(tuple(Y.shape[2:]))
            torch_ok = all(h > 0 and w > 0 for h, w in shapes)
        except RuntimeError:
            torch_ok = False
        if not torch_ok:
            with pytest.raises(ValueError, match="larger than its padded"):
                layer_output_sizes(specs, n)
            continue
        stacks += 1
        assert layer_output_sizes(net, n) == shapes
        geometry = lambda infos: [(r.size, r.jump, r.start) for r in infos]
        assert geometry(receptive_field(net)) == \
            geometry(receptive_field(specs))
        for layer, (h, w) in enumerate(shapes):
            cells = {(0, 0), (h - 1, w - 1), (0, w - 1),
                     (rng.randrange(h), rng.randrange(w))}
            for i, j in cells:
                units += 1
                mask = receptive_mask(specs, layer, i, j, n)
                emp = empirical_rf(net, layer, i, j, n)
                assert emp.dtype == torch.float64 and emp.shape == n
                assert torch.equal(emp > 0, mask), (specs, layer, i, j)
                box = receptive_box(specs, layer, i, j, n)
                tight = support_box(mask)
                if tight is None:
                    assert box[0] == box[1] and box[2] == box[3]
                    continue
                assert box == tight
                r0, r1, c0, c1 = nominal_box(specs, layer, i, j)
                info = receptive_field(specs)[layer]
                assert (r1 - r0, c1 - c0) == info.size
                assert r0 <= box[0] and box[1] <= r1
                assert c0 <= box[2] and box[3] <= c1
    assert units >= 300


def test_dense_stacks_fill_the_clipped_textbook_box():
    # no dilation and stride <= kernel: no gaps, the field is the box
    rng = random.Random(1)
    checked = 0
    for _ in range(40):
        specs = []
        for _ in range(rng.randint(1, 3)):
            k = rng.randint(2, 4)
            kind = rng.choice(["conv", "maxpool", "avgpool"])
            p = rng.randint(0, 2) if kind == "conv" else \
                rng.randint(0, k // 2)
            specs.append(LayerSpec(kind, k, rng.randint(1, k), p))
        n = (24, 24)
        try:
            sizes = layer_output_sizes(specs, n)
        except ValueError:
            continue
        layer = len(specs) - 1
        h, w = sizes[-1]
        for i, j in {(0, 0), (h // 2, w // 2), (h - 1, 0)}:
            box = receptive_box(specs, layer, i, j, n)
            mask = receptive_mask(specs, layer, i, j, n)
            r0, r1, c0, c1 = box
            assert mask.sum() == (r1 - r0) * (c1 - c0)
            nom = nominal_box(specs, layer, i, j)
            if 0 <= nom[0] and nom[1] <= n[0] and 0 <= nom[2] \
                    and nom[3] <= n[1]:
                assert box == nom
            checked += 1
    assert checked >= 40


def test_real_network_gradient_stays_inside_the_field():
    rng = random.Random(2)
    gen = torch.Generator().manual_seed(2)
    checked = 0
    while checked < 15:
        specs = random_stack(rng)
        n = (12, 12)
        try:
            sizes = layer_output_sizes(specs, n)
        except ValueError:
            continue
        torch.manual_seed(rng.randrange(1000))
        net = to_module(specs, c=1)
        X = torch.randn((1, 1) + n, generator=gen, dtype=torch.float64,
                        requires_grad=True)
        h, w = sizes[-1]
        i, j = rng.randrange(h), rng.randrange(w)
        net(X)[0, 0, i, j].backward()
        seen = X.grad[0, 0] != 0
        mask = receptive_mask(specs, len(specs) - 1, i, j, n)
        assert not (seen & ~mask).any()
        checked += 1


def test_layer_specs_reads_module_trees():
    net = nn.Sequential(
        nn.Sequential(nn.Conv2d(3, 8, 3, padding="same"), nn.ReLU(),
                      nn.BatchNorm2d(8)),
        nn.Sequential(nn.MaxPool2d(2), nn.Dropout2d(0.1)),
        nn.LazyConv2d(4, kernel_size=(3, 5), stride=(1, 2),
                      padding="valid", dilation=(2, 1)),
        nn.AvgPool2d(3, stride=1, padding=1), nn.Identity())
    specs = layer_specs(net)
    assert [s.kind for s in specs] == ["conv", "maxpool", "conv", "avgpool"]
    assert specs[0].padding == (1, 1) and specs[0].name == "0.0: Conv2d"
    assert specs[1].stride == (2, 2)        # stride None -> the window
    assert specs[2].dilation == (2, 1) and specs[2].stride == (1, 2)
    assert specs[2].padding == (0, 0)
    out = net(torch.zeros(1, 3, 20, 20))
    assert layer_output_sizes(net, 20)[-1] == tuple(out.shape[2:])


@pytest.mark.parametrize("call, message", [
    (lambda: receptive_field(d2l_lenet()),
     "cannot analyse layer '6: Flatten'"),
    (lambda: receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3),
                                           nn.AdaptiveAvgPool2d(1))),
     "cannot analyse layer '1: AdaptiveAvgPool2d'"),
    (lambda: receptive_field(nn.Sequential(nn.MaxPool2d(2, ceil_mode=True))),
     "ceil_mode=True is not supported"),
    (lambda: receptive_field(nn.Conv2d(1, 1, 3, padding=1,
                                       padding_mode="reflect")),
     "padding_mode='reflect'"),
    (lambda: receptive_field(nn.Conv2d(1, 1, 2, padding="same")),
     "padding='same' with an even kernel"),
    (lambda: receptive_field(nn.Sequential(nn.ReLU())),
     "no conv or pooling layer"),
    (lambda: receptive_field([LayerSpec("conv", 3), "pool"]),
     r"net\[1\] must be a LayerSpec"),
    (lambda: receptive_field("ResNet"), "unknown preset 'ResNet'"),
    (lambda: LayerSpec("dense", 3), "kind must be one of"),
    (lambda: LayerSpec("conv", 3, stride=0), "stride must be >= 1"),
    (lambda: LayerSpec("maxpool", 3, padding=2), "at most half"),
    (lambda: LayerSpec("avgpool", 3, dilation=2), "dilation must be 1"),
    (lambda: receptive_box(RF_PRESETS["two 3x3 convs"], 2, 0, 0, 8),
     r"layer must be an int in \[0, 2\)"),
    (lambda: receptive_box(RF_PRESETS["two 3x3 convs"], 1, 4, 0, 8),
     r"i must be an int in \[0, 4\)"),
    (lambda: empirical_rf(RF_PRESETS["two 3x3 convs"], 0, 0, -1, 8),
     r"j must be an int in \[0, 6\)"),
    (lambda: receptive_mask(RF_PRESETS["LeNet (conv/pool stack)"], 3, 0, 0,
                            8), "larger than its padded input"),
    (lambda: receptive_mask(RF_PRESETS["two 3x3 convs"], 0, 0, 0, 0),
     "input_size must be >= 1"),
])
def test_invalid_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
