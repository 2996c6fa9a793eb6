"""helpers.evaluate against hand-written torch code and hand counts."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.data import load_fashion_mnist
from helpers.evaluate import (
    class_accuracy, confusion_matrix, confusion_matrix_from_preds,
    conv_layer_names, feature_maps, misclassified, most_confused_pairs,
    predict, predict_proba,
)
from helpers.lenet import lenet


@pytest.fixture(scope="module")
def data(data_dir):
    return load_fashion_mnist(data_dir)


@pytest.fixture(scope="module")
def test_set(data):
    return data.test_images[:600], data.test_labels[:600]


@pytest.fixture(scope="module")
def trained(briefly_trained_lenet):
    return briefly_trained_lenet


def manual_maps(net, x, variant):
    """Run LeNet's first layers by hand with torch.nn.functional."""
    act = torch.sigmoid if variant == "classic" else torch.relu
    pool = F.avg_pool2d if variant == "classic" else F.max_pool2d
    c1, c2 = net[0], net[3]
    with torch.no_grad():
        raw1 = F.conv2d(x[None], c1.weight, c1.bias, padding=2)
        raw2 = F.conv2d(pool(act(raw1), 2, 2), c2.weight, c2.bias)
    return {"conv1": (raw1[0], act(raw1)[0]),
            "conv2": (raw2[0], act(raw2)[0])}


# ------------------------------------------------------------ predictions
def test_predict_proba_is_softmax_of_the_outputs(trained, test_set):
    X = test_set[0][:50]
    P = predict_proba(trained, X)
    with torch.no_grad():
        expected = torch.softmax(trained(X), dim=1)
    assert P.shape == (50, 10)
    torch.testing.assert_close(P, expected)
    torch.testing.assert_close(P.sum(dim=1), torch.ones(50))
    assert torch.equal(predict(trained, X), expected.argmax(dim=1))


@pytest.mark.parametrize("shape", [(28, 28), (1, 28, 28), (1, 1, 28, 28)])
def test_predict_proba_accepts_one_image_in_any_layout(trained, test_set,
                                                       shape):
    x = test_set[0][7]
    P = predict_proba(trained, x.reshape(shape))
    torch.testing.assert_close(P, predict_proba(trained, x[None]))


def test_predict_proba_chunks_agree_with_one_batch(trained, test_set):
    X = test_set[0][:130]
    torch.testing.assert_close(predict_proba(trained, X, batch_size=17),
                               predict_proba(trained, X))


def test_predict_proba_rejects_bad_shapes(trained):
    with pytest.raises(ValueError, match="X must have shape"):
        predict_proba(trained, torch.zeros(2, 2, 1, 28, 28))
    with pytest.raises(ValueError, match="torch.Tensor"):
        predict_proba(trained, [[0.0]])


# ------------------------------------------------------------ feature maps
@pytest.mark.parametrize("variant", ["classic", "modern"])
@pytest.mark.parametrize("index", [0, 1, 123])
def test_feature_maps_match_the_layers_run_by_hand(variant, index,
                                                   test_set):
    torch.manual_seed(index)
    net = lenet(variant)
    x = test_set[0][index]  # (1, 28, 28)
    expected = manual_maps(net, x, variant)
    after = feature_maps(net, x)
    raw = feature_maps(net, x, after_activation=False)
    assert list(after) == ["conv1", "conv2"] == conv_layer_names(net)
    assert after["conv1"].shape == (6, 28, 28)
    assert after["conv2"].shape == (16, 10, 10)
    for name in ("conv1", "conv2"):
        torch.testing.assert_close(raw[name], expected[name][0])
        torch.testing.assert_close(after[name], expected[name][1])


def test_feature_maps_of_a_trained_net_and_image_layouts(trained,
                                                         test_set):
    x = test_set[0][5]
    expected = manual_maps(trained, x, "modern")
    for shaped in (x, x[0], x[None]):
        maps = feature_maps(trained, shaped)
        torch.testing.assert_close(maps["conv2"], expected["conv2"][1])


def test_feature_maps_survive_an_inplace_relu():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(inplace=True),
                        nn.Flatten())
    x = torch.randn(1, 8, 8)
    raw = F.conv2d(x[None], net[0].weight, net[0].bias)[0].detach()
    assert (raw < 0).any()  # else the test proves nothing
    torch.testing.assert_close(
        feature_maps(net, x, after_activation=False)["conv1"], raw)
    torch.testing.assert_close(feature_maps(net, x)["conv1"],
                               raw.clamp(min=0))


