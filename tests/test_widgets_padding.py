"""Padding/stride explorer (6.3): layout, figure and widget vs nn.Conv2d."""
import math
import random
import time

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from helpers.conv import window_at
from helpers.plot.padding import (
    input_codes, nn_output_shape, padding_layout, plot_padding,
    split_padding,
)
from helpers.widgets.padding import SLIDERS, TOTAL, padding_explorer


def torch_shape(n, k, p, s, d, total):
    """Oracle: the (H, W) nn.Conv2d gives, or None if it refuses."""
    X = torch.zeros(1, 1, *n)
    if total:
        X = F.pad(X, (math.ceil(p[1] / 2), p[1] // 2,
                      math.ceil(p[0] / 2), p[0] // 2))
        p = (0, 0)
    conv = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
    try:
        with torch.no_grad():
            return tuple(conv(X).shape[-2:])
    except RuntimeError:
        return None


def random_setting(rng):
    return dict(n=(rng.randint(1, 12), rng.randint(1, 12)),
                k=(rng.randint(1, 7), rng.randint(1, 7)),
                p=(rng.randint(0, 4), rng.randint(0, 4)),
                s=(rng.randint(1, 4), rng.randint(1, 4)),
                d=rng.randint(1, 3), total=rng.random() < 0.5)


@pytest.mark.parametrize("seed", range(4))
def test_layout_matches_nn_conv2d(seed):
    rng = random.Random(seed)
    for _ in range(60):
        c = random_setting(rng)
        lay = padding_layout(c["n"], c["k"], c["p"], c["s"], c["d"],
                             c["total"])
        want = torch_shape(c["n"], c["k"], c["p"], c["s"], (c["d"],) * 2,
                           c["total"])
        assert lay.output_shape == want, c
        if want is None:
            assert lay.error.startswith("impossible")
        else:
            assert lay.error is None
            assert nn_output_shape(lay) == want


def test_chapter_split_of_total_padding():
    assert split_padding(3, total=True) == (2, 1)
    assert split_padding(3, total=False) == (3, 3)
    lay = padding_layout((5, 6), (4, 2), padding=(3, 1), total=True)
    assert lay.pads == (2, 1, 1, 0)
    assert lay.total_padding == (3, 1)
    assert lay.padded_size == (8, 7)


def test_windows_match_window_at():
    X = torch.arange(35.).reshape(5, 7)
    K = torch.ones(3, 2)
    lay = padding_layout((5, 7), (3, 2), padding=(1, 2), stride=(2, 3),
                         dilation=(1, 2))
    o_h, o_w = lay.output_shape
    assert (o_h, o_w) == tuple(F.conv2d(
        X[None, None], K[None, None], padding=(1, 2), stride=(2, 3),
        dilation=(1, 2)).shape[-2:])
    for i in range(o_h):
        for j in range(o_w):
            w = window_at(X, K, i, j, padding=(1, 2), stride=(2, 3),
                          dilation=(1, 2))
            rows, cols = lay.window(i, j)
            assert list(w.rows) == rows and list(w.cols) == cols
    assert len(lay.corners()) == o_h * o_w


def test_input_codes_mark_padding_input_and_window():
    lay = padding_layout(4, 3, padding=1)
    codes = input_codes(lay, 0, 0)
    assert codes.shape == (6, 6)
    assert (codes == 0).sum() + (codes == 3).sum() == 36 - 16
    # window (0, 0) covers rows/cols 0..2: 5 padding cells, 4 input cells
    assert (codes == 3).sum() == 5 and (codes == 2).sum() == 4


def test_bad_parameters_raise_value_error():
    with pytest.raises(ValueError, match="stride must be >= 1"):
        padding_layout(5, 3, stride=0)
    with pytest.raises(ValueError, match="kernel_size"):
        padding_layout(5, (3, 3, 3))


def controls_setting(ex):
    """The setting the explorer's controls describe."""
    v = {name: w.value for name, w in ex.controls.items()}
    return dict(n=(v["input_h"], v["input_w"]),
                k=(v["kernel_h"], v["kernel_w"]),
                p=(v["padding_h"], v["padding_w"]),
                s=(v["stride_h"], v["stride_w"]), d=v["dilation"],
                total=v["convention"] == TOTAL)


def test_explorer_random_walk_agrees_with_nn_conv2d(record_timing):
    """Move 1-2 random controls per step, as a learner would."""
    ex = padding_explorer()
    assert set(ex.controls) >= {name for name, *_ in SLIDERS}
    sliders = {name: (low, high) for name, _, low, high in SLIDERS}
    rng = random.Random(7)
    impossible = 0
    for step in range(45):
        for name in rng.sample(sorted(sliders) + ["convention"], 2):
            widget = ex.controls[name]
            cpu = time.process_time()
            if name == "convention":
                widget.value = widget.options[step % 2]
            else:
                widget.value = rng.randint(*sliders[name])
            cpu_ms = (time.process_time() - cpu) * 1e3
            record_timing("padding_explorer", ex.last_ms)
            record_timing("padding_explorer (cpu ms)", cpu_ms)
        c = controls_setting(ex)
        want = torch_shape(c["n"], c["k"], c["p"], c["s"], (c["d"],) * 2,
                           c["total"])
        s = ex.state
        assert s["output_formula"] == want, c
        assert s["output_torch"] == want, c
        if want is None:
            impossible += 1
            assert "impossible" in s["error"]
            assert "impossible" in ex.readout.value
        else:
            assert s["error"] == ""
            assert "agree" in ex.readout.value
            i, j = s["cell"]
            assert 0 <= i < want[0] and 0 <= j < want[1]
    assert impossible > 0   # the walk did reach impossible settings


def test_explorer_impossible_setting_shows_message():
    ex = padding_explorer()
    before = ex.view.image.value
    ex.padding_h.value = 0
    ex.input_h.value = 2
    ex.kernel_h.value = 7
    assert ex.state["output_formula"] is None
    assert ex.state["output_torch"] is None
    assert "kernel is 7 in h" in ex.state["error"]
    assert "impossible" in ex.readout.value
    assert ex.view.image.value != before        # the figure says it too
    ex.kernel_h.value = 2                       # and recovers
    assert ex.state["output_formula"] == (1, 5) == ex.state["output_torch"]


def test_explorer_cell_sliders_follow_output(record_timing):
    ex = padding_explorer(input_size=(8, 8), kernel_size=(3, 3),
                          padding=(1, 1))
    ex.i.value, ex.j.value = 7, 6
    assert ex.state["cell"] == (7, 6)
    rows, cols = ex.state["layout"].window(7, 6)
    assert rows == [7, 8, 9] and cols == [6, 7, 8]
    ex.stride_h.value = 3                      # output 8 -> 3 rows
    assert ex.i.max == 2 and ex.state["cell"] == (2, 6)
    assert ex.state["output_formula"] == (3, 8)
    record_timing("padding_explorer", ex.last_ms)


def test_explorer_dilation_and_total_padding():
    ex = padding_explorer(input_size=(6, 6), kernel_size=(3, 3),
                          padding=(4, 4), dilation=2, total=True)
    assert ex.state["layout"].pads == (2, 2, 2, 2)
    assert ex.state["output_torch"] == (6, 6)   # p = 2*(3-1): "same"
    ex.padding_w.value = 3                      # odd total: 2 left, 1 right
    assert ex.state["layout"].pads[2:] == (2, 1)
    assert ex.state["output_formula"] == (6, 5) == ex.state["output_torch"]
    assert "F.pad" in ex.readout.value


@pytest.mark.parametrize("kwargs", [
    dict(input_size=5, kernel_size=3, padding=1, stride=2, cell=(1, 2)),
    dict(input_size=(8, 8), kernel_size=(3, 5), padding=(0, 1),
         stride=(3, 4)),
    dict(input_size=6, kernel_size=4, padding=3, total=True, dilation=2),
    dict(input_size=3, kernel_size=5),          # impossible: a message
])
@pytest.mark.parametrize("with_ax", [False, True])
def test_plot_padding_smoke(kwargs, with_ax):
    ax = plt.subplots(1, 2)[1] if with_ax else None
    art = plot_padding(**kwargs, ax=ax)
    fig = art.ax_in.figure
    assert art.ax_in.get_title() and art.ax_out.get_title()
    if art.layout.output_shape is None:
        assert "impossible" in art.message.get_text()
    fig.canvas.draw()
    plt.close(fig)


def test_plot_padding_rejects_bad_ax_and_cell():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="pair of Axes"):
        plot_padding(5, 3, ax=ax)
    with pytest.raises(ValueError, match="cell must lie"):
        plot_padding(5, 3, cell=(3, 0))
    plt.close("all")
