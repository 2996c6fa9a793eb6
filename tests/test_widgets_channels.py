"""6.4 widgets driven headlessly; torch (F.conv2d, matmul) is the oracle."""
import itertools

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch
from torch.nn import functional as F

from helpers.plot.channels import (
    KERNEL_PRESETS, MIXER_PRESETS, channel_partials, color_test_image,
    explorer_kernels, pixel_matmul, plot_1x1_mixer, plot_channel_explorer,
    plot_channels, plot_rgb, update_1x1_mixer, update_channel_explorer,
)
from helpers.widgets.channels import channel_explorer, conv1x1_mixer
from helpers.widgets.common import Timer, new_figure

matplotlib.use("Agg")


def conv(X, K):
    """Oracle: PyTorch's cross-correlation, X (c_i,h,w), K (c_o,c_i,kh,kw)."""
    return F.conv2d(X[None], K)[0]


def set_and_time(ex, control, value, record_timing, name):
    with Timer() as t:
        control.value = value
    record_timing(name, t.ms)


def check_explorer_state(ex):
    s = ex.state
    assert s["message"] == ""
    c_i, c_o = ex.c_i.value, ex.c_o.value
    assert s["X"].shape[0] == c_i and s["K"].shape[:2] == (c_o, c_i)
    torch.testing.assert_close(s["X"], ex.X_full[:c_i])
    torch.testing.assert_close(s["K"], ex.K_full[:c_o, :c_i])
    torch.testing.assert_close(s["Y"], conv(s["X"], s["K"]),
                               rtol=1e-5, atol=1e-5)
    for o, c in itertools.product(range(c_o), range(c_i)):
        ref = conv(s["X"][c:c + 1], s["K"][o:o + 1, c:c + 1])[0]
        torch.testing.assert_close(s["partials"][o, c], ref,
                                   rtol=1e-5, atol=1e-5)
    o = s["out_channel"]
    torch.testing.assert_close(s["sum"], s["Y"][o], rtol=1e-5, atol=1e-5)
    k_h, k_w = s["K"].shape[2:]
    layer = torch.nn.Conv2d(c_i, c_o, (k_h, k_w), bias=False)
    assert s["params"] == layer.weight.numel()
    assert s["macs"] == s["Y"].numel() * c_i * k_h * k_w


def test_explorer_default_matches_conv2d(record_timing):
    ex = channel_explorer()
    record_timing("channel_explorer", ex.state["ms"])
    assert ex.state["X"].shape == (3, 16, 16)
    assert ex.state["Y"].shape == (3, 14, 14)
    check_explorer_state(ex)
    assert "3×3×3×3" in ex.readout.value
    # the figure shows the state: the sum panel holds Y[o]
    art = ex.artists
    assert (art.sum_im.get_array() == ex.state["Y"][0].numpy()).all()


def test_explorer_every_channel_combination(record_timing):
    ex = channel_explorer()
    fig_id = id(ex.view.fig)
    image = ex.view.image
    for c_i, c_o in itertools.product([3, 1, 2], [2, 3, 1]):
        set_and_time(ex, ex.c_i, c_i, record_timing, "channel_explorer")
        set_and_time(ex, ex.c_o, c_o, record_timing, "channel_explorer")
        check_explorer_state(ex)
        assert ex.out_channel.max == c_o - 1
        assert ex.in_channel.max == c_i - 1
        # the last channels: the selection sliders reach every o and c
        ex.out_channel.value, ex.in_channel.value = c_o - 1, c_i - 1
        check_explorer_state(ex)
        assert ex.state["out_channel"] == c_o - 1
        assert ex.state["in_channel"] == c_i - 1
        # pre-allocated panels: only the used ones are visible
        art = ex.artists
        assert [a.get_visible() for a in art.x_axes] == [
            c < c_i for c in range(3)]
        assert [a.get_visible() for a in art.y_axes] == [
            q < c_o for q in range(3)]
    assert id(ex.view.fig) == fig_id and ex.view.image is image


