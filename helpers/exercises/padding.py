"""Checkers for the 6.3 exercises (padding and stride).

Each checker prints ✓ or ✗ (with a hint) and returns a bool; the oracle
is always a real nn.Conv2d, never the formula being tested.
"""
import math

import torch
from torch import nn
from torch.nn import functional as F

from helpers.conv import comp_conv2d
from helpers.exercises.common import report

LAST_EXAMPLE = dict(kernel_size=(3, 5), padding=(0, 1), stride=(3, 4))


def _conv_len(n, k, p, s, per_side):
    """Output length of a real nn.Conv2d along one axis (the oracle)."""
    X = torch.zeros(1, 1, n, 1)  # (N, C, H, W): only the height matters
    if per_side:
        conv = nn.Conv2d(1, 1, (k, 1), stride=(s, 1), padding=(p, 0))
    else:  # the chapter's total padding: ceil(p/2) on top, floor below
        X = F.pad(X, (0, 0, math.ceil(p / 2), p // 2))
        conv = nn.Conv2d(1, 1, (k, 1), stride=(s, 1))
    with torch.no_grad():
        return conv(X).shape[2]


def _random_cases(num_cases, per_side, generator):
    """(n, k, p, s) cases where the kernel fits the padded input."""
    cases = [(8, 3, 2 if not per_side else 1, 1), (7, 2, 1, 2)]
    while len(cases) < num_cases:
        n, k, p, s = (int(torch.randint(lo, hi, (1,), generator=generator))
                      for lo, hi in ((1, 33), (1, 8), (0, 7), (1, 6)))
        padded = n + (2 * p if per_side else p)
        if k <= padded:
            cases.append((n, k, p, s))
    return cases


def _call(fn, *args):
    """fn(*args) as an int, or the exception it raised."""
    try:
        out = fn(*args)
        if isinstance(out, torch.Tensor):
            out = out.item()
        if isinstance(out, float) and out.is_integer():
            out = int(out)
        return out, None
    except Exception as e:  # the learner's code: report, don't crash
        return None, e


def check_output_shape(fn, num_cases=30, per_side=False, generator=None):
    """fn(n, k, p, s) -> output length vs nn.Conv2d on random cases (6.3.2).

    p is the chapter's TOTAL padding (both sides together), or the
    padding on each side when per_side=True (nn.Conv2d's padding=p).
    """
    what = ("output length with per-side padding (nn.Conv2d)" if per_side
            else "output length ⌊(n − k + p + s) / s⌋")
    for n, k, p, s in _random_cases(num_cases, per_side, generator):
        want = _conv_len(n, k, p, s, per_side)
        got, err = _call(fn, n, k, p, s)
        if err is not None:
            return report(False, what, f"fn({n}, {k}, {p}, {s}) raised "
                          f"{type(err).__name__}: {err}")
        if got != want:
            hint = (f"fn(n={n}, k={k}, p={p}, s={s}) returned {got!r} but "
                    f"nn.Conv2d gives {want}; ")
            hint += ("nn.Conv2d adds p rows on EACH side, so the total is "
                     "2p" if per_side else
                     "the window fits ⌊(n − k + p) / s⌋ + 1 times, p "
                     "counting both sides")
            return report(False, what, hint)
    return report(True, f"{what}: {num_cases} random cases agree with "
                  "nn.Conv2d")


def check_same_padding(fn, per_side=False):
    """fn(k) -> padding that keeps the input size at stride 1 (6.3.1).

    Total padding (chapter) for every k; with per_side=True, the
    padding=... of nn.Conv2d for odd k.
    """
    what = ("per-side padding for a 'same' output" if per_side
            else "total padding p = k − 1 for a 'same' output")
    ks = range(1, 12, 2) if per_side else range(1, 12)
    for k in ks:
        got, err = _call(fn, k)
        if err is not None:
            return report(False, what, f"fn({k}) raised "
                          f"{type(err).__name__}: {err}")
        if not isinstance(got, int) or got < 0:
            return report(False, what, f"fn({k}) returned {got!r}; "
                          "padding is a non-negative int")
        for n in (k, 9, 16):
            out = _conv_len(n, k, got, 1, per_side)
            if out != n:
                hint = (f"with k={k} and padding {got} an input of "
                        f"length {n} gives {out}; ")
                hint += ("per side you need (k − 1) / 2" if per_side else
                         "the kernel removes k − 1 rows, so add k − 1")
                return report(False, what, hint)
    return report(True, what + " (checked with nn.Conv2d)")


def check_last_example(shape):
    """Output shape of the section's last example, worked by hand (6.3.2).

    That example: X 8x8, nn.Conv2d(1, 1, kernel_size=(3, 5),
    padding=(0, 1), stride=(3, 4)).
    """
    conv2d = nn.Conv2d(1, 1, **LAST_EXAMPLE)
    want = tuple(comp_conv2d(conv2d, torch.zeros(8, 8)).shape)
    try:
        got = tuple(int(v) for v in shape)
    except (TypeError, ValueError):
        got = shape
    ok = got == want
    what = "output shape of the last example"
    return report(ok, f"{what}: {want}" if ok else what,
                  f"got {shape!r}; with stride (3, 4) use "
                  "⌊(n − k + p + s) / s⌋, and padding=(0, 1) pads each "
                  "side, so p_w = 2")


def check_conv_for_target(conv2d, target, n=8):
    """Does comp_conv2d(conv2d, an n x n input) have shape `target`?"""
    target = tuple(target)
    what = f"{n}x{n} input -> output {target[0]}x{target[1]}"
    if not isinstance(conv2d, nn.Conv2d) or conv2d.in_channels != 1 \
            or conv2d.out_channels != 1:
        return report(False, what, "build it as nn.Conv2d(1, 1, "
                      "kernel_size=..., padding=..., stride=...)")
    try:
        got = tuple(comp_conv2d(conv2d, torch.zeros(n, n)).shape)
    except (ValueError, RuntimeError) as e:
        return report(False, what, f"the layer cannot run: {e}")
    k, p, s = conv2d.kernel_size, conv2d.padding, conv2d.stride
    return report(got == target, f"{what} with kernel_size={tuple(k)}, "
                  f"padding={p}, stride={tuple(s)}",
                  f"it gives {got}; each side: ⌊(n − k + 2p + s) / s⌋ "
                  "with p = padding per side")
