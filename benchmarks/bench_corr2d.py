"""Time the chapter's loop corr2d, the vectorised corr2d_fast and F.conv2d.

One run, one input (default 256×256, 5×5 kernel), same machine; prints a
table of the best time of each and the ratios, and optionally writes JSON.
Not a test: timings depend on the machine and its load.

    python benchmarks/bench_corr2d.py                  # defaults
    python benchmarks/bench_corr2d.py --threads 1 --json bench.json
"""
import argparse
import json
import os
import platform
import sys
import time

import torch
from torch.nn import functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir))
from helpers.conv import corr2d, corr2d_fast  # noqa: E402


def best_time(f, repeat, warmup=1):
    """Best wall time of `repeat` calls, in seconds."""
    for _ in range(warmup):
        f()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def cpu_model():
    """The CPU's model name (Linux), else platform's guess."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--kernel", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=30,
                        help="timed calls of the fast versions (best kept)")
    parser.add_argument("--loop-repeat", type=int, default=2,
                        help="timed calls of the loop (about 1 s each)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's choice)")
    parser.add_argument("--json", metavar="PATH", default=None,
                        help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.size < args.kernel or args.kernel < 1:
        parser.error("need 1 <= kernel <= size")
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    gen = torch.Generator().manual_seed(0)
    X = torch.randn((args.size, args.size), generator=gen)
    K = torch.randn((args.kernel, args.kernel), generator=gen)
    candidates = {
        "corr2d (chapter loop)": lambda: corr2d(X, K),
        "corr2d_fast (shift)": lambda: corr2d_fast(X, K),
        "corr2d_fast (unfold)": lambda: corr2d_fast(X, K, method="unfold"),
        "F.conv2d": lambda: F.conv2d(X[None, None], K[None, None])[0, 0],
    }
    reference = candidates["F.conv2d"]()
    for name, f in candidates.items():
        err = (f() - reference).abs().max().item()
        if err > 1e-4:
            raise SystemExit(f"{name} differs from F.conv2d by {err:.2e}")

    results = {}
    for name, f in candidates.items():
        loop = name.startswith("corr2d (")
        results[name] = best_time(f, args.loop_repeat if loop
                                  else args.repeat, warmup=0 if loop else 3)
    loop_t = results["corr2d (chapter loop)"]
    conv_t = results["F.conv2d"]
    machine = {
        "cpu": cpu_model(), "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__, "python": platform.python_version(),
        "load_average_1min": (os.getloadavg()[0]
                              if hasattr(os, "getloadavg") else None),
    }
    print(f"input {args.size}×{args.size}, kernel "
          f"{args.kernel}×{args.kernel}, float32, CPU: {machine['cpu']} "
          f"({machine['cores']} cores, {machine['torch_threads']} torch "
          f"threads, load {machine['load_average_1min']:.1f}), torch "
          f"{machine['torch']}")
    print(f"{'method':<24}{'time (ms)':>12}{'loop / this':>14}"
          f"{'this / F.conv2d':>18}")
    rows = []
    for name, t in results.items():
        rows.append({"method": name, "ms": t * 1e3,
                     "speedup_vs_loop": loop_t / t,
                     "ratio_to_conv2d": t / conv_t})
        print(f"{name:<24}{t * 1e3:>12.3f}{loop_t / t:>14.0f}"
              f"{t / conv_t:>18.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"size": args.size, "kernel": args.kernel,
                       "machine": machine, "results": rows}, f, indent=2)
    return rows


if __name__ == "__main__":
    main()
