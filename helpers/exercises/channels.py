"""Checkers for the 6.4 exercises (multiple input and output channels).

Each `check_*` calls the learner's function on a few fixed cases, then on
fresh random ones, compares with PyTorch (F.conv2d, autograd, its FLOP
counter) and prints ✓/✗ with a hint via helpers.exercises.common.report.
Fixed cases come first so a wrong answer always gets the same hint.
"""
import random

import torch
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode

from helpers.exercises.common import report

# (c_i, c_o, h, w, k_h, k_w, p_h, p_w, s_h, s_w); p is the TOTAL padding
# (p_h rows in all, as in 6.3), s the stride
FIXED_CONFIGS = [
    (3, 2, 5, 5, 3, 3, 0, 0, 1, 1),
    (2, 4, 8, 6, 3, 2, 2, 0, 1, 1),
    (4, 3, 9, 7, 3, 3, 2, 2, 2, 3),
    (1, 1, 6, 6, 5, 5, 3, 1, 2, 2),
]


def _random_config(rng):
    k_h, k_w = rng.randint(1, 5), rng.randint(1, 5)
    return (rng.randint(1, 6), rng.randint(1, 6), rng.randint(k_h, 14),
            rng.randint(k_w, 14), k_h, k_w, rng.randint(0, 4),
            rng.randint(0, 4), rng.randint(1, 3), rng.randint(1, 3))


def _generator():
    """A fresh local torch generator: never touches the global RNG state."""
    g = torch.Generator()
    g.seed()
    return g


def _configs(n_random=6):
    rng = random.Random()  # fresh cases each run, nothing seeded globally
    return FIXED_CONFIGS + [_random_config(rng) for _ in range(n_random)]


def _conv_flops(cfg, backward=False):
    """FLOPs PyTorch counts for the conv of `cfg` (forward or backward)."""
    c_i, c_o, h, w, k_h, k_w, p_h, p_w, s_h, s_w = cfg
    X = torch.zeros(1, c_i, h, w, requires_grad=True)
    K = torch.zeros(c_o, c_i, k_h, k_w, requires_grad=True)
    # total padding p: floor(p / 2) before, the rest after
    Xp = F.pad(X, (p_w // 2, p_w - p_w // 2, p_h // 2, p_h - p_h // 2))
    with FlopCounterMode(display=False) as fwd:
        Y = F.conv2d(Xp, K, stride=(s_h, s_w))
    if not backward:
        return fwd.get_total_flops(), Y
    with FlopCounterMode(display=False) as bwd:
        Y.sum().backward()
    return bwd.get_total_flops(), Y


def _call(fn, *args):
    try:
        return fn(*args), None
    except Exception as err:  # report, never crash the learner's cell
        return None, f"{type(err).__name__}: {err}"


def _same_number(a, b):
    try:
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))
    except (TypeError, ValueError):
        return False


def _check_counts(fn, what, truth_of, hint, n_random=6):
    for cfg in _configs(n_random):
        got, err = _call(fn, *cfg)
        want = truth_of(cfg)
        if err or not _same_number(got, want):
            names = "c_i, c_o, h, w, k_h, k_w, p_h, p_w, s_h, s_w"
            return report(False, what, f"for ({names}) = {cfg} expected "
                          f"{want}, got {err or got}. {hint}")
    return report(True, what)


# ------------------------------------------------------------ exercise 1
def _composed_support(k1, k2):
    """Size of the input patch that one output of K2 ⋆ (K1 ⋆ X) depends on."""
    n = k1 + k2 + 3
    X = torch.zeros(1, 1, n, n, requires_grad=True)
    g = _generator()
    K1 = torch.rand(1, 1, k1, k1, generator=g) + 0.1
    K2 = torch.rand(1, 1, k2, k2, generator=g) + 0.1
    F.conv2d(F.conv2d(X, K1), K2)[0, 0, 0, 0].backward()
    rows = X.grad[0, 0].abs().sum(1).nonzero()
    return int(rows.max() - rows.min() + 1)


def check_composed_kernel_size(fn):
    """Ex. 1: fn(k1, k2) -> side of the single equivalent kernel."""
    rng = random.Random()
    pairs = [(3, 3), (2, 5), (1, 4)] + [
        (rng.randint(1, 6), rng.randint(1, 6)) for _ in range(4)]
    for k1, k2 in pairs:
        got, err = _call(fn, k1, k2)
        want = _composed_support(k1, k2)
        if err or not _same_number(got, want):
            return report(False, "size of the composed kernel",
                          f"k1={k1}, k2={k2}: one output of the second "
                          f"layer sees a {want}×{want} input patch, got "
                          f"{err or got}. Each extra layer widens the "
                          "window by (k - 1).")
    return report(True, "size of the composed kernel (k1 + k2 - 1)")


