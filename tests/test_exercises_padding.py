"""Checkers of the 6.3 exercises accept right answers, reject wrong ones."""
import math

import pytest
import torch
from torch import nn

from helpers.exercises.padding import (
    check_conv_for_target, check_last_example, check_output_shape,
    check_same_padding,
)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def right_total(n, k, p, s):
    return (n - k + p + s) // s


def right_per_side(n, k, p, s):
    return (n - k + 2 * p + s) // s


@pytest.mark.parametrize("seed", range(3))
def test_check_output_shape_accepts_right_answers(seed, capsys):
    assert check_output_shape(right_total, generator=gen(seed))
    assert check_output_shape(lambda n, k, p, s: (n - k + p) // s + 1,
                              generator=gen(seed))
    assert check_output_shape(right_per_side, per_side=True,
                              generator=gen(seed))
    assert capsys.readouterr().out.count("✓") == 3


@pytest.mark.parametrize("wrong", [
    lambda n, k, p, s: (n - k + p) // s,                 # forgot + s
    lambda n, k, p, s: math.ceil((n - k + p + s) / s),   # ceil, not floor
    lambda n, k, p, s: (n - k + 2 * p + s) // s,         # per-side p
    lambda n, k, p, s: n - k + p + 1,                    # ignores stride
    lambda n, k, p, s: 1 / 0,                            # raises
    lambda n, k, p, s: None,                             # forgot return
])
def test_check_output_shape_rejects_wrong_answers(wrong, capsys):
    assert not check_output_shape(wrong, generator=gen(1))
    out = capsys.readouterr().out
    assert out.startswith("✗") and "hint:" in out


def test_check_output_shape_per_side_rejects_total_formula(capsys):
    assert not check_output_shape(right_total, per_side=True,
                                  generator=gen(2))
    assert "EACH side" in capsys.readouterr().out


def test_check_same_padding(capsys):
    assert check_same_padding(lambda k: k - 1)
    assert check_same_padding(lambda k: (k - 1) // 2, per_side=True)
    assert not check_same_padding(lambda k: (k - 1) // 2)
    assert not check_same_padding(lambda k: k - 1, per_side=True)
    assert not check_same_padding(lambda k: k)
    assert not check_same_padding(lambda k: k / 2)
    out = capsys.readouterr().out
    assert out.count("✓") == 2 and out.count("✗") == 4


def test_check_last_example(capsys):
    X = torch.zeros(1, 1, 8, 8)
    want = nn.Conv2d(1, 1, kernel_size=(3, 5), padding=(0, 1),
                     stride=(3, 4))(X).shape[-2:]
    assert check_last_example(tuple(want))
    assert check_last_example(want)             # a torch.Size works too
    assert check_last_example([2, 2])
    assert not check_last_example((2, 1))
    assert not check_last_example((3, 2))
    assert not check_last_example("2x2")
    assert "p_w = 2" in capsys.readouterr().out


def test_check_conv_for_target(capsys):
    assert check_conv_for_target(
        nn.Conv2d(1, 1, kernel_size=3, padding=1, stride=2), (4, 4))
    assert check_conv_for_target(
        nn.Conv2d(1, 1, kernel_size=5, padding=2), (8, 8))
    assert not check_conv_for_target(
        nn.Conv2d(1, 1, kernel_size=3, padding=1), (4, 4))
    assert not check_conv_for_target(
        nn.Conv2d(1, 1, kernel_size=9), (4, 4))   # cannot run: a message
    assert not check_conv_for_target(nn.Conv2d(3, 1, 3), (6, 6))
    out = capsys.readouterr().out
    assert out.count("✓") == 2 and out.count("✗") == 3
