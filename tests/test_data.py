"""helpers.data against the real Fashion-MNIST files and torchvision."""
import hashlib
import urllib.request

import pytest
import torch
import torchvision

import helpers
from helpers import data as hdata


def test_real_files_match_torchvision_md5(data_dir):
    # The .gz archives are the ones torchvision's download checks.
    raw = data_dir / "FashionMNIST" / "raw"
    checked = 0
    for url, md5 in torchvision.datasets.FashionMNIST.resources:
        gz = raw / url.rsplit("/", 1)[-1]
        if gz.exists():
            assert hashlib.md5(gz.read_bytes()).hexdigest() == md5, gz
            checked += 1
    for name in hdata.RAW_FILES:
        assert (raw / name).exists(), name
    assert checked in (0, 4)


def test_load_whole_set_as_tensors(data_dir):
    data = helpers.load_fashion_mnist()
    assert data.train_images.shape == (60000, 1, 28, 28)
    assert data.test_images.shape == (10000, 1, 28, 28)
    assert data.train_images.dtype == torch.float32
    assert 0 <= data.train_images.min() and data.train_images.max() <= 1
    # Same pixels and labels as torchvision's own dataset object.
    ref = torchvision.datasets.FashionMNIST(str(data_dir), train=False)
    assert torch.equal((data.test_images[:, 0] * 255).round().byte(),
                       ref.data)
    assert torch.equal(data.test_labels, ref.targets)
    assert torch.bincount(data.train_labels).tolist() == [6000] * 10


def test_d2l_compatible_loader(data_dir):
    train_iter, test_iter = helpers.load_data_fashion_mnist(256)
    assert len(train_iter) == 235 and len(test_iter) == 40
    seen = torch.cat([y for _, y in train_iter])
    # A shuffled epoch visits every example exactly once.
    assert len(seen) == 60000
    assert torch.equal(torch.bincount(seen),
                       torch.bincount(helpers.load_fashion_mnist()
                                      .train_labels))
    X, y = next(iter(test_iter))
    assert X.shape == (256, 1, 28, 28) and y.shape == (256,)
    first = [y for _, y in test_iter][0]
    assert torch.equal(first, y)  # the test set is not shuffled


def test_resize_matches_interpolate(data_dir):
    train_iter, test_iter = helpers.load_data_fashion_mnist(32, resize=64)
    X, _ = next(iter(test_iter))
    assert X.shape == (32, 1, 64, 64)
    ref = torch.nn.functional.interpolate(
        helpers.load_fashion_mnist().test_images[:32], size=(64, 64),
        mode="bilinear", antialias=True, align_corners=False)
    assert torch.allclose(X, ref)


def test_labels():
    assert helpers.get_fashion_mnist_labels(torch.tensor([0, 9, 4])) == [
        "t-shirt", "ankle boot", "coat"]
    with pytest.raises(ValueError, match="labels must lie in 0..9"):
        helpers.get_fashion_mnist_labels([10])


def test_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "env"))
    assert hdata.data_root(tmp_path / "arg") == (tmp_path / "arg").resolve()
    assert hdata.data_root() == (tmp_path / "env").resolve()
    monkeypatch.delenv("COURSE_DATA_DIR")
    assert hdata.data_root() == (hdata.REPO_ROOT / "data").resolve()


def _no_network(*args, **kwargs):
    raise urllib.error.URLError("no network (test)")


def test_missing_files_name_folder_and_files(monkeypatch, tmp_path):
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    with pytest.raises(hdata.DataNotFoundError) as info:
        hdata.load_fashion_mnist(root=tmp_path)
    msg = str(info.value)
    assert str(tmp_path) in msg
    for name in hdata.RAW_FILES:
        assert name in msg
    assert "COURSE_DATA_DIR" in msg
    # Without download the message says so, before any network use.
    with pytest.raises(hdata.DataNotFoundError, match="download=False"):
        hdata.load_fashion_mnist(root=tmp_path / "x", download=False)


def test_tensor_loader_validates():
    X, y = torch.zeros(10, 1, 2, 2), torch.zeros(10, dtype=torch.long)
    with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
        hdata.TensorLoader(X, y, 0)
    with pytest.raises(ValueError, match="X has 10 examples but y has 9"):
        hdata.TensorLoader(X, y[:9], 2)
    assert [len(b) for b, _ in hdata.TensorLoader(X, y, 4)] == [4, 4, 2]
