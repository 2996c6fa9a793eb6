"""train_ch6 and friends (6.6.2) on the real Fashion-MNIST files.

Short runs use a few thousand training examples; the two `slow` tests
train the full 10 epochs of the chapter (and of the modern variant) and
check the test accuracy the issue promises.
"""
import os
import re

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import helpers.train as train_mod
from helpers.data import TensorLoader, load_fashion_mnist
from helpers.lenet import MODERN_LR, RECIPES, lenet
from helpers.train import (History, TrainingDiverged, accuracy,
                           evaluate_accuracy_gpu, load_checkpoint,
                           save_checkpoint, train_ch6, train_fashion_mnist)

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def data(data_dir):
    return load_fashion_mnist(data_dir)


def loaders(data, n=2000, batch_size=256, shuffle=True, n_test=2000):
    return (TensorLoader(data.train_images[:n], data.train_labels[:n],
                         batch_size, shuffle),
            TensorLoader(data.test_images[:n_test],
                         data.test_labels[:n_test], batch_size))


def test_accuracy_counts_like_d2l():
    y_hat = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    y = torch.tensor([1, 1, 1])
    assert accuracy(y_hat, y) == 2.0  # a count, as d2l's accuracy
    assert accuracy(torch.tensor([1, 0, 1]), y) == 2.0


def test_evaluate_accuracy_matches_direct_computation(data):
    torch.manual_seed(0)
    net = lenet("modern")
    X, y = data.test_images[:3000], data.test_labels[:3000]
    with torch.no_grad():
        expected = (net(X).argmax(1) == y).float().mean().item()
    fast = evaluate_accuracy_gpu(net, TensorLoader(X, y, 256))
    loader = DataLoader(TensorDataset(X, y), batch_size=100)
    slow = evaluate_accuracy_gpu(net, loader, CPU)
    assert fast == pytest.approx(expected, abs=1e-9)
    assert slow == pytest.approx(expected, abs=1e-9)


def test_loss_decreases_and_history_fields(data):
    torch.manual_seed(0)
    train_iter, test_iter = loaders(data, n=5000)
    net = lenet("modern")
    # 40 steps of plain SGD: a larger lr than the 10-epoch recipe's
    history = train_ch6(net, train_iter, test_iter, 2, 0.2, CPU,
                        live=False)
    assert isinstance(history, History)
    assert history.num_epochs_done == 2
    for name in ("loss", "train_acc", "test_acc", "seconds"):
        assert len(getattr(history, name)) == 2
    assert history.loss[1] < history.loss[0] < 2.4
    assert history.test_acc[1] > 0.5  # chance is 0.1
    assert all(s > 0 for s in history.seconds)
    assert history.num_examples == 10000
    assert history.examples_per_sec > 0
    assert history.device == "cpu"
    assert not history.interrupted and not history.diverged


