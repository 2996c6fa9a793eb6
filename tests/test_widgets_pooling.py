"""Pooling explorer (6.5): state vs torch, shift numbers, plot smoke."""
import random

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.plot.pooling import (
    EDGE_K, plot_pool_output, plot_pool_window, plot_pooling_explorer,
    plot_shift_maps, plot_shift_sensitivity, pooling_view, shift_image,
    shift_sensitivity)
from helpers.widgets.common import Timer
from helpers.widgets.pooling import (
    FASHION, INPUTS, load_input, pooling_explorer)


def edge_image():
    X = torch.ones(6, 8)
    X[:, 2:6] = 0
    return X


def torch_shift(X, dx):
    """Shift right by dx with replicated borders, via F.pad (oracle)."""
    Xp = F.pad(X[None, None], (3, 3, 0, 0), mode="replicate")[0, 0]
    return Xp[:, 3 - dx:3 - dx + X.shape[1]]


def torch_pool(X, mode, pool_size, padding, stride):
    fn = F.max_pool2d if mode == "max" else F.avg_pool2d
    return fn(X[None, None], pool_size, stride, padding)[0, 0]


# ------------------------------------------------------------ compute

@pytest.mark.parametrize("dx", [-3, -1, 0, 1, 2, 3])
def test_shift_image_matches_replicate_padding(dx):
    X = torch.randn(5, 9)
    torch.testing.assert_close(shift_image(X, dx), torch_shift(X, dx))


def test_shift_image_vertical():
    X = torch.arange(12.0).reshape(4, 3)
    Y = shift_image(X, (1, 0))
    torch.testing.assert_close(Y[1:], X[:-1])
    torch.testing.assert_close(Y[0], X[0])


def test_shift_sensitivity_edge_image_known_numbers():
    # Conv row [0,1,0,0,0,-1,0] becomes [0,0,1,0,0,0,-1]: 4 of 7 cells
    # change; 2x2 max pooling with stride 1 rows [1,1,0,0,0,0] become
    # [0,1,1,0,0,0]: 2 of 6 cells change.
    r = shift_sensitivity(edge_image(), EDGE_K, shift=1, pool_size=2,
                          mode="max", stride=1)
    assert r.conv_changed == pytest.approx(4 / 7)
    assert r.pool_changed == pytest.approx(2 / 6)
    assert r.conv_rel_change == pytest.approx(2.0)
    assert r.pool_rel_change == pytest.approx(1.0)
    assert r.pool_rel_change < r.conv_rel_change


