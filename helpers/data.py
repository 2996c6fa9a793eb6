"""Fashion-MNIST (section 6.6): find the real files, keep them as tensors.

The data folder is, in order: the `root` argument, the environment
variable COURSE_DATA_DIR, then `data/` at the repository root.
torchvision reads (and, when asked to download, md5-checks) the files.
"""
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

REPO_ROOT = Path(__file__).resolve().parent.parent
RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
TEXT_LABELS = (
    "t-shirt", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
)


class DataNotFoundError(FileNotFoundError):
    """Fashion-MNIST is neither in the data folder nor downloadable."""


def data_root(root=None):
    """The data folder: `root`, else $COURSE_DATA_DIR, else <repo>/data."""
    if root is None:
        root = os.environ.get("COURSE_DATA_DIR") or REPO_ROOT / "data"
    return Path(root).expanduser().resolve()


def get_fashion_mnist_labels(labels):
    """Text labels for class indices (6.6; d2l's name)."""
    if isinstance(labels, torch.Tensor):
        labels = labels.reshape(-1).tolist()
    out = []
    for i in labels:
        if not 0 <= int(i) < len(TEXT_LABELS):
            raise ValueError(f"labels must lie in 0..9, got {i}")
        out.append(TEXT_LABELS[int(i)])
    return out


def _missing_message(root, reason):
    raw = root / "FashionMNIST" / "raw"
    files = "\n".join(f"  - {name} (or {name}.gz)" for name in RAW_FILES)
    return (
        f"Fashion-MNIST was not found in {raw}\n"
        f"(data folder {root}: {reason}).\n"
        f"Expected these four files:\n{files}\n"
        "Fix: connect to the internet once and call with download=True "
        "(torchvision downloads and md5-checks them), or copy the files "
        "into that folder, or point COURSE_DATA_DIR (or root=...) at a "
        "folder that holds FashionMNIST/raw/.")


def _read_split(root, train, download):
    import torchvision

    try:
        return torchvision.datasets.FashionMNIST(
            root=str(root), train=train, download=False)
    except RuntimeError:
        if not download:
            raise DataNotFoundError(_missing_message(
                root, "files missing, download=False")) from None
    try:
        return torchvision.datasets.FashionMNIST(
            root=str(root), train=train, download=True)
    except Exception as e:  # no network, read-only folder, bad checksum
        raise DataNotFoundError(_missing_message(
            root, f"download failed: {type(e).__name__}: {e}")) from None


@dataclass
class FashionMNIST:
    """The whole data set as tensors: images (N, 1, 28, 28) in [0, 1]."""
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor

    def to(self, device):
        """Move all four tensors to `device`."""
        return FashionMNIST(*(t.to(device) for t in (
            self.train_images, self.train_labels,
            self.test_images, self.test_labels)))


_CACHE = {}


def load_fashion_mnist(root=None, device=None, download=True):
    """Read Fashion-MNIST once into float tensors on `device` (6.6).

    Images are (N, 1, 28, 28) float32 in [0, 1], labels int64.
    Cached per folder, so later calls cost nothing.
    """
    root = data_root(root)
    if root not in _CACHE:
        splits = [_read_split(root, train, download) for train in (1, 0)]
        tensors = []
        for ds in splits:
            tensors.append(ds.data.unsqueeze(1).float().div_(255))
            tensors.append(ds.targets.long())
        _CACHE[root] = FashionMNIST(*tensors)
    data = _CACHE[root]
    return data if device is None else data.to(device)


def fashion_mnist_image(index=0, train=False, root=None):
    """One image as a (28, 28) float tensor and its label (for figures)."""
    data = load_fashion_mnist(root)
    images = data.train_images if train else data.test_images
    labels = data.train_labels if train else data.test_labels
    if not -len(images) <= index < len(images):
        raise ValueError(f"index must lie in 0..{len(images) - 1}, "
                         f"got {index}")
    return images[index, 0], int(labels[index])


class TensorLoader:
    """Shuffled minibatches straight from tensors: no PIL, no workers.

    Iterating yields (X, y) slices of the stored tensors; with
    shuffle=True a fresh permutation (on the tensors' device) per epoch.
    """

    def __init__(self, X, y, batch_size, shuffle=False, generator=None):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, "
                             f"got {batch_size!r}")
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} examples but y has {len(y)}")
        self.X, self.y = X, y
        self.batch_size, self.shuffle = batch_size, shuffle
        self.generator = generator

    def __len__(self):
        return -(-len(self.X) // self.batch_size)

    @property
    def num_examples(self):
        return len(self.X)

    def __iter__(self):
        n = len(self.X)
        if self.shuffle:
            idx = torch.randperm(n, generator=self.generator,
                                 device="cpu").to(self.X.device)
            for start in range(0, n, self.batch_size):
                batch = idx[start:start + self.batch_size]
                yield self.X[batch], self.y[batch]
        else:
            for start in range(0, n, self.batch_size):
                yield (self.X[start:start + self.batch_size],
                       self.y[start:start + self.batch_size])


def load_data_fashion_mnist(batch_size, resize=None, root=None,
                            device=None, download=True):
    """Return (train_iter, test_iter) over Fashion-MNIST (d2l's 3.5.3).

    Same call and batches as d2l's, but served from in-memory tensors;
    `resize` (int or (h, w)) resizes the whole set once, bilinearly.
    """
    data = load_fashion_mnist(root, device=device, download=download)
    train_X, test_X = data.train_images, data.test_images
    if resize is not None:
        size = (resize, resize) if isinstance(resize, int) else tuple(resize)
        if len(size) != 2 or min(size) < 1:
            raise ValueError(f"resize must be a positive int or (h, w), "
                             f"got {resize!r}")
        train_X = F.interpolate(train_X, size=size, mode="bilinear",
                                antialias=True, align_corners=False)
        test_X = F.interpolate(test_X, size=size, mode="bilinear",
                               antialias=True, align_corners=False)
    return (TensorLoader(train_X, data.train_labels, batch_size, True),
            TensorLoader(test_X, data.test_labels, batch_size, False))
