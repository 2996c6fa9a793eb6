"""Seed, device and quick-mode helpers."""
import pytest
import torch

import helpers


def test_set_seed_reproduces():
    helpers.set_seed(3)
    a = torch.rand(5)
    helpers.set_seed(3)
    assert torch.equal(a, torch.rand(5))
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        helpers.set_seed(-1)


def test_quick_mode(monkeypatch):
    monkeypatch.setenv("COURSE_QUICK", "1")
    assert helpers.quick_mode()
    monkeypatch.setenv("COURSE_QUICK", "0")
    assert not helpers.quick_mode()
    monkeypatch.delenv("COURSE_QUICK")
    assert not helpers.quick_mode()


def test_try_gpu_falls_back_to_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert helpers.try_gpu() == torch.device("cpu")


def test_setup_prints_versions_device_and_hint(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setenv("COURSE_QUICK", "1")
    assert helpers.setup(0) == torch.device("cpu")
    out = capsys.readouterr().out
    assert f"torch {torch.__version__}" in out
    assert "device: cpu" in out and "hint: no GPU found" in out
    assert "quick mode is on" in out
