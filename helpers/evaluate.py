"""Looking inside a trained LeNet (6.6): probabilities, maps, mistakes.

Pure computation, no plotting and no widgets:

    from helpers.evaluate import feature_maps, confusion_matrix
    maps = feature_maps(net, X)        # {'conv1': (6, 28, 28), ...}
    cm = confusion_matrix(net, images, labels)

Every function puts the net in eval mode, runs without gradients on the
net's own device and returns CPU tensors.
"""
from dataclasses import dataclass

import torch
from torch import nn

# Layers that count as "the activation after a convolution".
ACTIVATIONS = (nn.Sigmoid, nn.ReLU, nn.Tanh, nn.LeakyReLU, nn.GELU,
               nn.ELU, nn.SiLU, nn.Softplus)


def _device(net):
    param = next(net.parameters(), None)
    return torch.device("cpu") if param is None else param.device


def _as_batch(X, name="X"):
    """(H, W), (1, H, W) or (N, 1, H, W) -> float (N, 1, H, W)."""
    if not isinstance(X, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got "
                         f"{type(X).__name__}")
    if X.dim() == 2:
        X = X[None, None]
    elif X.dim() == 3:
        X = X[None]
    if X.dim() != 4:
        raise ValueError(f"{name} must have shape (H, W), (C, H, W) or "
                         f"(N, C, H, W), got {tuple(X.shape)}")
    return X.float()


def _check_pair(images, labels):
    images = _as_batch(images, "images")
    if not isinstance(labels, torch.Tensor):
        labels = torch.as_tensor(labels)
    labels = labels.reshape(-1).long()
    if len(images) != len(labels):
        raise ValueError(f"images has {len(images)} examples but labels "
                         f"has {len(labels)}; pass one label per image")
    return images, labels


@torch.no_grad()
def _logits(net, X, batch_size=1024):
    """Run `net` in eval mode over X in chunks; (N, num_outputs) on CPU."""
    net.eval()
    device = _device(net)
    outs = [net(X[i:i + batch_size].to(device)).float().cpu()
            for i in range(0, len(X), batch_size)]
    return torch.cat(outs) if outs else torch.empty(0, 0)


def predict_proba(net, X, batch_size=1024):
    """Softmax class probabilities, (N, num_classes), of images X (6.6)."""
    return torch.softmax(_logits(net, _as_batch(X), batch_size), dim=1)


def predict(net, X, batch_size=1024):
    """Predicted class indices, (N,), as argmax of the outputs (3.6)."""
    return _logits(net, _as_batch(X), batch_size).argmax(dim=1)


def conv_layer_names(net):
    """Names 'conv1', 'conv2', ... for the Conv2d layers of `net`."""
    n = sum(isinstance(m, nn.Conv2d) for m in net.children())
    return [f"conv{i + 1}" for i in range(n)]


@torch.no_grad()
def feature_maps(net, x, after_activation=True):
    """Feature maps of every conv layer for one image x (6.6, ex. 4).

    Returns {'conv1': (6, 28, 28), 'conv2': (16, 10, 10)} for LeNet.
    By default each map is taken after the activation that follows
    the convolution (sigmoid for the chapter's LeNet, ReLU for the
    modern one), i.e. what the next layer sees; with
    after_activation=False it is the raw convolution output.
    """
    if not isinstance(net, nn.Sequential):
        raise ValueError("net must be an nn.Sequential (like the chapter's "
                         f"LeNet), got {type(net).__name__}")
    X = _as_batch(x, "x")
    if len(X) != 1:
        raise ValueError(f"x must be a single image, got a batch of "
                         f"{len(X)}; pass images[i]")
    net.eval()
    X = X.to(_device(net))
    layers = list(net.children())
    maps, pending = {}, None
    for layer in layers:
        X = layer(X)
        if isinstance(layer, nn.Conv2d):
            pending = f"conv{len(maps) + 1}"
            maps[pending] = X[0].detach().cpu().clone()
        elif pending and after_activation and isinstance(layer,
                                                         ACTIVATIONS):
            maps[pending] = X[0].detach().cpu().clone()
            pending = None
        else:
            pending = None
    if not maps:
        raise ValueError("net has no nn.Conv2d layer, so it has no "
                         "feature maps to show")
    return maps