def check_compose_kernels(fn):
    """Ex. 1: fn(K1, K2) -> K with (X ⋆ K1) ⋆ K2 == X ⋆ K (2-D kernels)."""
    rng, g = random.Random(), _generator()
    cases = [(torch.tensor([[1.0, -1.0]]), torch.tensor([[1.0], [1.0]])),
             (torch.arange(4.0).reshape(2, 2), torch.ones(2, 3))]
    for _ in range(4):
        cases.append((torch.randn(rng.randint(1, 4), rng.randint(1, 4),
                                  generator=g),
                      torch.randn(rng.randint(1, 4), rng.randint(1, 4),
                                  generator=g)))
    for K1, K2 in cases:
        X = torch.randn(1, 1, 9, 10, generator=g)
        want = F.conv2d(F.conv2d(X, K1[None, None]), K2[None, None])
        K, err = _call(fn, K1.clone(), K2.clone())
        if err is None:
            try:
                got = F.conv2d(X, torch.as_tensor(K).float()[None, None])
                ok = got.shape == want.shape and torch.allclose(
                    got, want, rtol=1e-4, atol=1e-4)
            except Exception as e:  # wrong shape or type
                ok, err = False, f"{type(e).__name__}: {e}"
        else:
            ok = False
        if not ok:
            return report(False, "one kernel equal to two correlations",
                          f"K1 = {K1.tolist()}, K2 = {K2.tolist()}: "
                          f"{err or 'X ⋆ K differs from (X ⋆ K1) ⋆ K2'}. "
                          "K[m, n] = Σ_{a+c=m, b+d=n} K1[c, d] K2[a, b] "
                          "(a full convolution, size k1 + k2 - 1).")
    return report(True, "one kernel equal to two correlations")


# ------------------------------------------------------------ exercise 2
def check_forward_macs(fn):
    """Ex. 2: fn(c_i, c_o, h, w, k_h, k_w, p_h, p_w, s_h, s_w) -> mults."""
    return _check_counts(
        fn, "forward multiplications (= multiply-adds)",
        lambda cfg: _conv_flops(cfg)[0] // 2,
        "Count c_i·k_h·k_w products per output value, times "
        "c_o·h'·w' outputs, with h' = ⌊(h - k_h + p_h + s_h) / s_h⌋ (6.3).")


def check_forward_memory(fn):
    """Ex. 2: fn(...) -> floats held: input + kernel + output."""
    def truth(cfg):
        _, Y = _conv_flops(cfg)
        c_i, c_o, h, w, k_h, k_w = cfg[:6]
        return c_i * h * w + c_o * c_i * k_h * k_w + Y.numel()
    return _check_counts(
        fn, "forward memory (numbers stored)", truth,
        "Add the input c_i·h·w, the kernel c_o·c_i·k_h·k_w and the output "
        "c_o·h'·w'.")


def check_backward_macs(fn):
    """Ex. 2: fn(...) -> multiplications of the backward pass."""
    return _check_counts(
        fn, "backward multiplications",
        lambda cfg: _conv_flops(cfg, backward=True)[0] // 2,
        "The backward pass computes ∂L/∂X and ∂L/∂K; each needs as many "
        "multiply-adds as the forward pass.")


# ------------------------------------------------------------ exercise 3
def check_channel_doubling(factor):
    """Ex. 3: by what factor does the cost grow when c_i and c_o double?"""
    cfg = (3, 4, 8, 8, 3, 3, 0, 0, 1, 1)
    big = (6, 8) + cfg[2:]
    want = _conv_flops(big)[0] / _conv_flops(cfg)[0]
    return report(_same_number(factor, want),
                  "doubling c_i and c_o", "the cost is proportional to "
                  "c_i·c_o: both double, so the product grows by 2·2.")


def check_padding_doubling(fn):
    """Ex. 3: fn(c_i, c_o, h, w, k_h, k_w, p_h, p_w, s_h, s_w) -> factor
    by which the multiplications grow when (p_h, p_w) is doubled."""
    def truth(cfg):
        doubled = cfg[:6] + (2 * cfg[6], 2 * cfg[7]) + cfg[8:]
        return _conv_flops(doubled)[0] / _conv_flops(cfg)[0]

    def close(fn_):
        def wrapped(*cfg):
            return round(float(fn_(*cfg)), 9)
        return wrapped
    return _check_counts(
        close(fn), "growth factor when the padding doubles",
        lambda cfg: round(truth(cfg), 9),
        "Only h'·w' changes: compare the output sizes with p and with 2p.")


