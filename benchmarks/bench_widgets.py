"""Time every explorer's updates: move controls, record ms per update.

    python benchmarks/bench_widgets.py [--json PATH] [--repeat N]

Each widget is built once, then one control at a time is moved through
a few values, as a learner would drag it; wall-clock and CPU time of the
whole update (compute, in-place redraw, PNG) are recorded. The target
is <= 100 ms per update; this script reports, it asserts nothing.
"""
import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch


def explorers():
    """(name, widget, [(control, values), ...]) for every explorer."""
    from helpers.data import load_fashion_mnist
    from helpers.lenet import lenet
    from helpers.widgets.channels import channel_explorer, conv1x1_mixer
    from helpers.widgets.conv import kernel_explorer
    from helpers.widgets.lenet import lenet_viewer
    from helpers.widgets.padding import padding_explorer
    from helpers.widgets.pooling import pooling_explorer
    from helpers.widgets.receptive import receptive_explorer

    torch.manual_seed(0)
    data = load_fashion_mnist()
    yield "kernel explorer (6.2)", kernel_explorer(), [
        ("i", [1, 2, 3, 2]), ("j", [2, 3, 4, 5]),
        ("preset", ["Sobel vertical", "blur", "chapter [1, -1]"])]
    yield "padding/stride explorer (6.3)", padding_explorer(), [
        ("padding_h", [0, 2, 1]), ("stride_w", [2, 3, 1]),
        ("i", [1, 2, 0])]
    yield "receptive-field explorer (6.3)", receptive_explorer(), [
        ("i", [1, 2, 3]), ("j", [1, 2, 3]), ("layer", [0, 1])]
    yield "channel explorer (6.4)", channel_explorer(), [
        ("out_channel", [1, 2, 0]), ("k00", [0.5, -1.0, 1.0]),
        ("c_i", [2, 3])]
    yield "1x1 mixer (6.4)", conv1x1_mixer(), [
        ("w_r", [0.1, 0.5, 0.9]), ("row", [1, 2, 3])]
    yield "pooling explorer (6.5)", pooling_explorer(), [
        ("i", [1, 2, 3, 4]), ("shift", [0, 2, -1, 1]),
        ("mode", ["avg", "max"])]
    yield "LeNet viewer (6.6)", lenet_viewer(
        lenet("classic").eval(), data.test_images, data.test_labels), [
        ("index", [1, 2, 3, 4, 5])]


def measure(widget, moves, repeat):
    wall, cpu = [], []
    for _ in range(repeat):
        for name, values in moves:
            control = widget.controls[name]
            for v in values:
                t, c = time.perf_counter(), time.process_time()
                control.value = v
                wall.append((time.perf_counter() - t) * 1e3)
                cpu.append((time.process_time() - c) * 1e3)
    return wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    rows = []
    for name, widget, moves in explorers():
        measure(widget, moves, 1)  # warm up caches
        wall, cpu = measure(widget, moves, args.repeat)
        rows.append({"widget": name, "updates": len(wall),
                     "median_ms": round(statistics.median(wall), 1),
                     "max_ms": round(max(wall), 1),
                     "median_cpu_ms": round(statistics.median(cpu), 1)})
    print(f"{'widget':34} {'updates':>7} {'median ms':>10} {'max ms':>8}"
          f" {'median CPU ms':>14}")
    for r in rows:
        print(f"{r['widget']:34} {r['updates']:>7} {r['median_ms']:>10}"
              f" {r['max_ms']:>8} {r['median_cpu_ms']:>14}")
    print(f"torch threads: {torch.get_num_threads()}, "
          f"cores: {os.cpu_count()}, load: {os.getloadavg()[0]:.2f}")
    if args.json:
        tmp = args.json.with_suffix(".tmp")
        tmp.write_text(json.dumps(rows, indent=2))
        tmp.replace(args.json)


if __name__ == "__main__":
    main()