def confusion_matrix_from_preds(preds, labels, num_classes=10):
    """Count matrix cm[true, predicted], (num_classes, num_classes)."""
    preds = torch.as_tensor(preds).reshape(-1).long().cpu()
    labels = torch.as_tensor(labels).reshape(-1).long().cpu()
    if len(preds) != len(labels):
        raise ValueError(f"preds has {len(preds)} entries but labels has "
                         f"{len(labels)}")
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be an int >= 1, "
                         f"got {num_classes!r}")
    for name, t in (("preds", preds), ("labels", labels)):
        if len(t) and (t.min() < 0 or t.max() >= num_classes):
            raise ValueError(f"{name} must lie in 0..{num_classes - 1}, "
                             f"got values in {int(t.min())}.."
                             f"{int(t.max())}; check num_classes")
    flat = labels * num_classes + preds
    counts = torch.bincount(flat, minlength=num_classes ** 2)
    return counts.reshape(num_classes, num_classes)


def confusion_matrix(net, images, labels, num_classes=10,
                     batch_size=1024):
    """Confusion matrix of `net`: rows true class, columns prediction."""
    images, labels = _check_pair(images, labels)
    return confusion_matrix_from_preds(
        predict(net, images, batch_size), labels, num_classes)


def class_accuracy(cm):
    """Per-class accuracy (recall): diagonal / row sums of cm."""
    cm = torch.as_tensor(cm).double()
    return cm.diagonal() / cm.sum(dim=1).clamp(min=1)


@dataclass
class Mistakes:
    """Misclassified examples: positions, predictions, confidences."""
    indices: torch.Tensor   # (k,) positions in `images`
    labels: torch.Tensor    # (k,) true classes
    preds: torch.Tensor     # (k,) predicted classes
    probs: torch.Tensor     # (k,) probability given to the prediction

    def __len__(self):
        return len(self.indices)


def misclassified(net, images, labels, k=None, order="index",
                  batch_size=1024):
    """The first k test images `net` gets wrong (all when k is None).

    order='index' keeps data-set order; order='confidence' puts the
    most confident mistakes first.
    """
    images, labels = _check_pair(images, labels)
    if k is not None and (not isinstance(k, int) or k < 0):
        raise ValueError(f"k must be None or an int >= 0, got {k!r}")
    if order not in ("index", "confidence"):
        raise ValueError(f"order must be 'index' or 'confidence', "
                         f"got {order!r}")
    P = predict_proba(net, images, batch_size)
    probs, preds = P.max(dim=1)
    idx = torch.nonzero(preds != labels).reshape(-1)
    if order == "confidence":
        idx = idx[torch.argsort(probs[idx], descending=True, stable=True)]
    idx = idx[:k]
    return Mistakes(idx, labels[idx], preds[idx], probs[idx])


@dataclass
class ConfusedPair:
    """Two classes and how often they are mistaken for each other."""
    a: int
    b: int
    count: int    # a_as_b + b_as_a (or a_as_b alone if not symmetric)
    a_as_b: int   # true a, predicted b
    b_as_a: int   # true b, predicted a


def most_confused_pairs(cm, k=3, symmetric=True):
    """The k class pairs with the most confusions in cm, most first.

    symmetric=True merges "a taken for b" and "b taken for a" into one
    unordered pair; otherwise each ordered cell cm[a, b] counts alone.
    Ties break by class index, so the answer is deterministic.
    """
    cm = torch.as_tensor(cm).long()
    if cm.dim() != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square matrix, got shape "
                         f"{tuple(cm.shape)}")
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    n = cm.shape[0]
    pairs = []
    for a in range(n):
        for b in range(n):
            if a == b or (symmetric and b < a):
                continue
            ab, ba = int(cm[a, b]), int(cm[b, a])
            count = ab + ba if symmetric else ab
            if count > 0:
                pairs.append(ConfusedPair(a, b, count, ab, ba))
    pairs.sort(key=lambda p: (-p.count, p.a, p.b))
    return pairs[:k]
