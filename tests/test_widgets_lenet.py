"""The LeNet viewer, driven headlessly; every plot_* under Agg."""
import io

import matplotlib
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from helpers.data import TEXT_LABELS, load_fashion_mnist
from helpers.evaluate import (
    confusion_matrix, feature_maps, misclassified, predict,
)
from helpers.lenet import lenet
from helpers.plot import lenet as plot
from helpers.widgets.common import Timer
from helpers.widgets.lenet import ANY, lenet_viewer

matplotlib.use("Agg")
N = 1500  # test images the viewer walks through


@pytest.fixture(scope="module")
def data(data_dir):
    return load_fashion_mnist(data_dir)


@pytest.fixture(scope="module")
def net(briefly_trained_lenet):
    return briefly_trained_lenet


@pytest.fixture
def viewer(net, data):
    return lenet_viewer(net, data.test_images[:N], data.test_labels[:N])


def check_state(viewer, net, data):
    """The shown state is what torch computes for the shown image."""
    s = viewer.state
    i = viewer.index.value
    x = data.test_images[i]
    assert s.index == i
    assert s.label == int(data.test_labels[i])
    assert s.label_name == TEXT_LABELS[s.label]
    with torch.no_grad():
        logits = net(x[None])[0]
    torch.testing.assert_close(s.probs, torch.softmax(logits, dim=0))
    assert s.pred == int(logits.argmax()) and s.pred_name == \
        TEXT_LABELS[s.pred]
    # conv outputs after ReLU, recomputed from the weights
    with torch.no_grad():
        c1 = torch.relu(F.conv2d(x[None], net[0].weight, net[0].bias,
                                 padding=2))
        c2 = torch.relu(F.conv2d(F.max_pool2d(c1, 2), net[3].weight,
                                 net[3].bias))
    torch.testing.assert_close(s.maps["conv1"], c1[0])
    torch.testing.assert_close(s.maps["conv2"], c2[0])
    assert s.maps["conv1"].shape == (6, 28, 28)
    assert s.maps["conv2"].shape == (16, 10, 10)
    # the readout names the image and both classes
    assert f"<b>{i}</b>" in viewer.readout.value
    assert s.label_name in viewer.readout.value
    assert s.pred_name in viewer.readout.value


def test_default_state(viewer, net, data):
    assert viewer.index.value == 0
    assert viewer.klass.value == ANY and not viewer.only_wrong.value
    check_state(viewer, net, data)
    assert viewer.view.image.value[:4] == b"\x89PNG"
    assert set(viewer.controls) == {"index", "klass", "only_wrong",
                                    "prev", "next"}


def test_index_slider_updates_state_and_image(viewer, net, data,
                                              record_timing):
    for i in (1, 2, 17, 500, N - 1, 0):
        before = viewer.view.image.value
        with Timer() as t:
            viewer.index.value = i
        record_timing("lenet_viewer", t.ms)
        check_state(viewer, net, data)
        assert viewer.view.image.value != before
        assert viewer.timings and viewer.view.last_ms is not None


def test_class_dropdown_jumps_to_the_next_image_of_that_class(
        viewer, net, data, record_timing):
    labels = data.test_labels[:N]
    viewer.index.value = 10
    for c, name in enumerate(TEXT_LABELS):
        start = viewer.index.value
        with Timer() as t:
            viewer.klass.value = name
        record_timing("lenet_viewer", t.ms)
        hits = [j for j in range(N) if int(labels[j]) == c]
        expected = start if start in hits else min(
            hits, key=lambda h: (h - start) % N)
        assert viewer.index.value == expected
        assert viewer.state.label == c
        check_state(viewer, net, data)


def test_next_and_previous_step_through_one_class(viewer, data):
    labels = data.test_labels[:N]
    coats = [j for j in range(N) if int(labels[j]) == 4]
    viewer.klass.value = "coat"
    assert viewer.index.value == coats[0]
    viewer.next_button.click()
    assert viewer.index.value == coats[1]
    viewer.next_button.click()
    assert viewer.index.value == coats[2]
    viewer.prev_button.click()
    assert viewer.index.value == coats[1]
    viewer.index.value = coats[-1]
    viewer.next_button.click()  # wraps around
    assert viewer.index.value == coats[0]
    viewer.prev_button.click()
    assert viewer.index.value == coats[-1]