def test_feature_maps_bad_input_raises_value_error(trained, test_set):
    with pytest.raises(ValueError, match="single image"):
        feature_maps(trained, test_set[0][:2])
    with pytest.raises(ValueError, match="nn.Sequential"):
        feature_maps(nn.Conv2d(1, 1, 3), test_set[0][0])
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        feature_maps(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)),
                     test_set[0][0])


# -------------------------------------------------------- confusion matrix
def test_confusion_matrix_against_a_hand_count(trained, test_set):
    X, y = test_set
    cm = confusion_matrix(trained, X, y)
    with torch.no_grad():
        preds = trained(X).argmax(dim=1)
    manual = torch.zeros(10, 10, dtype=torch.int64)
    for t, p in zip(y.tolist(), preds.tolist()):
        manual[t, p] += 1
    assert torch.equal(cm, manual)
    assert int(cm.sum()) == len(X)
    assert torch.equal(cm.sum(dim=1), torch.bincount(y, minlength=10))
    # the diagonal is the number of correct predictions
    correct = int((preds == y).sum())
    assert int(cm.trace()) == correct
    assert 0 < correct < len(X)  # a useful, imperfect net
    torch.testing.assert_close(
        class_accuracy(cm), cm.diagonal().double() / cm.sum(dim=1))


def test_confusion_matrix_agrees_with_evaluate_accuracy_gpu(trained,
                                                            test_set):
    from helpers.data import TensorLoader
    from helpers.train import evaluate_accuracy_gpu

    X, y = test_set
    cm = confusion_matrix(trained, X, y)
    acc = evaluate_accuracy_gpu(trained, TensorLoader(X, y, 128))
    assert int(cm.trace()) == round(acc * len(X))


def test_confusion_matrix_from_preds_known_numbers():
    cm = confusion_matrix_from_preds([0, 1, 1, 2, 0], [0, 1, 2, 2, 1], 3)
    assert cm.tolist() == [[1, 0, 0], [1, 1, 0], [0, 1, 1]]


def test_confusion_matrix_bad_input_raises_value_error(trained, test_set):
    X, y = test_set
    with pytest.raises(ValueError, match="one label per image"):
        confusion_matrix(trained, X[:5], y[:4])
    with pytest.raises(ValueError, match="labels must lie in 0..2"):
        confusion_matrix_from_preds([0, 1], [0, 5], num_classes=3)
    with pytest.raises(ValueError, match="num_classes"):
        confusion_matrix_from_preds([0], [0], num_classes=0)


# ----------------------------------------------------------- misclassified
def test_misclassified_are_really_misclassified(trained, test_set):
    X, y = test_set
    m = misclassified(trained, X, y)
    with torch.no_grad():
        P = torch.softmax(trained(X), dim=1)
    wrong = torch.nonzero(P.argmax(dim=1) != y).reshape(-1)
    assert torch.equal(m.indices, wrong)  # all of them, in order
    assert len(m) == len(X) - int(confusion_matrix(trained, X, y).trace())
    assert torch.equal(m.labels, y[m.indices])
    assert (m.preds != m.labels).all()
    assert torch.equal(m.preds, P[m.indices].argmax(dim=1))
    torch.testing.assert_close(m.probs, P[m.indices].max(dim=1).values)


def test_misclassified_k_and_confidence_order(trained, test_set):
    X, y = test_set
    every = misclassified(trained, X, y)
    first = misclassified(trained, X, y, k=5)
    assert torch.equal(first.indices, every.indices[:5])
    top = misclassified(trained, X, y, k=8, order="confidence")
    assert len(top) == 8
    assert (top.probs[:-1] >= top.probs[1:]).all()
    assert torch.isclose(top.probs[0], every.probs.max())
    assert len(misclassified(trained, X, y, k=0)) == 0


def test_misclassified_bad_input_raises_value_error(trained, test_set):
    X, y = test_set
    with pytest.raises(ValueError, match="k must be"):
        misclassified(trained, X, y, k=-1)
    with pytest.raises(ValueError, match="order must be"):
        misclassified(trained, X, y, order="loss")


