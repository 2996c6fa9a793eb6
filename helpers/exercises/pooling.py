"""Checkers for the 6.5 (pooling) exercises: each prints ✓ or ✗ + hint.

Every checker tries the learner's answer on fresh random inputs and
compares it with PyTorch (F.avg_pool2d, F.max_pool2d) or with an
independent reference built from `Tensor.unfold`.
"""
import torch
import torch.nn.functional as F

from helpers.exercises import common

_SIZES = ((4, 4), (6, 8), (7, 5), (9, 9))


class Verdict:
    """A checker's result: truthy when right; shows nothing in a notebook.

    The ✓/✗ line is already printed, so a cell ending in a checker call
    should not echo True/False as well.
    """

    def __init__(self, ok):
        self.ok = bool(ok)

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return f"Verdict({self.ok})"

    def _ipython_display_(self):
        pass


def report(ok, what, hint=""):
    """common.report (prints ✓/✗ + hint), returned as a Verdict."""
    return Verdict(common.report(ok, what, hint))


def _pair(v):
    return (int(v), int(v)) if isinstance(v, int) else tuple(map(int, v))


def _windows(X, pool_size, stride=None):
    """All pooling windows of X (N, C, H, W): (N, C, H_out, W_out, ph*pw)."""
    ph, pw = _pair(pool_size)
    sh, sw = (ph, pw) if stride is None else _pair(stride)
    win = X.unfold(2, ph, sh).unfold(3, pw, sw)
    return win.reshape(*win.shape[:4], ph * pw)


def _call(fn, *args):
    """fn(*args), or the exception it raised (reported, never re-raised)."""
    try:
        return fn(*args), None
    except Exception as e:  # the learner's code may fail in any way
        return None, f"your code raised {type(e).__name__}: {e}"


def _compare(out, ref, what):
    """'' if out matches ref, else a hint saying how it differs."""
    if not isinstance(out, torch.Tensor):
        return f"{what} must return a tensor, got {type(out).__name__}"
    if tuple(out.shape) != tuple(ref.shape):
        return (f"{what} returned shape {tuple(out.shape)}, expected "
                f"{tuple(ref.shape)}")
    if not torch.allclose(out.detach().float(), ref, atol=1e-5, rtol=1e-4):
        return f"{what} returned the right shape but wrong values"
    return ""


def check_avg_pool_as_conv(conv, pool_size=2, channels=1):
    """Exercise 1: does `conv` (e.g. an nn.Conv2d) equal nn.AvgPool2d?"""
    ph, pw = _pair(pool_size)
    what = f"average pooling {ph}x{pw} as a convolution ({channels} ch.)"
    for H, W in _SIZES:
        if H < ph or W < pw:
            continue
        X = torch.randn(2, channels, H, W)
        ref = F.avg_pool2d(X, (ph, pw))
        with torch.no_grad():
            out, err = _call(conv, X)
        err = err or _compare(out, ref, "conv")
        if err:
            if "shape" in err and "expected" in err:
                err += ("; the stride must equal the window "
                        "(stride=pool_size), with no padding")
            elif "values" in err:
                err += ("; every weight should be 1 / (p_h * p_w), the "
                        "bias 0, and channel c may only see channel c "
                        "(groups=channels or zero off-diagonal weights)")
            return report(False, what, err)
    return report(True, what)


def check_max_pool_relu(fn):
    """Exercise 3: does fn(X) equal F.max_pool2d(X, 2) (2x2, stride 2)?"""
    what = "2x2 max pooling from ReLU, + and -"
    for H, W in _SIZES:
        X = torch.randn(2, 3, H, W)
        out, err = _call(fn, X)
        err = err or _compare(out, F.max_pool2d(X, 2), "fn(X)")
        if err:
            return report(False, what, err + (
                "; max(a, b) = a + relu(b - a): take the max of the two "
                "columns of each window, then of the two rows "
                "(X[..., ::2], X[..., 1::2] pick them)"))
    return report(True, what)