# ------------------------------------------------------------ exercise 4
def check_1x1_macs(fn):
    """Ex. 4: fn(c_i, c_o, h, w) -> multiplications of a 1x1 conv."""
    rng = random.Random()
    cases = [(3, 2, 3, 3), (64, 32, 28, 28)] + [
        (rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 12),
         rng.randint(1, 12)) for _ in range(5)]
    for c_i, c_o, h, w in cases:
        want = _conv_flops((c_i, c_o, h, w, 1, 1, 0, 0, 1, 1))[0] // 2
        got, err = _call(fn, c_i, c_o, h, w)
        if err or not _same_number(got, want):
            return report(False, "1×1 convolution cost",
                          f"(c_i, c_o, h, w) = {(c_i, c_o, h, w)}: expected "
                          f"{want}, got {err or got}. Each of the h·w "
                          "pixels does one (c_o × c_i) matrix-vector "
                          "product.")
    return report(True, "1×1 convolution cost")


# ------------------------------------------------------------ exercise 6
def check_conv_as_matmul(fn):
    """Ex. 6: fn(X (c_i, h, w), K (c_o, c_i, k_h, k_w)) -> Y by matmul."""
    rng, g = random.Random(), _generator()
    cases = [(torch.arange(18.0).reshape(2, 3, 3),
              torch.arange(8.0).reshape(1, 2, 2, 2))]
    for _ in range(5):
        c_i, k_h, k_w = rng.randint(1, 4), rng.randint(1, 4), rng.randint(
            1, 4)
        cases.append((torch.randn(c_i, rng.randint(k_h, 9),
                                  rng.randint(k_w, 9), generator=g),
                      torch.randn(rng.randint(1, 4), c_i, k_h, k_w,
                                  generator=g)))
    for X, K in cases:
        want = F.conv2d(X[None], K)[0]
        Y, err = _call(fn, X.clone(), K.clone())
        ok = err is None and torch.is_tensor(Y) and Y.shape == want.shape \
            and torch.allclose(Y.float(), want, rtol=1e-4, atol=1e-4)
        if not ok:
            shape = tuple(Y.shape) if torch.is_tensor(Y) else Y
            return report(False, "convolution as a matrix product",
                          f"X {tuple(X.shape)}, K {tuple(K.shape)}: expected "
                          f"shape {tuple(want.shape)} equal to F.conv2d, got "
                          f"{err or shape}. Unfold each window into a column "
                          "(c_i·k_h·k_w rows), then multiply by "
                          "K.reshape(c_o, -1).")
    return report(True, "convolution as a matrix product")


# ------------------------------------------------- English-edition extras
def _strip_loads(k_h, k_w, delta):
    """Distinct input values read for `delta` adjacent outputs, per output."""
    cells = {(r, c) for j in range(delta) for r in range(k_h)
             for c in range(j, j + k_w)}
    return len(cells) / delta


def check_strip_loads(fn):
    """Fast conv: fn(k_h, k_w, delta) -> input values read per output."""
    rng = random.Random()
    cases = [(3, 3, 1), (3, 3, 4), (5, 2, 8)] + [
        (rng.randint(1, 7), rng.randint(1, 7), rng.randint(1, 32))
        for _ in range(4)]
    for k_h, k_w, delta in cases:
        want = _strip_loads(k_h, k_w, delta)
        got, err = _call(fn, k_h, k_w, delta)
        if err or not _same_number(round(float(got or 0), 9),
                                   round(want, 9)):
            return report(False, "reads per output value",
                          f"(k_h, k_w, Δ) = {(k_h, k_w, delta)}: expected "
                          f"{want:g}, got {err or got}. Δ outputs side by "
                          "side share a strip k_h high and k_w + Δ - 1 "
                          "wide.")
    return report(True, "reads per output value")


def check_block_diagonal_cost(fn):
    """c×c block-diagonal kernel: fn(c, b) -> multiplications per pixel."""
    rng = random.Random()
    cases = [(8, 1), (8, 2), (12, 4)]
    for _ in range(4):
        b = rng.randint(1, 6)
        cases.append((b * rng.randint(1, 8), b))
    for c, b in cases:
        # groups=b is a block-diagonal c×c 1x1 kernel with b blocks
        with FlopCounterMode(display=False) as fc:
            F.conv2d(torch.zeros(1, c, 1, 1), torch.zeros(c, c // b, 1, 1),
                     groups=b)
        want = fc.get_total_flops() // 2
        got, err = _call(fn, c, b)
        if err or not _same_number(got, want):
            return report(False, "block-diagonal cost",
                          f"(c, b) = {(c, b)}: expected {want}, got "
                          f"{err or got}. b blocks of size (c/b)×(c/b).")
    return report(True, "block-diagonal cost (b times cheaper)")