def test_explorer_kernel_sliders_edit_one_channel(record_timing):
    ex = channel_explorer()
    ex.out_channel.value, ex.in_channel.value = 1, 2
    before = ex.K_full.clone()
    set_and_time(ex, ex.controls["k01"], -1.5, record_timing,
                 "channel_explorer")
    set_and_time(ex, ex.controls["k22"], 0.7, record_timing,
                 "channel_explorer")
    assert ex.K_full[1, 2, 0, 1] == pytest.approx(-1.5)
    assert ex.K_full[1, 2, 2, 2] == pytest.approx(0.7)
    changed = (ex.K_full != before).nonzero().tolist()
    assert changed == [[1, 2, 0, 1], [1, 2, 2, 2]]
    check_explorer_state(ex)
    # only Y[1] moves, by exactly X[2] ⋆ (K_new - K_old)[1, 2]
    delta = (ex.K_full - before)[1:2, 2:3]
    old_Y = conv(ex.X_full, before)
    torch.testing.assert_close(ex.state["Y"][1] - old_Y[1],
                               conv(ex.X_full[2:3], delta)[0],
                               rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ex.state["Y"][[0, 2]], old_Y[[0, 2]])
    # selecting another kernel shows its values on the sliders
    ex.out_channel.value = 0
    assert ex.controls["k00"].value == pytest.approx(1.0)
    assert ex.controls["k02"].value == pytest.approx(-1.0)
    assert ex.preset.value == "(custom)"


def test_explorer_presets(record_timing):
    ex = channel_explorer()
    ex.in_channel.value = 1
    for name, values in KERNEL_PRESETS.items():
        set_and_time(ex, ex.preset, name, record_timing, "channel_explorer")
        torch.testing.assert_close(ex.K_full[0, 1], torch.tensor(values))
        assert ex.controls["k11"].value == pytest.approx(values[1][1])
        check_explorer_state(ex)
    ex.controls["k00"].value = 0.3
    assert ex.preset.value == "(custom)"
    ex.preset.value = "identity"
    # identity kernel: the partial map is the cropped input channel
    torch.testing.assert_close(ex.state["partials"][0, 1],
                               ex.X_full[1, 1:-1, 1:-1])


def test_explorer_custom_input_and_bad_input():
    X = torch.arange(18.0).reshape(2, 3, 3)
    K = torch.ones(2, 2, 2, 2)
    ex = channel_explorer(X, K)
    assert ex.state["Y"].shape == (2, 2, 2)
    check_explorer_state(ex)
    with pytest.raises(ValueError, match="K.shape\\[1\\]"):
        channel_explorer(X, torch.ones(1, 3, 2, 2))


def test_explorer_reports_instead_of_raising():
    X = torch.rand(3, 16, 16)
    ex = channel_explorer(X, torch.ones(3, 3, 3, 3))
    ex.X_full = torch.rand(3, 2, 2)  # kernel no longer fits
    ex.update()
    assert "fit" in ex.state["message"]
    assert "fit" in ex.readout.value


def test_mixer_matches_conv2d_and_matmul(record_timing):
    m = conv1x1_mixer()
    record_timing("conv1x1_mixer", m.state["ms"])
    for weights in [(0.5, 0.5, 0.5), (0.5, -0.25, 0.11), (-1.0, 0.0, 1.0)]:
        for name, value in zip(("w_r", "w_g", "w_b"), weights):
            set_and_time(m, m.controls[name], value, record_timing,
                         "conv1x1_mixer")
        W = torch.tensor([weights])
        torch.testing.assert_close(m.state["W"], W)
        torch.testing.assert_close(m.state["Y"],
                                   conv(m.X, W.reshape(1, 3, 1, 1)),
                                   rtol=1e-5, atol=1e-6)
    for i, j in [(0, 0), (23, 5), (6, 6), (20, 23)]:
        set_and_time(m, m.row, i, record_timing, "conv1x1_mixer")
        set_and_time(m, m.col, j, record_timing, "conv1x1_mixer")
        s = m.state
        assert s["pixel"] == (i, j)
        torch.testing.assert_close(s["x"], m.X[:, i, j])
        torch.testing.assert_close(s["y"], s["W"] @ m.X[:, i, j])
        assert float(s["y"][0]) == pytest.approx(float(s["Y"][0, i, j]),
                                                 abs=1e-6)
        assert f"({i}, {j})" in m.readout.value
        assert m.state["message"] == ""


def test_mixer_presets(record_timing):
    m = conv1x1_mixer()
    for name, w in MIXER_PRESETS.items():
        set_and_time(m, m.preset, name, record_timing, "conv1x1_mixer")
        assert (m.w_r.value, m.w_g.value, m.w_b.value) == pytest.approx(w)
        torch.testing.assert_close(
            m.state["Y"], conv(m.X, torch.tensor(w).reshape(1, 3, 1, 1)),
            rtol=1e-5, atol=1e-6)
    m.w_g.value = 0.2
    assert m.preset.value == "(custom)"
    # red only: the output is the red channel itself
    m.preset.value = "red only"
    torch.testing.assert_close(m.state["Y"][0], m.X[0])


def test_mixer_marker_follows_pixel():
    m = conv1x1_mixer()
    m.row.value, m.col.value = 3, 17
    xs, ys = m.artists.y_mark.get_data()
    assert (list(xs), list(ys)) == ([17], [3])


