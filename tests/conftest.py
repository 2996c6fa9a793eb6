"""Shared fixtures: the real data folder and a recorder for widget timings."""
import json
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "artifacts"


@pytest.fixture(scope="session")
def data_dir():
    """The data folder, with Fashion-MNIST readable in it.

    It is the one helpers.data resolves (COURSE_DATA_DIR, else data/);
    CI points COURSE_DATA_DIR at ../shared/data. Fails, never skips.
    """
    from helpers.data import DataNotFoundError, data_root, load_fashion_mnist

    try:
        load_fashion_mnist()
    except DataNotFoundError as e:
        pytest.fail(str(e))
    return data_root()


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny tensors: thread hand-offs cost more than they save.

    Modules that test many small configurations use it with
    `pytestmark = pytest.mark.usefixtures("one_torch_thread")`.
    """
    from helpers.env import one_thread

    with one_thread():
        yield


@pytest.fixture(scope="session")
def briefly_trained_lenet(data_dir):
    """A seeded modern LeNet after 50 SGD steps: right and wrong answers.

    Shared by the evaluation and viewer tests (never modify it).
    """
    import torch.nn.functional as F

    from helpers.data import load_fashion_mnist
    from helpers.lenet import lenet

    data = load_fashion_mnist()
    torch.manual_seed(0)
    net = lenet("modern")
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    X, y = data.train_images[:3200], data.train_labels[:3200]
    for start in range(0, len(X), 64):
        opt.zero_grad()
        F.cross_entropy(net(X[start:start + 64]),
                        y[start:start + 64]).backward()
        opt.step()
    return net.eval()


_TIMINGS = {}


@pytest.fixture
def record_timing():
    """record_timing(widget, ms): keep a widget update time (not asserted).

    All records land in artifacts/widget_timings.json at the end of the
    session, and the slowest per widget is printed in the summary.
    """
    def record(widget, ms):
        value = round(float(ms), 2)  # fails before touching the record
        _TIMINGS.setdefault(widget, []).append(value)
    return record


def pytest_terminal_summary(terminalreporter):
    if not _TIMINGS:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    summary = {name: {"updates": len(v), "median_ms": sorted(v)[len(v) // 2],
                      "max_ms": max(v)} for name, v in _TIMINGS.items()}
    tmp = ARTIFACTS / "widget_timings.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2))
    tmp.replace(ARTIFACTS / "widget_timings.json")
    terminalreporter.section("widget update times (recorded, not asserted)")
    for name, s in sorted(summary.items()):
        terminalreporter.write_line(
            f"{name}: {s['updates']} updates, median {s['median_ms']} ms, "
            f"max {s['max_ms']} ms")