def test_shift_sensitivity_matches_torch_random():
    rng = random.Random(0)
    for _ in range(25):
        H, W = rng.randint(4, 12), rng.randint(5, 12)
        X = torch.rand(H, W)
        K = torch.randn(rng.randint(1, 2), rng.randint(1, 3))
        dx = rng.randint(-3, 3)
        mode = rng.choice(["max", "avg"])
        p = rng.randint(1, 3)
        s = rng.randint(1, 3)
        pad = rng.randint(0, p // 2)
        r = shift_sensitivity(X, K, dx, p, mode, pad, s)
        Y = F.conv2d(X[None, None], K[None, None])[0, 0]
        Ys = F.conv2d(torch_shift(X, dx)[None, None], K[None, None])[0, 0]
        P, Ps = (torch_pool(A, mode, p, pad, s) for A in (Y, Ys))
        for got, want in ((r.Y, Y), (r.Y_shifted, Ys), (r.P, P),
                          (r.P_shifted, Ps)):
            torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
        assert r.pool_rel_change == pytest.approx(
            ((Ps - P).abs().sum() / P.abs().sum()).item(), rel=1e-4)
        assert r.conv_changed == pytest.approx(
            ((Ys - Y).abs() > 1e-6).float().mean().item())


def test_shift_zero_changes_nothing():
    r = shift_sensitivity(torch.rand(8, 8), shift=0)
    assert (r.conv_changed, r.pool_changed) == (0.0, 0.0)
    assert (r.conv_rel_change, r.pool_rel_change) == (0.0, 0.0)


def test_pooling_reduces_shift_change_on_real_image(data_dir):
    X = load_input(FASHION)
    r = shift_sensitivity(X, shift=1, pool_size=2, mode="max", stride=1)
    assert r.pool_rel_change < 0.6 * r.conv_rel_change


def test_pooling_view_rejects_bad_mode():
    with pytest.raises(ValueError, match="mode"):
        pooling_view(edge_image(), mode="min")


# ------------------------------------------------------------ explorer

def check_state(ex):
    """Compare the explorer's state with PyTorch for its current controls."""
    c = {k: w.value for k, w in ex.controls.items()}
    s = ex.state
    X = load_input(c["input"])
    ph, pw = c["pool_h"], c["pool_w"]
    stride = (c["stride_h"] or ph, c["stride_w"] or pw)
    pad = (c["pad_h"], c["pad_w"])
    assert s["stride"] == stride and s["padding"] == pad
    layer = (nn.MaxPool2d if c["mode"] == "max" else nn.AvgPool2d)(
        (ph, pw), stride=stride, padding=pad)
    try:
        want = layer(X[None, None])[0, 0]
    except RuntimeError:
        want = None
    if want is None or want.numel() == 0:
        assert not s["valid"] and s["message"], c
        assert "impossible" in ex.readout.value
        return
    assert s["valid"], (c, s["message"])
    assert s["out_shape"] == tuple(want.shape) == s["out_shape_torch"]
    torch.testing.assert_close(s["Y"], want)
    i, j = s["i"], s["j"]
    assert 0 <= i < want.shape[0] and 0 <= j < want.shape[1]
    assert i == min(c["i"], want.shape[0] - 1) == ex.controls["i"].value
    assert ex.controls["i"].max == want.shape[0] - 1
    assert ex.controls["j"].max == want.shape[1] - 1
    assert s["value"] == pytest.approx(want[i, j].item(), abs=1e-6)
    assert s["window_rows"] == list(range(i * stride[0], i * stride[0] + ph))
    assert s["window_cols"] == list(range(j * stride[1], j * stride[1] + pw))
    assert f"{want.shape[0]}x{want.shape[1]}" in ex.readout.value


def test_default_state_matches_torch():
    ex = pooling_explorer()
    check_state(ex)
    s = ex.state
    assert s["input"] == "edge image 6x8 (6.2)"
    assert s["out_shape"] == (5, 7)
    assert s["conv_rel_change"] == pytest.approx(2.0)
    assert s["pool_rel_change"] == pytest.approx(1.0)
    assert "57%" in ex.readout.value and "33%" in ex.readout.value


def test_chapter_examples():
    ex = pooling_explorer(input="chapter 3x3 (6.5.1)")
    torch.testing.assert_close(ex.state["Y"],
                               torch.tensor([[4.0, 5], [7, 8]]))
    ex.controls["mode"].value = "avg"
    torch.testing.assert_close(ex.state["Y"],
                               torch.tensor([[2.0, 3], [5, 6]]))
    ex.controls["input"].value = "arange 4x4 (6.5.2)"
    ex.controls["mode"].value = "max"
    for name, v in (("pool_h", 3), ("pool_w", 3), ("stride_h", 0),
                    ("stride_w", 0)):
        ex.controls[name].value = v
    torch.testing.assert_close(ex.state["Y"], torch.tensor([[10.0]]))
    for name, v in (("pad_h", 1), ("pad_w", 1), ("stride_h", 2),
                    ("stride_w", 2)):
        ex.controls[name].value = v
    torch.testing.assert_close(ex.state["Y"],
                               torch.tensor([[5.0, 7], [13, 15]]))


def test_random_settings_match_torch(record_timing, data_dir):
    rng = random.Random(1)
    load_input(FASHION)  # read the data set once, outside the timings
    ex = pooling_explorer()
    names = [k for k in ex.controls if k != "input"]
    for step in range(60):
        if step % 15 == 0:
            name, value = "input", list(INPUTS)[step // 15 % len(INPUTS)]
        else:
            name = rng.choice(names)
            w = ex.controls[name]
            value = (rng.choice(w.options) if name == "mode"
                     else rng.randint(w.min, w.max))
        with Timer() as t:
            ex.controls[name].value = value
        record_timing("pooling_explorer", t.ms)
        check_state(ex)
    # Every input, including the real image, was visited.
    assert ex.state["input"] == list(INPUTS)[3]


def test_impossible_settings_show_message_not_raise():
    ex = pooling_explorer(input="arange 4x4 (6.5.2)")
    ex.controls["pool_h"].value = 3
    ex.controls["pad_h"].value = 2  # more than half the window
    assert not ex.state["valid"]
    assert "half" in ex.state["message"]
    assert "impossible" in ex.readout.value
    ex.controls["pad_h"].value = 0
    ex.controls["pool_h"].value = 5  # larger than the 4x4 input
    assert not ex.state["valid"] and "fit" in ex.state["message"]
    with pytest.raises(RuntimeError):
        nn.MaxPool2d((5, 2), stride=(5, 2))(torch.zeros(1, 1, 4, 4))
    ex.controls["pool_h"].value = 2  # back to a valid setting
    assert ex.state["valid"]
    check_state(ex)


def test_shift_view_invalid_when_conv_output_too_small():
    ex = pooling_explorer(input="chapter 3x3 (6.5.1)")
    ex.controls["pool_w"].value = 3  # the 3x2 conv output is too narrow
    assert ex.state["valid"] and not ex.state["shift_valid"]
    assert "cannot be pooled" in ex.readout.value


def test_shift_slider_changes_numbers(record_timing):
    ex = pooling_explorer()
    curve = ex.state["conv_curve"], ex.state["pool_curve"]
    for dx in range(-3, 4):
        with Timer() as t:
            ex.controls["shift"].value = dx
        record_timing("pooling_explorer", t.ms)
        r = shift_sensitivity(edge_image(), shift=dx, stride=1)
        assert ex.state["conv_rel_change"] == pytest.approx(
            r.conv_rel_change)
        assert ex.state["pool_rel_change"] == pytest.approx(
            r.pool_rel_change)
        k = ex.state["shifts"].index(dx)
        assert (ex.state["conv_curve"][k], ex.state["pool_curve"][k]) == (
            pytest.approx(curve[0][k]), pytest.approx(curve[1][k]))


def test_updates_redraw_the_same_figures_only_where_needed():
    ex = pooling_explorer()
    figs, im = (ex.fig_top, ex.fig_bottom), ex.panels.g_out.im
    pngs = [v.image.value for v in ex.views]
    ex.controls["pool_w"].value = 3  # changes both halves
    assert (ex.fig_top, ex.fig_bottom) == figs and ex.panels.g_out.im is im
    assert ex.redrawn == (True, True)
    assert all(v.image.value != p for v, p in zip(ex.views, pngs))
    pngs = [v.image.value for v in ex.views]
    ex.controls["j"].value = 2  # moves the window: top only
    assert ex.redrawn == (True, False)
    assert ex.views[0].image.value != pngs[0]
    assert ex.views[1].image.value == pngs[1]
    pngs = [v.image.value for v in ex.views]
    ex.controls["shift"].value = -1  # shift view: bottom only
    assert ex.redrawn == (False, True)
    assert ex.views[0].image.value == pngs[0]
    assert ex.views[1].image.value != pngs[1]
    assert ex.last_ms is not None


def test_missing_data_shows_message(monkeypatch):
    import helpers.data

    def missing(*args, **kwargs):
        raise helpers.data.DataNotFoundError("no data here")

    monkeypatch.setattr(helpers.data, "fashion_mnist_image", missing)
    ex = pooling_explorer()
    ex.controls["input"].value = FASHION
    assert ex.controls["input"].value == "edge image 6x8 (6.2)"
    assert "cannot load" in ex.readout.value
    assert ex.state["valid"]


# ------------------------------------------------------------ plot smoke

def _plots():
    X = edge_image()
    return {
        "window": lambda ax: plot_pool_window(X, 2, 1, 2, "max", 1, 2,
                                              ax=ax),
        "output": lambda ax: plot_pool_output(
            torch_pool(X, "avg", 2, 0, 1), 1, 1, ax=ax),
        "shift_curve": lambda ax: plot_shift_sensitivity(X, shift=1, ax=ax),
    }


@pytest.mark.parametrize("name", ["window", "output", "shift_curve"])
@pytest.mark.parametrize("given_ax", [False, True])
def test_plot_smoke(name, given_ax):
    ax = plt.subplots()[1] if given_ax else None
    out = _plots()[name](ax)
    assert out.get_title()
    if given_ax:
        assert out is ax
    out.figure.canvas.draw()
    plt.close("all")


def test_plot_pool_window_title_has_value():
    ax = plot_pool_window(torch.arange(16.0).reshape(4, 4), 3, 0, 0,
                          padding=1, stride=2)
    assert ax.get_title().endswith(": 5")
    plt.close("all")


@pytest.mark.parametrize("fn", [plot_shift_maps, plot_pooling_explorer])
@pytest.mark.parametrize("given_fig", [False, True])
def test_figure_plots_smoke(fn, given_fig):
    fig = plt.figure() if given_fig else None
    X = edge_image()
    out = fn(X, fig=fig)
    if given_fig:
        assert out is fig
    assert all(ax.get_title() for ax in out.axes)
    out.canvas.draw()
    plt.close("all")


# ------------------------------------------------------------ notebook

def test_notebook_pool2d_matches_helpers_and_torch():
    """The chapter's pool2d loop, as stored in notebook 6.5, vs torch."""
    import nbformat
    from pathlib import Path

    from helpers.pooling import pool2d

    path = (Path(__file__).resolve().parent.parent / "notebooks"
            / "6.5-pooling.ipynb")
    nb = nbformat.read(path, as_version=4)
    src = [c.source for c in nb.cells if c.cell_type == "code"
           and c.source.startswith("def pool2d(X, pool_size")]
    assert len(src) == 1
    ns = {"torch": torch}
    exec(src[0], ns)
    rng = random.Random(2)
    for _ in range(10):
        H, W = rng.randint(2, 8), rng.randint(2, 8)
        p = (rng.randint(1, H), rng.randint(1, W))
        X = torch.randn(H, W)
        for mode, fn in (("max", F.max_pool2d), ("avg", F.avg_pool2d)):
            Y = ns["pool2d"](X, p, mode)
            torch.testing.assert_close(Y, fn(X[None, None], p, 1)[0, 0])
            torch.testing.assert_close(Y, pool2d(X, p, mode, stride=1))


def _pixels(view):
    import numpy as np
    return np.asarray(view.canvas.buffer_rgba()).copy()


def _full_render(view):
    """The view's figure drawn whole, every artist (no saved layers)."""
    for a in view.dynamic:
        a.set_animated(False)
    try:
        view.canvas.draw()
        return _pixels(view)
    finally:
        for a in view.dynamic:
            a.set_animated(True)
        view.refresh(ticks=True)  # back to the saved layers


@pytest.mark.parametrize("moves", [
    [("i", 1), ("j", 3), ("shift", -2), ("mode", "avg"), ("i", 2)],
    [("pool_w", 3), ("pad_h", 1), ("mode", "max"), ("j", 2),
     ("shift", 3)],
    [("input", "chapter 3x3 (6.5.1)"), ("pool_w", 3), ("pool_w", 2),
     ("input", "arange 4x4 (6.5.2)"), ("pool_h", 5), ("pool_h", 2),
     ("stride_w", 2), ("i", 1), ("shift", 0)],
])
def test_layered_refresh_matches_full_render(moves):
    """Redrawing only what changed gives the pixels of a whole draw."""
    ex = pooling_explorer()
    for k, (name, value) in enumerate(moves):
        ex.controls[name].value = value
        if k % 2 or k == len(moves) - 1:  # also after unchecked moves
            for view in ex.views:
                shown = _pixels(view)
                assert (shown == _full_render(view)).all(), (name, value)