# ------------------------------------------------------------ pure helpers
def test_channel_partials_sum_to_conv2d():
    X, K = torch.randn(4, 7, 6), torch.randn(5, 4, 3, 2)
    P = channel_partials(X, K)
    assert P.shape == (5, 4, 5, 5)
    torch.testing.assert_close(P.sum(1), conv(X, K), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(P[3, 2], conv(X[2:3], K[3:4, 2:3])[0],
                               rtol=1e-5, atol=1e-6)


def test_pixel_matmul_is_a_1x1_conv():
    X, K = torch.randn(3, 5, 4), torch.randn(2, 3, 1, 1)
    x, W, y = pixel_matmul(X, K, 4, 1)
    torch.testing.assert_close(y, conv(X, K)[:, 4, 1], rtol=1e-5,
                               atol=1e-6)
    assert W.shape == (2, 3) and x.shape == (3,)


@pytest.mark.parametrize("call, match", [
    (lambda: pixel_matmul(torch.ones(3, 4, 4), torch.ones(1, 3, 1, 1), 4, 0),
     "pixel"),
    (lambda: pixel_matmul(torch.ones(3, 4, 4), torch.ones(1, 3, 2, 2), 0, 0),
     "1x1"),
    (lambda: channel_partials(torch.ones(2, 4, 4), torch.ones(1, 3, 2, 2)),
     "c_i"),
    (lambda: channel_partials(torch.ones(4, 4), torch.ones(1, 1, 2, 2)),
     "X must have shape"),
    (lambda: color_test_image(2), "size"),
])
def test_pure_helpers_reject_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_color_test_image_and_default_kernels():
    X = color_test_image(16)
    assert X.shape == (3, 16, 16)
    assert 0 <= float(X.min()) and float(X.max()) <= 1
    # every channel carries a different picture
    assert not torch.equal(X[0], X[1]) and not torch.equal(X[1], X[2])
    K = explorer_kernels()
    assert K.shape == (3, 3, 3, 3)
    # Y[1] = red - green at the centre pixel of each window
    Y = conv(X, K)
    torch.testing.assert_close(Y[1], (X[0] - X[1])[1:-1, 1:-1])


# ------------------------------------------------------- plot smoke tests
CHAPTER_X = torch.tensor([[[0.0, 1, 2], [3, 4, 5], [6, 7, 8]],
                          [[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]])
CHAPTER_K = torch.tensor([[[0.0, 1], [2, 3]], [[1.0, 2], [3, 4]]])


def test_plot_rgb_and_channels_smoke():
    X = color_test_image(8)
    ax = plot_rgb(X, marker=(2, 3))
    assert ax.get_title() and ax.figure is not None
    fig, given = plt.subplots()
    assert plot_rgb(X, ax=given) is given
    axes = plot_channels(X)
    assert len(axes) == 3 and axes[1].get_title()
    fig2, row = plt.subplots(1, 3)
    assert list(plot_channels(CHAPTER_X, axes=list(row))) == list(row)[:2]
    # small inputs are annotated with their values
    assert [t.get_text() for t in row[0].texts][:3] == ["0", "1", "2"]
    plt.close("all")


def test_plot_channel_explorer_smoke():
    art = plot_channel_explorer(CHAPTER_X, CHAPTER_K[None])
    assert art.fig._suptitle.get_text()
    # the chapter's numbers are written into the sum panel
    assert [t.get_text() for t in art.sum_texts] == ["56", "72", "104",
                                                     "120"]
    fig = new_figure((6, 4), dpi=72)
    art = plot_channel_explorer(color_test_image(8), explorer_kernels(),
                                2, fig=fig)
    assert art.fig is fig and len(art.y_axes) == 3
    update_channel_explorer(art, color_test_image(8)[:1],
                            explorer_kernels()[:2, :1], 1)
    assert not art.x_axes[1].get_visible()
    assert not art.y_axes[2].get_visible()
    plt.close("all")


def test_plot_1x1_mixer_smoke():
    X = color_test_image(8)
    K = torch.tensor([0.3, 0.59, 0.11]).reshape(1, 3, 1, 1)
    art = plot_1x1_mixer(X, K, 2, 3)
    assert "W x" in art.text.get_text()
    fig = new_figure((6, 2.5), dpi=72)
    art = plot_1x1_mixer(X, K, 0, 0, fig=fig, show_text=False)
    assert art.fig is fig and art.text is None
    update_1x1_mixer(art, X, -K, 7, 7)
    assert art.y_im.get_array()[7, 7] == pytest.approx(
        float(conv(X, -K)[0, 7, 7]))
    plt.close("all")
