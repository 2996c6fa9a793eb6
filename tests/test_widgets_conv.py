"""The 6.2 kernel explorer, driven headlessly; torch is the oracle.

Also a smoke test of every plot_* in helpers/plot/conv.py under Agg.
"""
import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F

import helpers.plot.conv as pc
import helpers.widgets.conv as wc
from helpers.conv import corr2d_fast
from helpers.widgets.common import Timer

NAME = "kernel_explorer (6.2)"


@pytest.fixture
def ex(data_dir, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(data_dir))
    return wc.kernel_explorer()


def _set(ex, record_timing, control, value):
    """Set one control, time the update, check no error was shown."""
    changed = control.value != value
    with Timer() as t:
        control.value = value
    if changed:  # an unchanged value triggers no update
        record_timing(NAME, t.ms)
    assert ex.state["message"] == "", ex.state["message"]


def _check_state(ex):
    """Everything the figure shows agrees with torch."""
    s = ex.state
    X, K, i, j = s["X"], s["K"], s["i"], s["j"]
    ref = F.conv2d(X[None, None], K[None, None])[0, 0]
    assert s["output_shape"] == tuple(ref.shape)
    assert torch.allclose(s["output"], ref, atol=1e-5)
    assert torch.allclose(corr2d_fast(X, K), ref, atol=1e-5)
    assert 0 <= i < ref.shape[0] and 0 <= j < ref.shape[1]
    assert s["rows"] == list(range(i, i + K.shape[0]))
    assert s["cols"] == list(range(j, j + K.shape[1]))
    window = X[i:i + K.shape[0], j:j + K.shape[1]]
    assert torch.equal(s["patch"], window)
    assert torch.allclose(s["products"], window * K)
    assert s["sum"] == pytest.approx(float(ref[i, j]), abs=1e-4)
    # the sliders cover exactly the output map
    assert (ex.i.max, ex.j.max) == (ref.shape[0] - 1, ref.shape[1] - 1)
    assert (ex.i.value, ex.j.value) == (i, j)


def test_default_is_the_chapter_edge_example(ex):
    s = ex.state
    assert tuple(s["X"].shape) == (6, 8)
    assert s["K"].tolist() == [[1.0, -1.0]]
    assert s["output_shape"] == (6, 7)
    # window over X[0, 1:3] = [1, 0]: the edge, 1*1 + 0*(-1) = 1
    assert (s["i"], s["j"], s["sum"]) == (0, 1, 1.0)
    _check_state(ex)
    assert "(6, 7)" in ex.readout.value


@pytest.mark.parametrize("input_name", pc.EXPLORER_INPUTS)
def test_inputs_presets_positions_match_torch(ex, record_timing,
                                              input_name):
    _set(ex, record_timing, ex.input, input_name)
    _check_state(ex)
    for preset in ("Sobel vertical", "sharpen", "chapter [1, -1]"):
        _set(ex, record_timing, ex.preset, preset)
        assert torch.equal(ex.state["K"], pc.kernel_preset(preset))
        _check_state(ex)
    for i, j in ((1, 0), (ex.i.max, ex.j.max), (2, 3)):
        _set(ex, record_timing, ex.i, min(i, ex.i.max))
        _set(ex, record_timing, ex.j, min(j, ex.j.max))
        assert (ex.state["i"], ex.state["j"]) == (min(i, ex.i.max),
                                                  min(j, ex.j.max))
        _check_state(ex)


def test_every_preset_fills_the_boxes(ex, record_timing):
    for preset in pc.KERNEL_PRESETS:
        _set(ex, record_timing, ex.preset, preset)
        K = pc.kernel_preset(preset)
        boxes = torch.tensor([b.value for b in ex.k]).reshape(3, 3)
        assert torch.allclose(boxes[:K.shape[0], :K.shape[1]], K,
                              atol=1e-4)
        assert ex.preset.value == preset  # filling did not switch it
        _check_state(ex)


def test_custom_kernel_from_the_boxes(ex, record_timing):
    _set(ex, record_timing, ex.input, "checkerboard")
    _set(ex, record_timing, ex.preset, "identity")
    _set(ex, record_timing, ex.k[0], 2.0)  # editing switches to custom
    assert ex.preset.value == wc.CUSTOM
    want = pc.kernel_preset("identity").clone()
    want[0, 0] = 2.0
    assert torch.equal(ex.state["K"], want)
    _check_state(ex)
    for n, v in enumerate((0.5, -1.0, 0.0, 1.0, 3.0, -2.0, 0.0, 0.25,
                           1.5)):
        _set(ex, record_timing, ex.k[n], v)
    K = torch.tensor([0.5, -1.0, 0.0, 1.0, 3.0, -2.0, 0.0, 0.25, 1.5]
                     ).reshape(3, 3)
    assert torch.equal(ex.state["K"], K)
    _set(ex, record_timing, ex.i, 4)
    _set(ex, record_timing, ex.j, 5)
    _check_state(ex)


