"""Receptive fields of conv / pooling stacks (D2L 6.2.5).

Analytic: per layer the receptive-field size, the jump (effective stride
in input pixels) and the start (centre of output unit (0, 0)'s field, in
0-based input pixel coordinates; may be negative or end in .5).
Exact: `receptive_mask` follows the index arithmetic of every layer
(padding, stride, dilation, the floor in the output size) down to the
input, so it is the set of pixels that can influence one unit.
Empirical: `empirical_rf` backpropagates that unit through a linearised,
all-positive copy of the geometry; its non-zero support equals the mask.
"""
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .conv import _fmt, _is_int, _pair

__all__ = ["LayerSpec", "RFInfo", "layer_specs", "receptive_field",
           "layer_output_sizes", "nominal_box", "receptive_box",
           "receptive_mask", "empirical_rf", "RF_PRESETS"]

KINDS = ("conv", "maxpool", "avgpool")

# Layers that act on each position separately (or per channel): the
# receptive field passes through them unchanged.
SHAPE_PRESERVING = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU,
    nn.GELU, nn.SiLU, nn.Mish, nn.Sigmoid, nn.Tanh, nn.Hardtanh,
    nn.Hardswish, nn.Hardsigmoid, nn.Softplus, nn.Softsign, nn.LogSigmoid,
    nn.Tanhshrink, nn.modules.batchnorm._BatchNorm, nn.Dropout,
    nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
    nn.FeatureAlphaDropout, nn.Identity, nn.LocalResponseNorm,
)


@dataclass
class LayerSpec:
    """One conv or pooling layer's geometry (6.2.5); ints or (h, w)."""
    kind: str
    kernel_size: object
    stride: object = 1
    padding: object = 0
    dilation: object = 1
    name: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got "
                             f"{self.kind!r}")
        self.kernel_size = _pair(self.kernel_size, "kernel_size", 1)
        self.stride = _pair(self.stride, "stride", 1)
        self.padding = _pair(self.padding, "padding")
        self.dilation = _pair(self.dilation, "dilation", 1)
        if self.kind == "avgpool" and self.dilation != (1, 1):
            raise ValueError(f"dilation must be 1 for avgpool, got "
                             f"{_fmt(self.dilation)}")
        if self.kind != "conv":
            # PyTorch's rule, on the undilated window
            for p, k in zip(self.padding, self.kernel_size):
                if 2 * p > k:
                    raise ValueError(
                        f"padding must be at most half the pool size "
                        f"(PyTorch's rule), got padding "
                        f"{_fmt(self.padding)} for {self.kind} "
                        f"{_fmt(self.kernel_size)}")
        if not self.name:
            self.name = f"{self.kind} {_fmt(self.kernel_size)}"

    @property
    def effective_kernel(self):
        """Kernel extent with dilation: d*(k-1)+1 per axis."""
        return tuple(d * (k - 1) + 1
                     for k, d in zip(self.kernel_size, self.dilation))


@dataclass
class RFInfo:
    """Receptive field of one layer's units, in input pixels (6.2.5)."""
    name: str
    size: tuple     # (h, w) extent of one unit's field
    jump: tuple     # (h, w) input pixels between neighbouring units
    start: tuple    # (h, w) centre of unit (0, 0)'s field