def test_prints_what_d2l_prints(data, capsys):
    torch.manual_seed(0)
    train_iter, test_iter = loaders(data, n=1000)
    train_ch6(lenet(), train_iter, test_iter, 1, 0.9, CPU, live=False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "training on cpu"
    assert re.fullmatch(r"loss \d\.\d{3}, train acc \d\.\d{3}, "
                        r"test acc \d\.\d{3}", lines[1])
    assert re.fullmatch(r"\d+\.\d examples/sec on cpu", lines[2])
    assert len(lines) == 3


def test_text_mode_prints_one_line_per_epoch(data, capsys):
    torch.manual_seed(0)
    train_iter, test_iter = loaders(data, n=500)
    train_ch6(lenet(), train_iter, test_iter, 2, 0.9, CPU)  # auto: text
    out = capsys.readouterr().out
    assert re.search(r"^epoch 1/2: loss \d\.\d{3}, train acc", out, re.M)
    assert re.search(r"^epoch 2/2: ", out, re.M)


def test_notebook_mode_updates_display_in_place(data, monkeypatch):
    shown = []

    class Handle:
        def __init__(self, obj):
            self.objs = [obj]

        def update(self, obj):
            self.objs.append(obj)

    def fake_display(obj):
        shown.append(Handle(obj))
        return shown[-1]

    monkeypatch.setattr(train_mod, "_display", fake_display)
    torch.manual_seed(0)
    train_iter, test_iter = loaders(data, n=1000)
    train_ch6(lenet(), train_iter, test_iter, 2, 0.9, CPU, live="notebook")
    bar, plot = shown  # two displays, each updated in place
    texts = [o.data for o in bar.objs]
    assert any("epoch 2/2" in t and "loss" in t for t in texts)
    assert "<progress" in texts[-1]
    pngs = [o.data for o in plot.objs]
    assert len(pngs) >= 2
    assert all(p[:4] == b"\x89PNG" for p in pngs)


def test_fast_path_equals_plain_dataloader(data):
    X, y = data.train_images[:1000], data.train_labels[:1000]
    test = TensorLoader(data.test_images[:500], data.test_labels[:500], 256)
    nets, hists = [], []
    for train_iter in (TensorLoader(X, y, 256, shuffle=False),
                       DataLoader(TensorDataset(X, y), batch_size=256)):
        torch.manual_seed(0)
        nets.append(lenet("modern"))
        hists.append(train_ch6(nets[-1], train_iter, test, 2, MODERN_LR,
                               CPU, live=False))
    assert hists[0].loss == pytest.approx(hists[1].loss, rel=1e-5)
    assert hists[0].test_acc == hists[1].test_acc
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        torch.testing.assert_close(a, b)


def test_same_seed_same_history(data_dir):
    runs = [train_fashion_mnist("modern", num_epochs=1, subset=1000,
                                seed=3, live=False, root=data_dir)[1]
            for _ in range(2)]
    assert runs[0].loss == runs[1].loss
    assert runs[0].test_acc == runs[1].test_acc


def test_nan_loss_raises_with_lr_hint(data):
    torch.manual_seed(0)
    train_iter, test_iter = loaders(data, n=2000)
    with pytest.raises(TrainingDiverged) as info:
        train_ch6(lenet("modern"), train_iter, test_iter, 3, 1e6, CPU,
                  live=False)
    message = str(info.value)
    assert "lower lr (now 1e+06)" in message and "lr=1e+05" in message
    assert "epoch 1" in message
    assert info.value.history.diverged
    assert info.value.history.num_epochs_done == 0


class Interrupting:
    """A train_iter whose 2nd pass raises KeyboardInterrupt at batch 3."""

    def __init__(self, loader):
        self.loader, self.passes = loader, 0

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        self.passes += 1
        for i, batch in enumerate(self.loader):
            if self.passes == 2 and i == 3:
                raise KeyboardInterrupt
            yield batch


def test_keyboard_interrupt_keeps_model_and_history(data, capsys):
    torch.manual_seed(0)
    train_iter, test_iter = loaders(data, n=2000)
    net = lenet("modern")
    before = [p.detach().clone() for p in net.parameters()]
    history = train_ch6(net, Interrupting(train_iter), test_iter, 5,
                        MODERN_LR, CPU, live=False, init=False)
    assert history.interrupted
    assert history.num_epochs_done == 1 and len(history.test_acc) == 1
    assert any(not torch.equal(a, b)
               for a, b in zip(before, net.parameters()))
    out = capsys.readouterr().out
    assert "interrupted in epoch 2 (batch 3)" in out
    assert "test acc" in out  # d2l's lines for the finished epoch


def test_checkpoint_round_trip(data, tmp_path):
    torch.manual_seed(0)
    train_iter, test_iter = loaders(data, n=1000)
    net = lenet("modern")
    path = tmp_path / "run" / "lenet.pt"
    history = train_ch6(net, train_iter, test_iter, 2, MODERN_LR, CPU,
                        live=False, checkpoint=path)
    assert sorted(os.listdir(path.parent)) == ["lenet.pt"]  # no tmp left
    loaded, hparams, hist = load_checkpoint(path)
    assert hparams["variant"] == "modern"
    assert hparams["lr"] == MODERN_LR and hparams["batch_size"] == 256
    assert hparams["num_epochs"] == 2
    assert hist == history
    for (k, a), (_, b) in zip(net.state_dict().items(),
                              loaded.state_dict().items()):
        assert torch.equal(a, b), k
    X = data.test_images[:64]
    with torch.no_grad():
        torch.testing.assert_close(net.eval()(X), loaded.eval()(X))
    # plain types only: the raw file loads with weights_only=True
    raw = torch.load(path, weights_only=True)
    assert raw["history"]["loss"] == history.loss


def test_failed_save_leaves_old_checkpoint_untouched(tmp_path,
                                                     monkeypatch):
    path = tmp_path / "lenet.pt"
    save_checkpoint(path, lenet(), {"variant": "classic"}, History())
    original = path.read_bytes()

    def broken_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, lenet("modern"), {"variant": "modern"})
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["lenet.pt"]


def test_checkpoint_hparams_must_be_plain(tmp_path):
    with pytest.raises(ValueError, match="hparams must hold plain"):
        save_checkpoint(tmp_path / "x.pt", lenet(), {"loss": nn.MSELoss()})
    with pytest.raises(ValueError, match="hparams must be a dict"):
        save_checkpoint(tmp_path / "x.pt", lenet(), [0.9])


def test_checkpoint_variant_mismatch_is_clear(tmp_path):
    path = tmp_path / "classic.pt"
    save_checkpoint(path, lenet(), {"variant": "classic", "lr": 0.9})
    with pytest.raises(ValueError) as info:
        load_checkpoint(path, lenet("modern"))
    message = str(info.value)
    assert "variant: checkpoint 'classic' vs model 'modern'" in message
    assert "lenet('classic')" in message


