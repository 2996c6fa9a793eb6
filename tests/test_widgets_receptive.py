"""Receptive-field explorer (6.2.5, 6.3): parser, figure and widget.

Oracles: real nn.Conv2d / nn.MaxPool2d shapes, and autograd through real
nn modules (all-one convs, average pools) for the gradient support.
"""
import random
import time

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from helpers.plot.receptive import (
    LIMITS, choose_input_size, parse_layers, plot_receptive_field, rf_rows,
    specs_to_text,
)
from helpers.receptive import (
    RF_PRESETS, LayerSpec, empirical_rf, receptive_box, receptive_field,
)
from helpers.widgets.receptive import CUSTOM, receptive_explorer


def torch_net(specs):
    """Real modules with the specs' geometry (pools averaged: linear)."""
    layers = []
    for spec in specs:
        if spec.kind == "conv":
            conv = nn.Conv2d(1, 1, spec.kernel_size, spec.stride,
                             spec.padding, spec.dilation, bias=False,
                             dtype=torch.float64)
            nn.init.ones_(conv.weight)
            layers.append(conv)
        else:
            layers.append(nn.AvgPool2d(spec.kernel_size, spec.stride,
                                       spec.padding))
    return nn.Sequential(*layers)


def torch_sizes(specs, size):
    """Output (h, w) after every layer of real modules (max pools)."""
    X, sizes = torch.zeros(1, 1, *size), []
    for spec in specs:
        if spec.kind == "conv":
            X = nn.Conv2d(1, 1, spec.kernel_size, spec.stride, spec.padding,
                          spec.dilation)(X)
        else:
            X = nn.MaxPool2d(spec.kernel_size, spec.stride, spec.padding,
                             spec.dilation)(X)
        sizes.append(tuple(X.shape[-2:]))
    return sizes


def autograd_support_box(specs, layer, i, j, size):
    """Bounding box of the input pixels unit (i, j) depends on."""
    X = torch.zeros(1, 1, *size, dtype=torch.float64, requires_grad=True)
    torch_net(specs[:layer + 1])(X)[0, 0, i, j].backward()
    nz = X.grad[0, 0].nonzero()
    if len(nz) == 0:
        return None   # the unit sees only padding
    return (int(nz[:, 0].min()), int(nz[:, 0].max()) + 1,
            int(nz[:, 1].min()), int(nz[:, 1].max()) + 1)


# ------------------------------------------------------------- parser
def test_parse_layers_reads_kinds_and_options():
    specs = parse_layers("conv k3 s1 p1; maxpool k2\n avgpool k3x5 s2 "
                         "p1x2; conv k3 d2 s2")
    assert [s.kind for s in specs] == ["conv", "maxpool", "avgpool", "conv"]
    assert specs[0].kernel_size == (3, 3) and specs[0].padding == (1, 1)
    assert specs[1].stride == (2, 2)        # pools: stride = window
    assert specs[2].kernel_size == (3, 5) and specs[2].padding == (1, 2)
    assert specs[3].dilation == (2, 2) and specs[3].stride == (2, 2)
    assert specs[0].name.startswith("1: conv 3x3")


@pytest.mark.parametrize("text, message", [
    ("", "no layers given"),
    ("  ;  ", "no layers given"),
    ("convx k3", "layer 1 ('convx k3'): unknown layer kind"),
    ("conv k3; pool s2", "layer 2 ('pool s2'): the kernel size is missing"),
    ("conv k3 q2", "cannot read 'q2'"),
    ("conv k3 k5", "k is given twice"),
    ("conv k0", "k must lie in 1..15"),
    (f"conv k{LIMITS['k'] + 1}", "k must lie in 1..15"),
    ("conv k3 s0", "s must lie in 1..8"),
    ("maxpool k2 p2", "padding must be at most half the pool size"),
    ("avgpool k3 d2", "dilation must be 1 for avgpool"),
    ("; ".join(["conv k3"] * 9), "at most 8 layers"),
])
def test_parse_layers_errors_name_layer_and_fix(text, message):
    with pytest.raises(ValueError, match=None) as info:
        parse_layers(text)
    assert message in str(info.value)


@pytest.mark.parametrize("name", sorted(RF_PRESETS))
def test_specs_to_text_round_trip(name):
    specs = RF_PRESETS[name]
    back = parse_layers(specs_to_text(specs))
    for a, b in zip(specs, back, strict=True):
        assert (a.kind, a.kernel_size, a.stride, a.padding, a.dilation) == \
            (b.kind, b.kernel_size, b.stride, b.padding, b.dilation)


def test_choose_input_size_and_rows_match_torch():
    specs = parse_layers("conv k5 s2; conv k5 s2; conv k5 s2")
    size = choose_input_size(specs)
    assert size == (32, 32)   # 28 leaves the last conv nothing
    with pytest.raises(RuntimeError):
        torch_sizes(specs, (28, 28))
    rows = rf_rows(specs, size)
    assert [r["output"] for r in rows] == torch_sizes(specs, size)
    assert [r["size"] for r in rows] == [(5, 5), (13, 13), (29, 29)]
    with pytest.raises(ValueError, match="larger than 128"):
        choose_input_size(parse_layers("conv k15 d8; conv k15 d8"))