def test_position_clamps_when_the_output_shrinks(ex, record_timing):
    _set(ex, record_timing, ex.input, "Fashion-MNIST")
    _set(ex, record_timing, ex.i, 27)
    _set(ex, record_timing, ex.j, 26)
    assert ex.state["output_shape"] == (28, 27)
    _check_state(ex)
    _set(ex, record_timing, ex.preset, "blur")  # 3 x 3: output 26 x 26
    assert (ex.state["i"], ex.state["j"]) == (25, 25)
    _check_state(ex)
    _set(ex, record_timing, ex.input, "chapter 6x8")  # output 4 x 6
    assert (ex.state["i"], ex.state["j"]) == (3, 5)
    _check_state(ex)


def test_a_failing_input_is_reported_not_raised(ex, monkeypatch):
    def missing(name, index=0):
        raise FileNotFoundError("Fashion-MNIST was not found")

    monkeypatch.setattr(wc, "explorer_input", missing)
    ex.input.value = "diagonal"  # not cached yet: the loader fails
    assert "not found" in ex.state["message"]
    assert "not found" in ex.readout.value
    ex.j.value = 0  # the explorer keeps working on the last input
    assert ex.state["message"] == ""
    _check_state(ex)


def test_explorer_state_rejects_bad_shapes():
    with pytest.raises(ValueError, match="must fit"):
        pc.explorer_state(torch.ones(2, 2), torch.ones(3, 3), 0, 0)
    with pytest.raises(ValueError, match="2-D"):
        pc.explorer_state(torch.ones(2, 2, 2), torch.ones(1, 1), 0, 0)
    with pytest.raises(ValueError, match="name must be one of"):
        pc.explorer_input("nope")
    with pytest.raises(ValueError, match="name must be one of"):
        pc.kernel_preset("nope")


def test_explorer_inputs(data_dir, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(data_dir))
    X = pc.explorer_input("chapter 6x8")
    assert torch.equal(X[:, 2:6], torch.zeros(6, 4))
    assert torch.equal(X[:, [0, 1, 6, 7]], torch.ones(6, 4))
    assert tuple(pc.explorer_input("Fashion-MNIST").shape) == (28, 28)
    C = pc.explorer_input("checkerboard")
    assert torch.equal(C, C.T) and C.sum() == C.numel() / 2
    D = pc.explorer_input("diagonal")
    assert torch.equal(D, torch.tril(torch.ones_like(D)))


# ------------------------------------------------------ plot smoke tests
def _plot_calls():
    X = pc.edge_image()
    K = pc.kernel_preset("chapter [1, -1]")
    Y = corr2d_fast(X, K)
    return {
        "plot_matrix": (1, lambda ax: pc.plot_matrix(X, "X", ax=ax)),
        "plot_matrices": (3, lambda ax: pc.plot_matrices(
            [X, K, Y], ["X", "K", "Y"], ax=ax)),
        "plot_feature_maps": (2, lambda ax: pc.plot_feature_maps(
            [X, Y], ["X", "Y"], ax=ax)),
        "plot_param_counts": (1, lambda ax: pc.plot_param_counts(
            {"fully connected": 10 ** 9, "conv": 441}, ax=ax)),
        "plot_shift_equivariance": (4, lambda ax: pc.plot_shift_equivariance(
            X, Y, X.roll(1, 1), Y.roll(1, 1), (0, 1), ax=ax)),
        "plot_conv_vs_corr": (2, lambda ax: pc.plot_conv_vs_corr(
            torch.arange(5.0), torch.tensor([1.0, 2.0, 0.0]),
            torch.arange(3.0), torch.arange(3.0), ax=ax)),
        "plot_loss_curve": (1, lambda ax: pc.plot_loss_curve(
            [4.0, 2.0, 1.0], ax=ax, num_epochs=10)),
        "plot_receptive_field_stack": (3, lambda ax:
                                       pc.plot_receptive_field_stack(
            [(3, 3), (2, 2), (1, 1)], [(0, 3, 0, 3), (0, 2, 0, 2),
                                       (0, 1, 0, 1)], ["X", "Y", "z"],
            ax=ax)),
        "plot_kernel_explorer": (4, lambda ax: pc.plot_kernel_explorer(
            X, pc.kernel_preset("blur"), 2, 3, ax=ax)),
    }


def test_every_plot_function_is_covered():
    names = {n for n in dir(pc) if n.startswith("plot_")}
    assert names == set(_plot_calls())


@pytest.mark.parametrize("name", sorted(_plot_calls()))
def test_plot_smoke(name):
    n_axes, call = _plot_calls()[name]
    call(None)  # ax=None: draws into a new pyplot figure
    plt.gcf().canvas.draw()
    plt.close("all")
    fig, axes = plt.subplots(1, n_axes)
    call(axes)
    fig.canvas.draw()
    for a in fig.axes:
        assert a.get_title(), f"{name}: an axes without a title"
    plt.close(fig)


def test_loss_curve_updates_in_place():
    ax, line = pc.plot_loss_curve([1.0], num_epochs=5)
    pc.update_loss_curve(ax, line, [1.0, 0.5, 0.25])
    assert list(line.get_ydata()) == [1.0, 0.5, 0.25]
    assert len(ax.lines) == 1
    plt.close("all")


def test_plot_wrong_number_of_axes():
    fig, axes = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="ax must hold 4 axes"):
        pc.plot_kernel_explorer(pc.edge_image(), torch.ones(1, 2), ax=axes)
    plt.close(fig)
