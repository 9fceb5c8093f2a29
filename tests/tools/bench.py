"""`make bench`: kernels, the book and the tests, timed the same way as chapter 4.

Usage: python -m tests.tools.bench [--only kernels,seeds,book,tests] [--quick]

Every figure is the median over repeats after a warm-up (``relu_lab.timing.time_call``),
with its interquartile range; comparisons are ratios measured side by side in the same
run. Prints tables and writes them to ``_build/bench/bench.json``. Budgets are those of
the benchmark issue; a row that misses its budget is marked ``MISS``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from relu_lab import activations as A
from relu_lab.data import digits, train_test_split
from relu_lab.ensemble import train_seeds
from relu_lab.models import mlp
from relu_lab.timing import Timing, time_call
from relu_lab.training import train

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "_build" / "bench"
KERNEL_BUDGET = 1.2  # relu_lab <= 1.2 x the faster of torch and plain NumPy
SLOPE = 0.01

# name -> (relu_lab function, plain NumPy expression, torch equivalent on a tensor)
# Derivatives are compared with PyTorch's backward kernels given an all-ones gradient.
KERNELS: dict[str, tuple[Callable, Callable, Callable]] = {
    "relu": (A.relu, lambda x: np.maximum(x, 0), torch.relu),
    "relu'": (A.relu_derivative, lambda x: (x > 0).astype(x.dtype),
              lambda t: torch.ops.aten.threshold_backward(torch.ones_like(t), t, 0)),
    "leaky_relu": (A.leaky_relu, lambda x: np.where(x > 0, x, x * SLOPE), lambda t: F.leaky_relu(t, SLOPE)),
    "leaky_relu'": (A.leaky_relu_derivative, lambda x: np.where(x > 0, x.dtype.type(1), x.dtype.type(SLOPE)),
                    lambda t: torch.ops.aten.leaky_relu_backward(torch.ones_like(t), t, SLOPE, False)),
    "sigmoid": (A.sigmoid, lambda x: 1 / (1 + np.exp(-x)), torch.sigmoid),
    "sigmoid'": (A.sigmoid_derivative, lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s),
                 lambda t: torch.ops.aten.sigmoid_backward(torch.ones_like(t), torch.sigmoid(t))),
    "tanh": (A.tanh, np.tanh, torch.tanh),
    "tanh'": (A.tanh_derivative, lambda x: 1 - np.tanh(x) ** 2,
              lambda t: torch.ops.aten.tanh_backward(torch.ones_like(t), torch.tanh(t))),
}


# Several seeds in one vectorised run (relu_lab.ensemble.train_seeds) against one seed
# with relu_lab.training.train: 5 seeds may cost at most 2 x one seed.
SEEDS, SEEDS_BUDGET = 5, 2.0
# label -> (layer widths, training recipe), chapter-sized networks on the digits:
# chapter 4's network and recipe, and chapter 7's 30 hidden layers with its recipe.
SEED_CASES: dict[str, tuple[list[int], dict[str, Any]]] = {
    "[64, 64, 64, 10]": ([64, 64, 64, 10], dict(epochs=10, lr=0.05, momentum=0.9, batch_size=64)),
    "[64] + [64]*30 + [10]": ([64] + [64] * 30 + [10],
                              dict(epochs=20, lr=0.003, momentum=0.9, batch_size=128, track_dead=False)),
}


def _row(t) -> dict[str, float]:
    return {"median_ms": t.median * 1e3, "iqr_rel": t.spread}


def bench_kernels(quick: bool) -> dict[str, Any]:
    sizes = [10**3, 10**5] if quick else [10**3, 10**5, 10**7]
    rng = np.random.default_rng(0)
    rows = []
    print(f"\n## Kernels (torch threads: {torch.get_num_threads()})")
    print(f"{'kernel':<12} {'dtype':<8} {'n':>9} {'relu_lab':>10} {'numpy':>10} {'torch':>10} {'ratio':>7}  budget")
    for dtype in (np.float32, np.float64):
        for n in sizes:
            x = rng.standard_normal(n).astype(dtype)
            t = torch.from_numpy(x)
            repeats = 7 if n >= 10**7 else 25
            number = 1 if n >= 10**5 else 50
            for name, (ours, plain, theirs) in KERNELS.items():
                with np.errstate(over="ignore"):
                    t_ours = time_call(ours, x, repeats=repeats, number=number)
                    t_np = time_call(plain, x, repeats=repeats, number=number)
                t_torch = time_call(theirs, t, repeats=repeats, number=number)
                best = min(t_np.median, t_torch.median)
                ratio = t_ours.median / best
                ok = ratio <= KERNEL_BUDGET or n < 10**7
                rows.append({"kernel": name, "dtype": np.dtype(dtype).name, "n": n, "relu_lab": _row(t_ours),
                             "numpy": _row(t_np), "torch": _row(t_torch), "ratio_to_best": ratio,
                             "budgeted": n >= 10**7 and dtype == np.float32, "within_budget": ok})
                mark = ("ok" if ok else "MISS") if n >= 10**7 and dtype == np.float32 else ""
                print(f"{name:<12} {np.dtype(dtype).name:<8} {n:>9,} {t_ours.median*1e3:>8.3f}ms "
                      f"{t_np.median*1e3:>8.3f}ms {t_torch.median*1e3:>8.3f}ms {ratio:>7.2f}  {mark}")
    # Bandwidth: an elementwise function must at least read and write its array once.
    n = 10**6 if quick else 10**7
    x = rng.standard_normal(n).astype(np.float32)
    buf = np.empty_like(x)
    copy = time_call(x.copy, repeats=9)
    copyto = time_call(np.copyto, buf, x, repeats=9)
    relu_t = time_call(A.relu, x, repeats=9)
    maximum_out = time_call(lambda: np.maximum(x, 0, out=buf), repeats=9)
    bandwidth = {
        "n": n, "copy_ms": copy.median * 1e3, "copyto_ms": copyto.median * 1e3,
        "relu_ms": relu_t.median * 1e3, "maximum_out_ms": maximum_out.median * 1e3,
        "relu_fraction_of_copy": copy.median / relu_t.median,
        "maximum_out_fraction_of_copyto": copyto.median / maximum_out.median,
    }
    gbps = 2 * x.nbytes / copy.median / 1e9
    print(f"\nBandwidth on {n:,} float32: x.copy() {copy.median*1e3:.2f} ms ({gbps:.1f} GB/s read+write), "
          f"relu_lab.relu {relu_t.median*1e3:.2f} ms = {bandwidth['relu_fraction_of_copy']:.2f} of copy "
          f"(budget >= 0.6: {'ok' if bandwidth['relu_fraction_of_copy'] >= 0.6 else 'MISS'}); "
          f"np.copyto {copyto.median*1e3:.2f} ms, np.maximum(out=) {maximum_out.median*1e3:.2f} ms "
          f"= {bandwidth['maximum_out_fraction_of_copyto']:.2f} of copyto (relu_lab offers no out=)")
    return {"rows": rows, "bandwidth": bandwidth}


def bench_seeds(quick: bool) -> dict[str, Any]:
    """Wall time of 5 seeds in one train_seeds run and of 1 seed with train, side by side.

    One thread, as the chapters run (the Makefile pins it for every notebook target).
    After a warm-up of each, every round times one call of each, so a busy moment of the
    machine hits both alike; the CPU time of each call is recorded too, which a machine
    shared with other programs disturbs much less than the wall time.
    """
    train_set, test_set = train_test_split(digits(), test_fraction=0.25, seed=0)
    rounds = 3 if quick else 7
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    print(f"\n## {SEEDS} seeds in one vectorised run (train_seeds) vs 1 seed (train), digits, torch threads 1")
    print(f"{'network':<24} {'recipe':<52} {'1 seed':>9} {f'{SEEDS} seeds':>9} {'ratio':>6} {'(cpu)':>6}  budget")
    try:
        for label, (sizes, recipe) in SEED_CASES.items():
            kw = dict(recipe, test_data=test_set)

            def one(sizes=sizes, kw=kw) -> None:
                train(mlp(sizes, seed=0), train_set, seed=0, **kw)

            def many(sizes=sizes, kw=kw) -> None:
                train_seeds(sizes, data=train_set, seeds=range(SEEDS), **kw)

            wall: dict[str, list[float]] = {"one": [], "many": []}
            cpu: dict[str, list[float]] = {"one": [], "many": []}
            one(), many()  # warm-up
            for _ in range(rounds):
                for key, fn in (("one", one), ("many", many)):
                    start = time.process_time()
                    wall[key].append(time_call(fn, repeats=1, warmup=0).median)
                    cpu[key].append(time.process_time() - start)
            timings = {}
            for key, values in wall.items():
                q1, med, q3 = np.percentile(values, [25, 50, 75])
                timings[key] = Timing(float(med), float(q1), float(q3), rounds)
            ratio = timings["many"].median / timings["one"].median
            cpu_ratio = float(np.median(cpu["many"]) / np.median(cpu["one"]))
            ok = ratio <= SEEDS_BUDGET
            recipe_text = ", ".join(f"{k}={v}" for k, v in recipe.items() if k != "track_dead")
            rows.append({"network": label, "sizes": sizes, "recipe": recipe, "seeds": SEEDS,
                         "one_seed_train": _row(timings["one"]), "seeds_train_seeds": _row(timings["many"]),
                         "one_seed_cpu_ms": float(np.median(cpu["one"])) * 1e3,
                         "seeds_cpu_ms": float(np.median(cpu["many"])) * 1e3,
                         "ratio": ratio, "cpu_ratio": cpu_ratio, "budget": SEEDS_BUDGET, "within_budget": ok})
            print(f"{label:<24} {recipe_text:<52} {timings['one'].median * 1e3:>7.0f}ms "
                  f"{timings['many'].median * 1e3:>7.0f}ms {ratio:>6.2f} {cpu_ratio:>6.2f}  "
                  f"{'ok' if ok else 'MISS'} (<= {SEEDS_BUDGET})")
    finally:
        torch.set_num_threads(threads)
    return {"rows": rows, "rounds": rounds, "threads": 1}


def _run(cmd: list[str], cwd: Path = ROOT) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
        raise SystemExit(f"bench: {' '.join(cmd)} failed with exit code {proc.returncode}")
    return elapsed, proc.stdout


def bench_book() -> dict[str, Any]:
    """Chapters one at a time (`make execute`), then `make book` from nothing and again.

    Runs in a temporary copy of the working tree that shares this .venv, so the stored
    notebooks here are not touched and the builds start from an empty _build.
    """
    print("\n## The book")
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        shutil.copytree(ROOT, site, ignore=shutil.ignore_patterns(".venv", "_build", ".git", "__pycache__"))
        (site / ".venv").symlink_to(ROOT / ".venv")
        _, out = _run(["make", "--no-print-directory", "execute"], cwd=site)
        chapters = {}
        for line in out.splitlines():
            name, sep, seconds = line.partition(".ipynb: ")
            if sep:
                chapters[Path(name).name] = float(seconds.removesuffix(" s"))
                flag = "ok" if chapters[Path(name).name] <= 15 else "MISS (> 15 s)"
                print(f"{Path(name).name:<28} {chapters[Path(name).name]:6.1f} s  {flag}")
        total = sum(chapters.values())
        print(f"{'all chapters, one by one':<28} {total:6.1f} s  {'ok' if total < 90 else 'MISS (>= 90 s)'}")
        clean, _ = _run(["make", "--no-print-directory", "book"], cwd=site)
        rebuild, _ = _run(["make", "--no-print-directory", "book"], cwd=site)
    print(f"{'make book from nothing':<28} {clean:6.1f} s  (chapters two at a time, then the build)")
    print(f"{'make book, nothing changed':<28} {rebuild:6.1f} s  {'ok' if rebuild < 5 else 'MISS (>= 5 s)'}")
    return {"chapters_s": chapters, "total_s": total, "clean_build_s": clean, "rebuild_s": rebuild}


def bench_tests() -> dict[str, Any]:
    print("\n## make test, by stage (after setup)")
    stages = {}
    for stage in ("test-unit", "test-notebooks", "test-build", "test-browser"):
        stages[stage], _ = _run(["make", "--no-print-directory", stage])
        print(f"{stage:<16} {stages[stage]:6.1f} s")
    total = sum(stages.values())
    print(f"{'make test':<16} {total:6.1f} s  {'ok' if total < 300 else 'MISS (>= 5 min)'}")
    return {"stages_s": stages, "total_s": total}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="kernels,seeds,book,tests",
                        help="comma-separated: kernels, seeds, book, tests")
    parser.add_argument("--quick", action="store_true", help="small kernel sizes, fewer rounds (a smoke test)")
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.only.split(",")}
    unknown = parts - {"kernels", "seeds", "book", "tests"}
    if unknown:
        parser.error(f"--only takes kernels, seeds, book, tests; got {sorted(unknown)}")
    result: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count(),
                    "torch": torch.__version__, "numpy": np.__version__, "torch_threads": torch.get_num_threads()},
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    if "kernels" in parts:
        result["kernels"] = bench_kernels(args.quick)
    if "seeds" in parts:
        result["seeds"] = bench_seeds(args.quick)
    if "book" in parts:
        result["book"] = bench_book()
    if "tests" in parts:
        result["tests"] = bench_tests()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench.json").write_text(json.dumps(result, indent=2))
    print(f"\nwrote {OUT / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