def pool_cost_reference(c, h, w, p_h, p_w, s_h, s_w, mode="max"):
    """Operations of one pooling layer, counted on its real output shape.

    The exercise's setting: window p_h x p_w, padding (p_h, p_w) in
    total (6.3's convention), stride (s_h, s_w). Max: p_h*p_w - 1
    comparisons per output; avg: p_h*p_w - 1 additions + 1 division.
    """
    # PyTorch pads per side: split the total padding top/bottom, left/right.
    top, left = p_h // 2, p_w // 2
    X = torch.zeros(1, c, h, w)
    Xp = F.pad(X, (left, p_w - left, top, p_h - top))
    h_out, w_out = F.max_pool2d(Xp, (p_h, p_w), (s_h, s_w)).shape[-2:]
    per_output = p_h * p_w - 1 if mode == "max" else p_h * p_w
    return c * h_out * w_out * per_output


def check_pool_cost(fn, mode="max"):
    """Exercise 4: fn(c, h, w, p_h, p_w, s_h, s_w) = number of operations?"""
    what = f"cost of {mode} pooling"
    for _ in range(30):
        c, h, w = (int(v) for v in torch.randint(1, 33, (3,)))
        p_h, p_w, s_h, s_w = (int(v) for v in torch.randint(1, 5, (4,)))
        args = (c, h, w, p_h, p_w, s_h, s_w)
        out, err = _call(fn, *args)
        ref = pool_cost_reference(*args, mode=mode)
        if err is None and out != ref:
            err = f"fn{args} returned {out}, expected {ref}"
        if err:
            return report(False, what, err + (
                "; the output is floor((h - p_h + p_h + s_h) / s_h) x "
                "floor((w - p_w + p_w + s_w) / s_w) per channel, and each "
                "output needs p_h*p_w - 1 comparisons (max) or p_h*p_w - 1 "
                "additions + 1 division (avg)"))
    return report(True, what)


def check_min_pool(fn):
    """Exercise 6: does fn(X, pool_size) give min pooling (stride = window)?"""
    what = "minimum pooling"
    for pool_size in (2, 3, (2, 3)):
        for H, W in _SIZES:
            X = torch.randn(2, 3, H, W)
            ref = _windows(X, pool_size).amin(-1)
            out, err = _call(fn, X, pool_size)
            err = err or _compare(out, ref, f"fn(X, {pool_size})")
            if err:
                return report(False, what, err + (
                    "; min(x) = -max(-x): negate, max-pool, negate"))
    return report(True, what)


def softmax_pool_reference(X, pool_size, tau=1.0):
    """Softmax pooling: sum of softmax(x / tau) * x over each window."""
    win = _windows(X, pool_size)
    return (torch.softmax(win / tau, dim=-1) * win).sum(-1)


def check_softmax_pool(fn):
    """Exercise 7: fn(X, pool_size, tau) = softmax-weighted window mean?"""
    what = "softmax pooling"
    for tau in (1.0, 0.5, 4.0):
        for H, W in _SIZES:
            X = torch.randn(2, 3, H, W) * 3
            ref = softmax_pool_reference(X, 2, tau)
            out, err = _call(fn, X, 2, tau)
            err = err or _compare(out, ref, f"fn(X, 2, tau={tau})")
            if err:
                return report(False, what, err + (
                    "; weight each window element x_k by "
                    "exp(x_k / tau) / sum_l exp(x_l / tau), then add up"))
    # Large inputs must not overflow (subtracting the max is free).
    X = torch.randn(1, 1, 4, 4) * 1000
    out, err = _call(fn, X, 2, 1.0)
    if err is None and not (isinstance(out, torch.Tensor)
                            and torch.isfinite(out).all()):
        err = ("fn gives inf/nan for inputs around 1000: exp overflows; "
               "subtract each window's max before exp (torch.softmax "
               "does this for you)")
    if err:
        return report(False, what, err)
    return report(True, what)
