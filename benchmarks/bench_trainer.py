"""Benchmark: d2l 1.0.3's train_ch6 against helpers.train.train_ch6.

Same network (the chapter's LeNet, Xavier init), same data files, batch
size, lr, epochs and device, in one process. Each side is timed end to
end: reading the data set, building its loaders, training and the test
evaluation after every epoch.

    python benchmarks/bench_trainer.py                 # 10 epochs
    python benchmarks/bench_trainer.py --epochs 2 --json out.json

d2l is a benchmark-only dependency, installed on first use with
`pip install --no-deps --target benchmarks/.d2l d2l==1.0.3` (git
ignores that folder) and put on sys.path by this script only. d2l's
module imports pandas and scipy for chapters this benchmark never calls;
when they are missing, empty stand-ins are registered instead.
"""
import argparse
import contextlib
import importlib.machinery
import io
import json
import os
import platform
import re
import subprocess
import sys
import time
import types
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")  # d2l's Animator plots

import torch  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
D2L_DIR = REPO / "benchmarks" / ".d2l"
D2L_VERSION = "1.0.3"
sys.path.insert(0, str(REPO))

from helpers import data as data_mod  # noqa: E402
from helpers.env import device_name, try_gpu  # noqa: E402
from helpers.lenet import lenet  # noqa: E402
from helpers.train import train_ch6  # noqa: E402


def import_d2l():
    """d2l 1.0.3 from benchmarks/.d2l, installing it there if needed."""
    if not (D2L_DIR / "d2l" / "torch.py").exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                        "--no-deps", "--target", str(D2L_DIR),
                        f"d2l=={D2L_VERSION}"], check=True)
    sys.path.insert(0, str(D2L_DIR))
    for name in ("pandas", "scipy", "scipy.spatial"):
        try:
            __import__(name)
        except ImportError:  # only used by chapters we never call
            stub = types.ModuleType(name)
            stub.__spec__ = importlib.machinery.ModuleSpec(name, None)
            stub.distance_matrix = None
            sys.modules[name] = stub
    from d2l import torch as d2l
    return d2l


def d2l_loaders(d2l, batch_size, root):
    """d2l.load_data_fashion_mnist, verbatim, but reading `root`.

    (d2l 1.0.3 hard-codes root="../data"; everything else is its code.)
    """
    import torchvision
    from torchvision import transforms

    trans = transforms.Compose([transforms.ToTensor()])
    mnist_train = torchvision.datasets.FashionMNIST(
        root=str(root), train=True, transform=trans, download=False)
    mnist_test = torchvision.datasets.FashionMNIST(
        root=str(root), train=False, transform=trans, download=False)
    workers = d2l.get_dataloader_workers()
    return (torch.utils.data.DataLoader(mnist_train, batch_size,
                                        shuffle=True, num_workers=workers),
            torch.utils.data.DataLoader(mnist_test, batch_size,
                                        shuffle=False, num_workers=workers))


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def warm_up(device):
    """Start CUDA and cuDNN once, so neither side pays for it."""
    net = lenet().to(device)
    X = torch.rand(256, 1, 28, 28, device=device)
    for _ in range(3):
        net(X).sum().backward()
    sync(device)


def run_d2l(d2l, args, device, root):
    torch.manual_seed(args.seed)
    net = lenet()
    out = io.StringIO()
    sync(device)
    t0 = time.perf_counter()
    train_iter, test_iter = d2l_loaders(d2l, args.batch_size, root)
    t1 = time.perf_counter()
    with contextlib.redirect_stdout(out):  # the Animator prints figures
        d2l.train_ch6(net, train_iter, test_iter, args.epochs, args.lr,
                      device)
    sync(device)
    t2 = time.perf_counter()
    seconds = t2 - t0
    text = out.getvalue()
    m = re.search(r"loss ([\d.]+), train acc ([\d.]+), test acc ([\d.]+)",
                  text)
    eps = re.search(r"([\d.]+) examples/sec", text)
    return {"seconds": seconds, "train_ch6_seconds": t2 - t1,
            "loss": float(m[1]),
            "train_acc": float(m[2]), "test_acc": float(m[3]),
            "examples_per_sec_printed": float(eps[1])}


def run_ours(args, device, root):
    torch.manual_seed(args.seed)
    net = lenet()
    data_mod._CACHE.clear()  # time the file reading too
    sync(device)
    t0 = time.perf_counter()
    train_iter, test_iter = data_mod.load_data_fashion_mnist(
        args.batch_size, root=root, download=False)
    t1 = time.perf_counter()
    history = train_ch6(net, train_iter, test_iter, args.epochs, args.lr,
                        device, live="text" if args.verbose else False)
    sync(device)
    t2 = time.perf_counter()
    seconds = t2 - t0
    return {"seconds": seconds, "train_ch6_seconds": t2 - t1,
            "loss": round(history.loss[-1], 3),
            "train_acc": round(history.train_acc[-1], 3),
            "test_acc": round(history.test_acc[-1], 3),
            "examples_per_sec_printed": round(history.examples_per_sec, 1),
            "epoch_seconds": [round(s, 3) for s in history.seconds]}


def read_files(root):
    """Read the raw files once so both sides find them in the OS cache."""
    for path in (Path(root) / "FashionMNIST" / "raw").iterdir():
        path.read_bytes()


def table(result):
    rows = [("", "d2l 1.0.3", "helpers.train")]
    for key, fmt in (("seconds", "{:.2f}"),
                     ("train_ch6_seconds", "{:.2f}"), ("test_acc", "{:.3f}"),
                     ("train_acc", "{:.3f}"), ("loss", "{:.3f}"),
                     ("examples_per_sec_printed", "{:.0f}")):
        rows.append((key, fmt.format(result["d2l"][key]),
                     fmt.format(result["ours"][key])))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.append(f"speed-up (end-to-end wall-clock): "
                 f"{result['speedup']:.1f}x on {result['device']} "
                 f"({result['device_name']}), {result['epochs']} epochs")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=0.9)
    p.add_argument("--device", default=None,
                   help="cpu, cuda, cuda:1, mps (default: try_gpu())")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads for both sides")
    p.add_argument("--json", default=str(REPO / "benchmarks" / "results"
                                         / "trainer.json"))
    p.add_argument("--verbose", action="store_true",
                   help="print our per-epoch lines")
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error(f"--epochs must be >= 1, got {args.epochs}")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device) if args.device else try_gpu()
    root = data_mod.data_root()
    d2l = import_d2l()
    read_files(root)
    warm_up(device)
    d2l_result = run_d2l(d2l, args, device, root)
    print(f"d2l:  {d2l_result['seconds']:.2f} s, test acc "
          f"{d2l_result['test_acc']:.3f}", flush=True)
    ours = run_ours(args, device, root)
    print(f"ours: {ours['seconds']:.2f} s, test acc "
          f"{ours['test_acc']:.3f}", flush=True)
    result = {
        "benchmark": "train_ch6, LeNet on Fashion-MNIST",
        "device": str(device), "device_name": device_name(device),
        "epochs": args.epochs, "batch_size": args.batch_size,
        "lr": args.lr, "seed": args.seed,
        "torch": torch.__version__, "d2l": d2l_result, "ours": ours,
        "d2l_version": D2L_VERSION, "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "cuda_graphs": device.type == "cuda",
        "cpu_count": os.cpu_count(),
        "speedup": d2l_result["seconds"] / ours["seconds"],
        "test_acc_difference": ours["test_acc"] - d2l_result["test_acc"],
    }
    print(table(result))
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()