# ------------------------------------------------------ most confused pairs
def test_most_confused_pairs_known_matrix():
    cm = torch.tensor([[50, 2, 9, 0],
                       [1, 40, 0, 6],
                       [8, 0, 30, 1],
                       [0, 6, 2, 45]])
    pairs = most_confused_pairs(cm, k=3)
    assert [(p.a, p.b, p.count) for p in pairs] == [
        (0, 2, 17), (1, 3, 12), (0, 1, 3)]
    assert (pairs[0].a_as_b, pairs[0].b_as_a) == (9, 8)
    ordered = most_confused_pairs(cm, k=2, symmetric=False)
    assert [(p.a, p.b, p.count) for p in ordered] == [(0, 2, 9), (2, 0, 8)]


def test_most_confused_pairs_ties_are_deterministic_and_zeros_dropped():
    cm = torch.tensor([[5, 1, 0], [0, 5, 1], [0, 0, 5]])
    pairs = most_confused_pairs(cm, k=5)
    assert [(p.a, p.b, p.count) for p in pairs] == [(0, 1, 1), (1, 2, 1)]


def test_most_confused_pairs_on_a_real_matrix(trained, test_set):
    cm = confusion_matrix(trained, *test_set)
    off = cm.clone()
    off.fill_diagonal_(0)
    sym = off + off.T
    best = most_confused_pairs(cm, k=1)[0]
    assert best.count == int(sym.max())
    assert best.count == int(cm[best.a, best.b] + cm[best.b, best.a])


def test_most_confused_pairs_bad_input():
    with pytest.raises(ValueError, match="square"):
        most_confused_pairs(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="k must be"):
        most_confused_pairs(torch.zeros(3, 3), k=0)


# ------------------------------------------- exercise checkers built on it
def test_exercise_checkers_accept_the_right_nets(capsys):
    from helpers.exercises.lenet import (
        check_fashion_net, check_max_pooling, check_modern_lenet,
    )

    net_max = lenet("classic")
    net_max[2] = nn.MaxPool2d(2, 2)
    net_max[5] = nn.MaxPool2d(2, 2)
    assert check_max_pooling(net_max)
    assert check_modern_lenet(lenet("modern"))
    assert check_fashion_net(lenet("modern"))
    assert "✗" not in capsys.readouterr().out


def test_exercise_checkers_reject_wrong_nets_with_a_hint(capsys):
    from helpers.exercises.lenet import (
        check_fashion_net, check_max_pooling, check_modern_lenet,
    )

    assert not check_max_pooling(lenet("classic"))  # still avg pooling
    out = capsys.readouterr().out
    assert "✗ LeNet with max pooling: layer types" in out
    assert "hint: expected Conv2d -> Sigmoid -> MaxPool2d" in out
    bad = lenet("modern")
    bad[0] = nn.Conv2d(1, 6, kernel_size=5)  # no padding: 24x24
    assert not check_modern_lenet(bad)
    assert "(1, 6, 24, 24) instead of (1, 6, 28, 28)" in \
        capsys.readouterr().out
    assert not check_modern_lenet(nn.Conv2d(1, 6, 5))
    assert not check_fashion_net(nn.Sequential(nn.Flatten(),
                                               nn.Linear(784, 5)))
    out = capsys.readouterr().out
    assert "got output shape (2, 5)" in out


def test_confusion_checkers_read_the_matrix(capsys):
    from helpers.exercises.lenet import (
        check_confused_pair, check_mistaken_for,
    )

    cm = torch.eye(10, dtype=torch.long) * 100
    cm[2, 4], cm[4, 2], cm[6, 0] = 30, 20, 45  # pullover/coat: 50
    assert check_confused_pair(("coat", "pullover"), cm)
    assert not check_confused_pair(("shirt", "t-shirt"), cm)
    assert check_mistaken_for("coat", cm, true_class="pullover")
    assert not check_mistaken_for("shirt", cm, true_class="pullover")
    assert check_mistaken_for("t-shirt", cm, true_class="shirt")
    capsys.readouterr()
    with pytest.raises(ValueError, match="pair of class names"):
        check_confused_pair("coat", cm)
    with pytest.raises(ValueError, match="class name must be one of"):
        check_mistaken_for("sweater", cm)


def test_mnist_helpers_say_when_mnist_is_missing(tmp_path):
    from helpers.exercises.lenet import (
        load_mnist, mnist_available, mnist_folder,
    )

    assert mnist_folder(tmp_path) == tmp_path.resolve() / "MNIST" / "raw"
    assert not mnist_available(tmp_path)
    with pytest.raises(ValueError, match="MNIST is not in"):
        load_mnist(tmp_path)
