"""Checkers for the exercises of 6.6 (LeNet); each prints ✓ or ✗.

    from helpers.exercises.lenet import check_modern_lenet
    check_modern_lenet(my_net)
"""
import torch
from torch import nn

from ..data import TEXT_LABELS, data_root
from ..evaluate import most_confused_pairs
from ..lenet import lenet
from .common import report


def _kinds(net):
    return [type(m).__name__ for m in net.children()]


def _shapes(net):
    """Output shapes layer by layer for a 1x1x28x28 input, and an error."""
    param = next(net.parameters(), None)
    X = torch.zeros(1, 1, 28, 28,
                    device=None if param is None else param.device)
    shapes = []
    with torch.no_grad():
        for k, layer in enumerate(net):
            try:
                X = layer(X)
            except Exception as e:  # a learner's net may not even run
                return shapes, (f"layer {k} ({type(layer).__name__}) fails "
                                f"on an input of shape {tuple(X.shape)}: "
                                f"{e}")
            shapes.append(tuple(X.shape))
    return shapes, ""


def _check_against(net, spec, what):
    """Compare layer types and output shapes with a reference net."""
    if not isinstance(net, nn.Sequential):
        return report(False, what, "build the net as an nn.Sequential, "
                      f"got {type(net).__name__}")
    want, got = _kinds(spec), _kinds(net)
    ok = report(got == want, f"{what}: layer types",
                "expected " + " -> ".join(want) + "\n  got      "
                + " -> ".join(got))
    shapes, err = _shapes(net)
    want_shapes, _ = _shapes(spec)
    bad = [f"layer {k} ({got[k]}): {s} instead of {w}"
           for k, (s, w) in enumerate(zip(shapes, want_shapes)) if s != w]
    if err:
        bad.append(err)
    elif len(shapes) != len(want_shapes):
        bad.append(f"{len(shapes)} layers instead of {len(want_shapes)}")
    ok &= report(not bad, f"{what}: output shape of every layer",
                 "; ".join(bad[:2]))
    return ok


def check_max_pooling(net):
    """Exercise 1: the chapter's LeNet with max instead of avg pooling."""
    spec = lenet("classic", init=False)
    for k, m in enumerate(spec):
        if isinstance(m, nn.AvgPool2d):
            spec[k] = nn.MaxPool2d(kernel_size=2, stride=2)
    return _check_against(net, spec, "LeNet with max pooling")


def check_modern_lenet(net):
    """Exercise 2: LeNet with ReLU activations and max pooling."""
    return _check_against(net, lenet("modern", init=False),
                          "LeNet with ReLU and max pooling")


def check_fashion_net(net):
    """Exercise 2: any net mapping (N, 1, 28, 28) images to 10 scores."""
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    ok = report(bool(convs), "the net has convolutional layers",
                "use nn.Conv2d layers: this chapter is about them")
    try:
        with torch.no_grad():
            out = net(torch.zeros(2, 1, 28, 28,
                                  device=next(net.parameters()).device))
        shape = tuple(out.shape)
    except Exception as e:
        return report(False, "a batch of 2 Fashion-MNIST images runs",
                      f"{type(e).__name__}: {e}")
    return report(shape == (2, 10) and ok,
                  "2 images of 1x28x28 give 2x10 class scores",
                  f"got output shape {shape}; end with nn.Linear(..., 10)")


def _name(cls, class_names):
    if isinstance(cls, str):
        if cls not in class_names:
            raise ValueError(f"class name must be one of {class_names}, "
                             f"got {cls!r}")
        return class_names.index(cls)
    if not 0 <= int(cls) < len(class_names):
        raise ValueError(f"class index must lie in 0..{len(class_names)-1}"
                         f", got {cls}")
    return int(cls)


def check_confused_pair(answer, cm, class_names=TEXT_LABELS):
    """Is `answer` (two class names) the most confused pair of cm?"""
    if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
        raise ValueError(f"answer must be a pair of class names, e.g. "
                         f"('shirt', 't-shirt'), got {answer!r}")
    a, b = sorted(_name(c, class_names) for c in answer)
    top = most_confused_pairs(cm, k=1)[0]
    return report((a, b) == (top.a, top.b),
                  f"{class_names[a]} and {class_names[b]} are the most "
                  "confused pair",
                  "read the largest off-diagonal cells cm[i, j] + cm[j, i]"
                  " of the confusion matrix")


def check_mistaken_for(answer, cm, true_class="pullover",
                       class_names=TEXT_LABELS):
    """Is `answer` the class that `true_class` is most often taken for?"""
    t, guess = _name(true_class, class_names), _name(answer, class_names)
    row = torch.as_tensor(cm)[t].clone()
    row[t] = -1  # ignore the correct predictions
    best = int(row.argmax())
    return report(guess == best,
                  f"{class_names[t]} is most often mistaken for "
                  f"{class_names[guess]}",
                  f"look along row {class_names[t]!r} of the confusion "
                  "matrix, off the diagonal")


def mnist_folder(root=None):
    """Where torchvision keeps MNIST in the data folder (exercise 3)."""
    return data_root(root) / "MNIST" / "raw"


def mnist_available(root=None):
    """True when torchvision's MNIST files are in the data folder."""
    folder = mnist_folder(root)
    names = ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte")
    return all((folder / n).exists() or (folder / f"{n}.gz").exists()
               for n in names)


def load_mnist(root=None):
    """MNIST as tensors (train X, train y, test X, test y), no download."""
    import torchvision

    if not mnist_available(root):
        raise ValueError(f"MNIST is not in {mnist_folder(root)}: copy "
                         "torchvision's MNIST/raw files there (or download"
                         " them with torchvision.datasets.MNIST(root, "
                         "download=True) while online)")
    out = []
    for train in (True, False):
        ds = torchvision.datasets.MNIST(str(data_root(root)), train=train,
                                        download=False)
        out += [ds.data.unsqueeze(1).float().div_(255), ds.targets.long()]
    return tuple(out)
