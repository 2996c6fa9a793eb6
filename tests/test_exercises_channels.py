"""6.4 exercise checkers accept right answers and reject wrong ones."""
import pytest
import torch
from torch.nn import functional as F

from helpers.channels import conv_macs
from helpers.exercises import channels as ex


def out_size(n, k, p, s):
    """Chapter formula (6.3) with total padding p."""
    return (n - k + p + s) // s


def macs(c_i, c_o, h, w, k_h, k_w, p_h, p_w, s_h, s_w):
    return (c_o * c_i * k_h * k_w * out_size(h, k_h, p_h, s_h)
            * out_size(w, k_w, p_w, s_w))


def verdict(capsys, checker, answer):
    ok = checker(answer)
    text = capsys.readouterr().out
    assert text.startswith("✓" if ok else "✗"), text
    return ok


def test_reference_macs_agree_with_conv_macs():
    # independent oracle for the right answers below (even total padding)
    for cfg in ex.FIXED_CONFIGS:
        c_i, c_o, h, w, k_h, k_w, p_h, p_w, s_h, s_w = cfg
        if p_h % 2 == 0 and p_w % 2 == 0:
            assert macs(*cfg) == conv_macs(c_i, c_o, h, w, k_h, k_w,
                                           (p_h // 2, p_w // 2), (s_h, s_w))


def test_composed_kernel_size(capsys):
    assert verdict(capsys, ex.check_composed_kernel_size,
                   lambda k1, k2: k1 + k2 - 1)
    assert not verdict(capsys, ex.check_composed_kernel_size,
                       lambda k1, k2: k1 + k2)
    assert not verdict(capsys, ex.check_composed_kernel_size,
                       lambda k1, k2: k1 * k2)


def full_conv(K1, K2):
    return F.conv_transpose2d(K1[None, None], K2[None, None])[0, 0]


def test_compose_kernels(capsys):
    assert verdict(capsys, ex.check_compose_kernels, full_conv)
    # correlation instead of convolution: wrong for asymmetric kernels
    assert not verdict(capsys, ex.check_compose_kernels,
                       lambda K1, K2: F.conv2d(
                           F.pad(K1[None, None], (K2.shape[1] - 1,) * 2
                                 + (K2.shape[0] - 1,) * 2),
                           K2[None, None])[0, 0])
    assert not verdict(capsys, ex.check_compose_kernels, lambda K1, K2: K1)
    assert not verdict(capsys, ex.check_compose_kernels,
                       lambda K1, K2: 1 / 0)


def test_forward_and_backward_counts(capsys):
    assert verdict(capsys, ex.check_forward_macs, macs)
    assert not verdict(capsys, ex.check_forward_macs,
                       lambda *cfg: macs(*cfg[:6], 0, 0, 1, 1))
    assert not verdict(capsys, ex.check_forward_macs,
                       lambda c_i, c_o, h, w, k_h, k_w, *rest:
                       c_o * c_i * k_h * k_w * h * w)
    assert verdict(capsys, ex.check_backward_macs,
                   lambda *cfg: 2 * macs(*cfg))
    assert not verdict(capsys, ex.check_backward_macs, macs)


def test_forward_memory(capsys):
    def memory(c_i, c_o, h, w, k_h, k_w, p_h, p_w, s_h, s_w):
        return (c_i * h * w + c_o * c_i * k_h * k_w
                + c_o * out_size(h, k_h, p_h, s_h)
                * out_size(w, k_w, p_w, s_w))
    assert verdict(capsys, ex.check_forward_memory, memory)
    assert not verdict(capsys, ex.check_forward_memory,
                       lambda c_i, c_o, h, w, k_h, k_w, *r: c_i * h * w)


def test_doubling(capsys):
    assert verdict(capsys, ex.check_channel_doubling, 4)
    assert not verdict(capsys, ex.check_channel_doubling, 2)

    def factor(c_i, c_o, h, w, k_h, k_w, p_h, p_w, s_h, s_w):
        return (macs(c_i, c_o, h, w, k_h, k_w, 2 * p_h, 2 * p_w, s_h, s_w)
                / macs(c_i, c_o, h, w, k_h, k_w, p_h, p_w, s_h, s_w))
    assert verdict(capsys, ex.check_padding_doubling, factor)
    assert not verdict(capsys, ex.check_padding_doubling, lambda *cfg: 4)
    assert not verdict(capsys, ex.check_padding_doubling, lambda *cfg: 1)


def test_1x1_macs(capsys):
    assert verdict(capsys, ex.check_1x1_macs,
                   lambda c_i, c_o, h, w: c_i * c_o * h * w)
    assert not verdict(capsys, ex.check_1x1_macs,
                       lambda c_i, c_o, h, w: c_i * h * w)


def conv_by_matmul(X, K):
    c_o, c_i, k_h, k_w = K.shape
    h, w = X.shape[1] - k_h + 1, X.shape[2] - k_w + 1
    cols = F.unfold(X[None], (k_h, k_w))[0]          # (c_i*k_h*k_w, h*w)
    return (K.reshape(c_o, -1) @ cols).reshape(c_o, h, w)


def test_conv_as_matmul(capsys):
    assert verdict(capsys, ex.check_conv_as_matmul, conv_by_matmul)
    # true convolution (flipped kernel) is not the layer's correlation
    assert not verdict(capsys, ex.check_conv_as_matmul,
                       lambda X, K: conv_by_matmul(X, K.flip(2, 3)))
    assert not verdict(capsys, ex.check_conv_as_matmul,
                       lambda X, K: X.sum(0))


def test_strip_loads(capsys):
    assert verdict(capsys, ex.check_strip_loads,
                   lambda k_h, k_w, d: k_h * (k_w + d - 1) / d)
    assert not verdict(capsys, ex.check_strip_loads,
                       lambda k_h, k_w, d: k_h * k_w)
    assert not verdict(capsys, ex.check_strip_loads,
                       lambda k_h, k_w, d: k_h * (k_w + d) / d)


def test_block_diagonal_cost(capsys):
    assert verdict(capsys, ex.check_block_diagonal_cost,
                   lambda c, b: c * c // b)
    assert not verdict(capsys, ex.check_block_diagonal_cost,
                       lambda c, b: c * c)


def test_wrong_answer_hint_is_deterministic(capsys):
    # fixed cases come first: a wrong answer gets the same hint every run
    hints = set()
    for _ in range(3):
        ex.check_forward_macs(lambda *cfg: 0)
        hints.add(capsys.readouterr().out)
    assert len(hints) == 1 and "hint:" in hints.pop()


@pytest.mark.parametrize("k1, k2", [(1, 1), (3, 5), (6, 2)])
def test_composed_support_oracle(k1, k2):
    assert ex._composed_support(k1, k2) == k1 + k2 - 1


def test_checkers_leave_the_global_rng_alone(capsys):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    ex.check_compose_kernels(full_conv)
    ex.check_conv_as_matmul(conv_by_matmul)
    ex.check_composed_kernel_size(lambda k1, k2: k1 + k2 - 1)
    assert torch.equal(torch.rand(3), expected)