def test_only_misclassified_shows_mistakes(viewer, net, data,
                                           record_timing):
    X, y = data.test_images[:N], data.test_labels[:N]
    wrong = misclassified(net, X, y).indices.tolist()
    assert 0 < len(wrong) < N
    viewer.only_wrong.value = True
    seen = []
    for _ in range(5):
        assert viewer.index.value in wrong
        assert viewer.state.pred != viewer.state.label
        assert "wrong" in viewer.readout.value
        seen.append(viewer.index.value)
        with Timer() as t:
            viewer.next_button.click()
        record_timing("lenet_viewer", t.ms)
    assert seen == wrong[:5]
    # combined with a class: mistakes of that class only
    preds = predict(net, X)
    viewer.klass.value = "shirt"
    if viewer.state.message:
        assert not ((y == 6) & (preds != 6)).any()
    else:
        assert viewer.state.label == 6 and viewer.state.pred != 6


def test_every_control_combination_never_raises(net, data):
    v = lenet_viewer(net, data.test_images[:40], data.test_labels[:40])
    present = set(data.test_labels[:40].tolist())
    for only in (False, True):
        v.only_wrong.value = only
        for name in [ANY, *TEXT_LABELS]:
            v.klass.value = name
            v.next_button.click()
            assert v.readout.value
            assert "error" not in v.readout.value
            torch.testing.assert_close(v.state.probs.sum(),
                                       torch.tensor(1.0))
    # a class missing from these 40 images: a message, not an exception
    absent = [c for c in range(10) if c not in present]
    if absent:
        v.only_wrong.value = False
        v.klass.value = TEXT_LABELS[absent[0]]
        assert "no test image matches" in v.readout.value


def test_viewer_bad_arguments_raise_value_error(net, data):
    X, y = data.test_images[:5], data.test_labels[:5]
    with pytest.raises(ValueError, match="index must be"):
        lenet_viewer(net, X, y, index=5)
    with pytest.raises(ValueError, match="equal length"):
        lenet_viewer(net, X, y[:4])


def _png_pixels(png):
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"),
                      dtype=np.int16)


def test_blitted_image_equals_a_full_render(viewer):
    viewer.index.value = 123
    blitted = _png_pixels(viewer.view.image.value)
    for a in viewer.view.dynamic:
        a.set_animated(False)
    canvas = FigureCanvasAgg(viewer.fig)
    buf = io.BytesIO()
    canvas.print_png(buf)
    full = _png_pixels(buf.getvalue())
    assert blitted.shape == full.shape
    # identical up to anti-aliasing of a few edge pixels
    assert (np.abs(blitted - full).max(axis=2) > 8).mean() < 0.002


def test_classic_net_works_in_the_viewer(data, record_timing):
    torch.manual_seed(1)
    net = lenet("classic")
    v = lenet_viewer(net, data.test_images[:50], data.test_labels[:50],
                     index=3)
    with Timer() as t:
        v.index.value = 4
    record_timing("lenet_viewer", t.ms)
    expected = feature_maps(net, data.test_images[4])
    torch.testing.assert_close(v.state.maps["conv1"], expected["conv1"])
    assert 0 < float(v.state.maps["conv1"].min())  # after the sigmoid


# ------------------------------------------------------------ plot smoke
@pytest.fixture
def example(net, data):
    x = data.test_images[0]
    X, y = data.test_images[:300], data.test_labels[:300]
    probs = torch.softmax(net(x[None]), dim=1)[0].detach()
    return dict(x=x, maps=feature_maps(net, x), probs=probs,
                cm=confusion_matrix(net, X, y),
                wrong=misclassified(net, X, y, k=10), X=X)


def _axes(figsize=(4, 3)):
    fig = matplotlib.figure.Figure(figsize=figsize)
    return fig, fig.add_subplot()


def _render(fig):
    FigureCanvasAgg(fig).draw()


def test_tile_maps_places_channel_c_at_row_c_div_ncols():
    maps = torch.arange(5 * 2 * 3, dtype=torch.float32).reshape(5, 2, 3)
    tiled = plot.tile_maps(maps, ncols=3, pad=1)
    assert tiled.shape == (2 * 3 - 1, 3 * 4 - 1)
    for c in range(5):
        r, k = divmod(c, 3)
        np.testing.assert_array_equal(
            tiled[r * 3:r * 3 + 2, k * 4:k * 4 + 3], maps[c].numpy())
    assert np.isnan(tiled[2]).all()  # the gap row
    assert np.isnan(tiled[3:, 8:]).all()  # the missing 6th map
    with pytest.raises(ValueError, match="maps must be"):
        plot.tile_maps(torch.zeros(2, 2))


