"""Seed, device and quick-mode helpers: the one place that decides them.

Every notebook's setup cell calls `setup(SEED)`; nothing is seeded on import.
"""
import contextlib
import os
import platform
import random

import torch


def quick_mode():
    """True when COURSE_QUICK=1: long cells run a reduced workload (CI)."""
    return os.environ.get("COURSE_QUICK", "").strip().lower() in (
        "1", "true", "yes", "on")


def set_seed(seed):
    """Seed Python's and torch's generators (the one explicit seed)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    torch.manual_seed(seed)
    return seed


class one_thread(contextlib.ContextDecorator):
    """Run tiny tensor ops (widget updates) on one CPU thread.

    With several threads, each op of a few hundred elements waits for
    the other threads: under load, ms instead of µs. Restores the count.
    """

    def __enter__(self):
        self._threads = torch.get_num_threads()
        torch.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        torch.set_num_threads(self._threads)
        return False


def try_gpu(i=0):
    """Return cuda:i, else Apple's mps, else the cpu (as d2l's try_gpu)."""
    if torch.cuda.is_available() and torch.cuda.device_count() > i:
        return torch.device(f"cuda:{i}")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_name(device):
    """A readable name for a device: the GPU model, or 'cpu'."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple MPS"
    return "cpu"


def setup(seed=0, verbose=True):
    """Seed, pick the device and print versions; returns the device.

    Called once by each notebook's setup cell.
    """
    import torchvision

    set_seed(seed)
    device = try_gpu()
    if verbose:
        print(f"Python {platform.python_version()} | torch {torch.__version__}"
              f" | torchvision {torchvision.__version__}")
        print(f"seed: {seed}")
        print(f"device: {device} ({device_name(device)})")
        if device.type == "cpu":
            print("hint: no GPU found, so training runs on the CPU "
                  "(slower, but every cell still works)")
        if quick_mode():
            print("COURSE_QUICK=1: quick mode is on, long cells run a "
                  "reduced workload")
    return device