# ----------------------------------------------------- from modules
def _conv_padding(module, name):
    if module.padding_mode != "zeros":
        raise ValueError(f"cannot analyse layer {name!r}: "
                         f"padding_mode={module.padding_mode!r} reuses "
                         "image pixels; only zero padding is supported")
    if isinstance(module.padding, str):
        if module.padding == "valid":
            return (0, 0)
        total = [d * (k - 1)
                 for k, d in zip(module.kernel_size, module.dilation)]
        if any(t % 2 for t in total):
            raise ValueError(f"cannot analyse layer {name!r}: "
                             "padding='same' with an even kernel pads "
                             "unequally on the two sides")
        return tuple(t // 2 for t in total)
    return tuple(module.padding)


def _module_spec(module, name):
    """LayerSpec for a conv or pooling module, None if shape-preserving."""
    label = f"{name}: {type(module).__name__}" if name else \
        type(module).__name__
    if isinstance(module, nn.Conv2d):
        return LayerSpec("conv", tuple(module.kernel_size),
                         tuple(module.stride),
                         _conv_padding(module, label),
                         tuple(module.dilation), label)
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        if module.ceil_mode:
            raise ValueError(f"cannot analyse layer {label!r}: "
                             "ceil_mode=True is not supported")
        kind = "maxpool" if isinstance(module, nn.MaxPool2d) else "avgpool"
        dilation = module.dilation if kind == "maxpool" else 1
        stride = module.stride or module.kernel_size
        return LayerSpec(kind, module.kernel_size, stride, module.padding,
                         dilation, label)
    if isinstance(module, SHAPE_PRESERVING):
        return None
    raise ValueError(
        f"cannot analyse layer {label!r}: receptive fields are computed "
        "for Conv2d, MaxPool2d, AvgPool2d and shape-preserving layers "
        "(activations, BatchNorm, Dropout); pass only the convolutional "
        "part (e.g. net[:6]) or use stop_at_unsupported=True")


def layer_specs(net, stop_at_unsupported=False):
    """The conv/pool layers of a module tree or list, in order (6.2.5).

    net: a list of LayerSpec, a name in RF_PRESETS, or an nn.Module
    whose leaf modules run in the order they were registered
    (nn.Sequential, nested or not).
    Shape-preserving layers are skipped. An unsupported layer (Flatten,
    Linear, ...) raises ValueError naming it, or ends the list when
    stop_at_unsupported=True (e.g. LeNet's fully connected head).
    """
    if isinstance(net, str):
        if net not in RF_PRESETS:
            raise ValueError(f"unknown preset {net!r}; choose one of "
                             f"{sorted(RF_PRESETS)}")
        return list(RF_PRESETS[net])
    if isinstance(net, LayerSpec):
        return [net]
    if isinstance(net, (list, tuple)):
        specs = []
        for idx, spec in enumerate(net):
            if isinstance(spec, nn.Module):
                specs.extend(layer_specs(spec, stop_at_unsupported))
            elif isinstance(spec, LayerSpec):
                specs.append(spec)
            else:
                raise ValueError(f"net[{idx}] must be a LayerSpec or an "
                                 f"nn.Module, got {type(spec).__name__}")
        return specs
    if not isinstance(net, nn.Module):
        raise ValueError(f"net must be an nn.Module or a list of "
                         f"LayerSpec, got {type(net).__name__}")
    specs = []
    for name, module in net.named_modules():
        if next(module.children(), None) is not None:
            continue    # a container: its leaves follow
        try:
            spec = _module_spec(module, name)
        except ValueError:
            if stop_at_unsupported:
                break
            raise
        if spec is not None:
            specs.append(spec)
    return specs


def _specs(net, stop_at_unsupported=False):
    specs = layer_specs(net, stop_at_unsupported)
    if not specs:
        raise ValueError("net has no conv or pooling layer to analyse")
    return specs


# -------------------------------------------------------- analytic
def receptive_field(net, stop_at_unsupported=False):
    """Size, jump and start of every layer's receptive field (6.2.5).

    One RFInfo per conv/pool layer of `net` (see layer_specs); start is
    the centre of output unit (0, 0)'s field in input pixel indices.
    """
    size, jump, start = [1, 1], [1, 1], [0.0, 0.0]
    infos = []
    for spec in _specs(net, stop_at_unsupported):
        for a in range(2):
            k = spec.effective_kernel[a]
            start[a] += ((k - 1) / 2 - spec.padding[a]) * jump[a]
            size[a] += (k - 1) * jump[a]
            jump[a] *= spec.stride[a]
        infos.append(RFInfo(spec.name, tuple(size), tuple(jump),
                            tuple(start)))
    return infos


def layer_output_sizes(net, input_size):
    """(h, w) of every layer's output for an input_size image (6.3)."""
    n = _pair(input_size, "input_size", 1)
    sizes = []
    for spec in _specs(net):
        k, p, s = spec.effective_kernel, spec.padding, spec.stride
        padded = (n[0] + 2 * p[0], n[1] + 2 * p[1])
        if k[0] > padded[0] or k[1] > padded[1]:
            raise ValueError(f"layer {spec.name!r}: kernel {_fmt(k)} is "
                             f"larger than its padded input {_fmt(padded)}"
                             "; use a larger input_size")
        n = ((padded[0] - k[0]) // s[0] + 1, (padded[1] - k[1]) // s[1] + 1)
        sizes.append(n)
    return sizes


def _layer_index(specs, layer):
    if not _is_int(layer) or not -len(specs) <= layer < len(specs):
        raise ValueError(f"layer must be an int in [0, {len(specs)}) (or "
                         f"negative from the end), got {layer!r}")
    return layer % len(specs)


def nominal_box(net, layer, i, j):
    """Unclipped textbook field of unit (i, j): (r0, r1, c0, c1) (6.2.5).

    Half-open; may reach into the padding (negative or past the image).
    """
    specs = _specs(net)
    info = receptive_field(specs)[_layer_index(specs, layer)]
    for name, v in (("i", i), ("j", j)):
        if not _is_int(v) or v < 0:
            raise ValueError(f"{name} must be an int >= 0, got {v!r}")
    box = []
    for a, u in enumerate((i, j)):
        lo = round(info.start[a] + u * info.jump[a]
                   - (info.size[a] - 1) / 2)
        box += [lo, lo + info.size[a]]
    return tuple(box)


def _support_1d(specs, layer, u, sizes, axis):
    """Input indices reachable from unit u of `layer` along one axis."""
    idx = {u}
    for l in range(layer, -1, -1):
        spec, n_in = specs[l], sizes[l][axis]
        s, p = spec.stride[axis], spec.padding[axis]
        d, k = spec.dilation[axis], spec.kernel_size[axis]
        idx = {v * s - p + a * d for v in idx for a in range(k)}
        idx = {v for v in idx if 0 <= v < n_in}
    return sorted(idx)


def _unit_supports(net, layer, i, j, input_size):
    specs = _specs(net)
    layer = _layer_index(specs, layer)
    n = _pair(input_size, "input_size", 1)
    sizes = [n] + layer_output_sizes(specs, n)
    out = sizes[layer + 1]
    for name, v, m in (("i", i, out[0]), ("j", j, out[1])):
        if not _is_int(v) or not 0 <= v < m:
            raise ValueError(f"{name} must be an int in [0, {m}) for layer "
                             f"{specs[layer].name!r} of output "
                             f"{_fmt(out)}, got {v!r}")
    rows = _support_1d(specs, layer, i, sizes, 0)
    cols = _support_1d(specs, layer, j, sizes, 1)
    return specs, layer, n, rows, cols


def receptive_mask(net, layer, i, j, input_size):
    """Exact input pixels that unit (i, j) of `layer` sees (6.2.5).

    Boolean (H, W); a product of row and column sets (layers act on the
    two axes separately). Dilation or stride > kernel leave gaps.
    """
    _, _, n, rows, cols = _unit_supports(net, layer, i, j, input_size)
    mask = torch.zeros(n, dtype=torch.bool)
    if rows and cols:
        mask[torch.tensor(rows)[:, None], torch.tensor(cols)[None, :]] = True
    return mask


def receptive_box(net, layer, i, j, input_size):
    """Input box (r0, r1, c0, c1), half-open, of unit (i, j) (6.2.5).

    The tightest box around the pixels the unit sees, clipped to the
    image; it is the textbook field `nominal_box` clipped, except where
    padding, dilation or the dropped last rows leave edge pixels unseen.
    A unit that sees only padding gets an empty box (r0 == r1, c0 == c1).
    """
    specs, layer, n, rows, cols = _unit_supports(net, layer, i, j,
                                                 input_size)
    if not rows or not cols:
        r0, _, c0, _ = nominal_box(specs, layer, i, j)
        r0, c0 = min(max(r0, 0), n[0]), min(max(c0, 0), n[1])
        return (r0, r0, c0, c0)
    return (rows[0], rows[-1] + 1, cols[0], cols[-1] + 1)


# ------------------------------------------------------- empirical
def empirical_rf(net, layer, i, j, input_size):
    """|d unit / d input| through a linearised positive copy (6.2.5).

    One channel, float64: every conv has all-one weights and no bias,
    every pooling layer averages (max pooling too), activations are the
    identity. Nothing can cancel or saturate, so the non-zero support is
    exactly `receptive_mask`. Returns a float64 (H, W) tensor.
    """
    specs, layer, n, _, _ = _unit_supports(net, layer, i, j, input_size)
    X = torch.zeros((1, 1) + n, dtype=torch.float64, requires_grad=True)
    Y = X
    for spec in specs[:layer + 1]:
        weight = torch.ones((1, 1) + spec.kernel_size, dtype=torch.float64)
        if spec.kind != "conv":
            weight = weight / weight.numel()    # pooling as averaging
        Y = F.conv2d(Y, weight, stride=spec.stride, padding=spec.padding,
                     dilation=spec.dilation)
    Y[0, 0, i, j].backward()
    return X.grad[0, 0].abs()


RF_PRESETS = {
    "two 3x3 convs": [
        LayerSpec("conv", 3, name="conv1 3×3"),
        LayerSpec("conv", 3, name="conv2 3×3")],
    "3x3 conv + 2x2 pool": [
        LayerSpec("conv", 3, name="conv 3×3"),
        LayerSpec("maxpool", 2, stride=2, name="maxpool 2×2 /2")],
    "LeNet (conv/pool stack)": [
        LayerSpec("conv", 5, padding=2, name="conv1 5×5 pad 2"),
        LayerSpec("avgpool", 2, stride=2, name="avgpool1 2×2 /2"),
        LayerSpec("conv", 5, name="conv2 5×5"),
        LayerSpec("avgpool", 2, stride=2, name="avgpool2 2×2 /2")],
    "dilated 3x3 convs (d = 1, 2, 4)": [
        LayerSpec("conv", 3, padding=1, dilation=1, name="conv d=1"),
        LayerSpec("conv", 3, padding=2, dilation=2, name="conv d=2"),
        LayerSpec("conv", 3, padding=4, dilation=4, name="conv d=4")],
}