def test_checkpoint_shape_mismatch_names_the_keys(tmp_path):
    path = tmp_path / "classic.pt"
    save_checkpoint(path, lenet(), {"variant": "classic"})
    net = lenet()
    net[3] = nn.Conv2d(6, 8, kernel_size=5)  # 8 channels instead of 16
    with pytest.raises(ValueError) as info:
        load_checkpoint(path, net)
    message = str(info.value)
    assert "3.weight: checkpoint (16, 6, 5, 5) vs model (8, 6, 5, 5)" \
        in message
    assert "3.bias" in message
    smaller = nn.Sequential(*list(lenet())[:7])
    with pytest.raises(ValueError, match="unexpected in checkpoint: "
                                         "7.weight"):
        load_checkpoint(path, smaller)


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_checkpoint(path)


@pytest.mark.parametrize("kwargs, match", [
    ({"num_epochs": 0}, "num_epochs must be an int >= 1"),
    ({"lr": -0.1}, "lr must be a finite number > 0"),
    ({"lr": float("nan")}, "lr must be a finite number > 0"),
    ({"live": "bar"}, "live must be one of"),
    ({"cuda_graphs": "yes"}, "cuda_graphs must be"),
])
def test_bad_arguments(data, kwargs, match):
    train_iter, test_iter = loaders(data, n=256)
    args = {"num_epochs": 1, "lr": 0.9, **kwargs}
    with pytest.raises(ValueError, match=match):
        train_ch6(lenet(), train_iter, test_iter, args.pop("num_epochs"),
                  args.pop("lr"), CPU, **args)


def test_bad_convenience_arguments(data_dir):
    with pytest.raises(ValueError, match="variant must be"):
        train_fashion_mnist("vgg", root=data_dir)
    with pytest.raises(ValueError, match="subset must be"):
        train_fashion_mnist(subset=0, root=data_dir)


@pytest.mark.slow
def test_chapter_configuration_reaches_075(data_dir):
    """Batch 256, lr 0.9, 10 epochs, sigmoid + avg pooling (6.6.2)."""
    net, history = train_fashion_mnist("classic", num_epochs=10, lr=0.9,
                                       batch_size=256, device=CPU, seed=0,
                                       live=False, root=data_dir)
    assert history.num_epochs_done == 10
    assert history.test_acc[-1] >= 0.75, history


@pytest.mark.slow
def test_modern_variant_reaches_088(data_dir):
    """ReLU + max pooling with its recipe (helpers.lenet.RECIPES).

    lr 0.05, momentum 0.9, batch 128, cosine decay; measured 0.899 for
    seed 0 (plain SGD ended at 0.82-0.88, see helpers/lenet.py).
    """
    net, history = train_fashion_mnist("modern", num_epochs=10, device=CPU,
                                       seed=0, live=False, root=data_dir)
    assert history.test_acc[-1] >= 0.88, history


def test_optimizer_options_are_checked_and_recorded(data_dir, tmp_path):
    data = load_fashion_mnist()
    train_iter = TensorLoader(data.train_images[:512],
                              data.train_labels[:512], 128, shuffle=True)
    test_iter = TensorLoader(data.test_images[:256], data.test_labels[:256],
                             128)
    with pytest.raises(ValueError, match="momentum must lie in"):
        train_ch6(lenet("modern"), train_iter, test_iter, 1, 0.05, CPU,
                  live=False, momentum=1.5)
    with pytest.raises(ValueError, match="schedule must be None or"):
        train_ch6(lenet("modern"), train_iter, test_iter, 1, 0.05, CPU,
                  live=False, schedule="step")
    path = tmp_path / "ckpt.pt"
    train_ch6(lenet("modern"), train_iter, test_iter, 2, 0.05, CPU,
              live=False, momentum=0.9, schedule="cosine", checkpoint=path)
    _, hparams, _ = load_checkpoint(path)
    assert hparams["momentum"] == 0.9 and hparams["schedule"] == "cosine"


def test_recipe_fills_unset_hyperparameters(data_dir, monkeypatch):
    seen = {}

    def fake_train(net, train_iter, test_iter, num_epochs, lr, device,
                   **kw):
        seen.update(lr=lr, batch_size=train_iter.batch_size, **kw)
        return None

    monkeypatch.setattr("helpers.train.train_ch6", fake_train)
    train_fashion_mnist("modern", num_epochs=1, device=CPU, live=False)
    assert seen["lr"] == RECIPES["modern"]["lr"]
    assert seen["batch_size"] == RECIPES["modern"]["batch_size"]
    assert seen["momentum"] == 0.9 and seen["schedule"] == "cosine"
    train_fashion_mnist("classic", num_epochs=1, device=CPU, live=False,
                        lr=0.5, batch_size=64)
    assert (seen["lr"], seen["batch_size"]) == (0.5, 64)
    assert seen["momentum"] == 0.0 and seen["schedule"] is None