# ------------------------------------------------------------- widget
def check_state(ex):
    """Widget state against receptive_box, empirical_rf and autograd."""
    s = ex.state
    assert s["error"] == ""
    specs, layer, (i, j), size = (s["specs"], s["layer"], s["cell"],
                                  s["input_size"])
    assert ex.layer.value == layer and (ex.i.value, ex.j.value) == (i, j)
    sizes = torch_sizes(specs, size)
    assert s["output_size"] == sizes[layer]
    assert (ex.i.max, ex.j.max) == (sizes[layer][0] - 1,
                                    sizes[layer][1] - 1)
    assert s["box"] == receptive_box(specs, layer, i, j, size)
    assert torch.equal(s["grad"], empirical_rf(specs, layer, i, j, size))
    support = autograd_support_box(specs, layer, i, j, size)
    if support is None:
        r0, r1, c0, c1 = s["box"]
        assert r0 == r1 and c0 == c1   # an empty box
        assert "only padding" in ex.readout.value
    else:
        assert s["box"] == support
    assert [r["size"] for r in s["rows"]] == \
        [info.size for info in receptive_field(specs)]


def timed_set(widget, value, ex, record_timing):
    """Set a control; record the update it triggers (if any)."""
    if widget.value == value:
        return
    cpu = time.process_time()
    widget.value = value
    record_timing("receptive_explorer", ex.last_ms)
    record_timing("receptive_explorer (cpu ms)",
                  (time.process_time() - cpu) * 1e3)


def test_explorer_presets_and_random_units(record_timing, data_dir):
    ex = receptive_explorer()
    assert ex.state["input_size"] == (28, 28)
    assert "<table" in ex.readout.value
    check_state(ex)
    rng = random.Random(3)
    for name in sorted(RF_PRESETS):
        timed_set(ex.preset, name, ex, record_timing)
        assert ex.layers.value == specs_to_text(RF_PRESETS[name])
        for _ in range(3):
            timed_set(ex.layer, rng.randint(0, ex.layer.max), ex,
                      record_timing)
            timed_set(ex.i, rng.randint(0, ex.i.max), ex, record_timing)
            timed_set(ex.j, rng.randint(0, ex.j.max), ex, record_timing)
            check_state(ex)


def test_explorer_custom_stack_and_blank_grid(record_timing):
    ex = receptive_explorer(preset="two 3x3 convs")
    timed_set(ex.layers, "conv k3 s2 p1; maxpool k2; conv k3 d2; "
              "avgpool k3 s2 p1; conv k5 s2", ex, record_timing)
    assert ex.preset.value == CUSTOM          # editing makes it custom
    assert ex.state["input_size"] == (64, 64)   # 48 is too small:
    with pytest.raises(RuntimeError):
        torch_sizes(ex.state["specs"], (48, 48))
    assert "blank 64x64 grid" in ex.readout.value
    for layer in range(5):
        timed_set(ex.layer, layer, ex, record_timing)
        timed_set(ex.i, ex.i.max, ex, record_timing)
        timed_set(ex.j, ex.j.max // 2, ex, record_timing)
        check_state(ex)
    timed_set(ex.gradient, False, ex, record_timing)
    assert not ex.artists.grad.get_visible()


def test_explorer_bad_text_shows_message_and_recovers(record_timing):
    ex = receptive_explorer()
    good = dict(ex.state)
    for text in ("conv s2", "conv k3; pol k2", "conv k15 d8; conv k15 d8",
                 ""):
        timed_set(ex.layers, text, ex, record_timing)
        assert ex.state["error"], text
        assert "color:#b00" in ex.readout.value
        assert ex.state["box"] == good["box"]   # the last valid figure
    timed_set(ex.layers, "conv k3; maxpool k2", ex, record_timing)
    check_state(ex)


@pytest.mark.parametrize("net", ["LeNet (conv/pool stack)",
                                 [LayerSpec("conv", 3, stride=2)]])
@pytest.mark.parametrize("with_ax", [False, True])
@pytest.mark.parametrize("with_image", [False, True])
def test_plot_receptive_field_smoke(net, with_ax, with_image):
    ax = plt.subplots()[1] if with_ax else None
    image = torch.rand(28, 28, generator=torch.Generator().manual_seed(0)) \
        if with_image else None
    ax = plot_receptive_field(net, -1, 1, 2, image=image, ax=ax)
    assert "RF of unit (1, 2)" in ax.get_title()
    ax.figure.canvas.draw()
    plt.close(ax.figure)


def test_plot_receptive_field_rejects_bad_input():
    with pytest.raises(ValueError, match="image must be 2-D"):
        plot_receptive_field("two 3x3 convs", 0, 0, 0,
                             image=torch.zeros(1, 28, 28))
    with pytest.raises(ValueError, match="i must be an int"):
        plot_receptive_field("two 3x3 convs", 0, 99, 0)
    plt.close("all")


def random_stack(rng):
    """Text of 1-4 random layers (some of them impossible)."""
    layers = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["conv", "conv", "maxpool", "avgpool"])
        words = [kind, f"k{rng.randint(1, 7)}", f"s{rng.randint(1, 3)}",
                 f"p{rng.randint(0, 3)}"]
        if kind == "conv" and rng.random() < 0.3:
            words.append(f"d{rng.randint(2, 4)}")
        layers.append(" ".join(words))
    return "; ".join(layers)


def test_explorer_random_custom_stacks_never_raise(record_timing):
    ex = receptive_explorer(preset="two 3x3 convs")
    rng = random.Random(11)
    ok = bad = 0
    for _ in range(15):
        timed_set(ex.layers, random_stack(rng), ex, record_timing)
        if ex.state["error"]:
            bad += 1
            assert "color:#b00" in ex.readout.value
            continue
        ok += 1
        timed_set(ex.i, rng.randint(0, ex.i.max), ex, record_timing)
        timed_set(ex.layer, rng.randint(0, ex.layer.max), ex, record_timing)
        check_state(ex)
    assert ok and bad   # both kinds of stacks were met