def test_plot_feature_maps(example):
    import matplotlib.pyplot as plt

    arts = plot.plot_feature_maps(example["maps"])  # fig=None: pyplot
    assert set(arts) == {"conv1", "conv2"}
    fig = arts["conv1"].axes.figure
    assert arts["conv1"].get_array().shape == (28, 6 * 29 - 1)
    assert "conv2: 16 maps" in arts["conv2"].axes.get_title()
    _render(fig)
    plt.close(fig)
    fig = matplotlib.figure.Figure(figsize=(6, 3))
    arts = plot.plot_feature_maps(example["maps"], fig=fig, title="t")
    plot.update_feature_maps(arts, {k: v * 2 for k, v in
                                    example["maps"].items()})
    _render(fig)
    with pytest.raises(ValueError, match="non-empty"):
        plot.plot_feature_maps({})


def test_plot_probabilities(example):
    import matplotlib.pyplot as plt

    bars = plot.plot_probabilities(example["probs"], label=3)
    assert len(bars) == 10
    np.testing.assert_allclose([b.get_width() for b in bars],
                               example["probs"].numpy(), rtol=1e-6)
    assert "prediction:" in bars[0].axes.get_title()
    plt.close(bars[0].axes.figure)
    fig, ax = _axes()
    bars = plot.plot_probabilities(example["probs"], ax=ax)
    plot.update_probabilities(bars, torch.full((10,), 0.1), label=2)
    assert bars[0].get_width() == pytest.approx(0.1)
    _render(fig)
    with pytest.raises(ValueError, match="class_names"):
        plot.plot_probabilities(torch.ones(3), ax=ax)


def test_plot_confusion_matrix(example):
    import matplotlib.pyplot as plt

    ax = plot.plot_confusion_matrix(example["cm"])
    assert ax.get_xlabel() == "predicted class"
    assert [t.get_text() for t in ax.get_yticklabels()] == \
        list(TEXT_LABELS)
    cells = [t.get_text() for t in ax.texts]
    assert cells[:10] == [str(int(v)) for v in example["cm"][0]]
    plt.close(ax.figure)
    fig, ax = _axes((6, 5))
    plot.plot_confusion_matrix(example["cm"], ax=ax, normalize=True)
    _render(fig)
    with pytest.raises(ValueError, match="match class_names"):
        plot.plot_confusion_matrix(torch.zeros(3, 3), ax=ax)


def test_plot_misclassified(example):
    import matplotlib.pyplot as plt

    w, X = example["wrong"], example["X"]
    fig = plot.plot_misclassified(X[w.indices], w.labels, w.preds,
                                  w.probs, indices=w.indices, ncols=5)
    visible = [a for a in fig.axes if a.get_visible()]
    assert len(visible) == len(w)
    assert "->" in visible[0].get_title()
    plt.close(fig)
    fig = matplotlib.figure.Figure()
    plot.plot_misclassified(X[:0], [], [], fig=fig)
    assert "(none)" in fig._suptitle.get_text()
    _render(fig)


def test_plot_history_and_image():
    import matplotlib.pyplot as plt
    from helpers.train import History

    h = History(loss=[2.3, 1.0, 0.6], train_acc=[0.1, 0.6, 0.77],
                test_acc=[0.1, 0.65, 0.75])
    ax = plot.plot_history(h)
    assert len(ax.lines) == 3 and ax.get_title()
    plt.close(ax.figure)
    fig, ax = _axes()
    plot.plot_history(h.as_dict(), ax=ax)
    im = plot.plot_image(torch.rand(1, 28, 28), ax=ax)
    assert im.get_array().shape == (28, 28)
    _render(fig)


def test_plot_lenet_view_and_update(example, net, data):
    import matplotlib.pyplot as plt

    view = plot.plot_lenet_view(example["x"], example["maps"],
                                example["probs"], label=9, index=0)
    assert "true: ankle boot" in view.image.axes.get_title()
    x = data.test_images[1]
    maps = feature_maps(net, x)
    plot.update_lenet_view(view, x, maps, example["probs"], label=2,
                           index=1)
    np.testing.assert_array_equal(view.image.get_array(), x[0].numpy())
    assert "test image 1" in view.image.axes.get_title()
    assert len(view.dynamic_artists()) > 10
    _render(view.fig)
    plt.close(view.fig)
