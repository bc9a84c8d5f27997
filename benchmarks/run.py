"""ndflow benchmark harness: the workloads of ../shared/WORKLOADS.md, side by side.

    python benchmarks/run.py                       # W5, W5f, L, W1, W2; about 10-20 minutes
    python benchmarks/run.py --quick               # same, relaxed method; ~2-3 minutes
    python benchmarks/run.py --workloads W5,L      # a subset

Each (workload, framework) pair runs in its own subprocess (benchmarks/worker.py) under the
benchmark interpreter (default benchmarks/.venv, made by benchmarks/make_env.py, when it
exists, else this one), with
the same environment for every process, except KERAS_BACKEND for the two Keras 3 runs.
Prints a Markdown report and writes it to benchmarks/results/latest.md (and the raw results
to benchmarks/results/latest.json). Frameworks that are not installed are skipped with a note.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from common import (  # noqa: E402
    FULL, QUICK, RESULT_MARK, W1_BATCH, W1_PREDICT_FLOP_PER_SAMPLE, W1_QUICK_SAMPLES,
    W1_SAMPLES, W1_TRAIN_FLOP_PER_SAMPLE, W2_CONV_FWD_FLOP_PER_SAMPLE,
    W2_CONV_TRAIN_FLOP_PER_SAMPLE, W2_QUICK_SAMPLES, W2_SAMPLES,
)

# the environment `python3 benchmarks/make_env.py` creates, inside this checkout
DEFAULT_PYTHON = HERE / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
WORKLOADS = ["W5", "W5f", "L", "W1", "W2"]
# Which frameworks run each workload, in table order. "reference" marks the frameworks that
# ndflow is compared against (the NumPy rows are floors, not references).
FRAMEWORKS = {
    "W5": ["ndflow", "torch", "tensorflow", "numpy"],
    "L": ["numpy"],
    "W5f": ["ndflow", "torch", "tensorflow", "numpy"],
    "W1": ["ndflow", "ndflow-eager", "keras-jax", "keras-tensorflow", "torch", "numpy-hand"],
    "W2": ["ndflow", "ndflow-eager", "keras-jax", "keras-tensorflow", "torch"],
}
W5F_TARGET_US = 2.0  # ndflow W5f target: <= 2 µs per op
W2_RSS_TARGET = 1.5  # ndflow W2 peak RSS target: <= 1.5x PyTorch's
REFERENCES = {"torch", "tensorflow", "keras-jax", "keras-tensorflow"}
ENV_KEYS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
            "MKL_NUM_THREADS", "XLA_FLAGS", "TF_ENABLE_ONEDNN_OPTS", "NDFLOW_JIT")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workloads", default=",".join(WORKLOADS),
                    help="comma-separated subset of " + ",".join(WORKLOADS))
    ap.add_argument("--frameworks", default="",
                    help="comma-separated subset (default: all of each workload's)")
    ap.add_argument("--quick", action="store_true",
                    help="relaxed method (fewer steps, 1 repeat, 12,800 W1 samples): a smoke "
                         "run, not the WORKLOADS.md method")
    ap.add_argument("--python", default=str(DEFAULT_PYTHON if DEFAULT_PYTHON.exists()
                                            else sys.executable),
                    help="interpreter that runs the workers (default: %(default)s)")
    ap.add_argument("--repeats", type=int, default=None,
                    help="timed regions per measurement (default 3, quick 1); the median "
                         "is reported")
    ap.add_argument("--w1-epochs", type=int, default=None,
                    help="W1: full epochs per timed training region (default 4, quick 1)")
    ap.add_argument("--predict-passes", type=int, default=None,
                    help="W1: full predict passes per timed region (default 10, quick 1)")
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="seconds allowed to each worker process")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run the whole job list this many times, interleaved, and pool the "
                         "timed regions (e.g. --rounds 3 --repeats 1 spreads each framework's "
                         "repeats over the run, fairer on a shared machine); default 1")
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                    help="before each worker, wait up to SECONDS for the machine to be quiet "
                         "(other processes using < 0.3 CPUs over 2 s); default 0 = don't wait")
    ap.add_argument("--out", default=str(HERE / "results" / "latest.md"))
    return ap.parse_args(argv)


def bench_env() -> dict[str, str]:
    """The one environment every worker gets (KERAS_BACKEND is added for the Keras runs)."""
    env = dict(os.environ)
    env.pop("KERAS_BACKEND", None)
    src = str(REPO / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quiet logs only; same for every process
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_worker(python: str, workload: str, framework: str, args: argparse.Namespace,
               env: dict[str, str]) -> dict[str, Any]:
    cmd = [python, str(HERE / "worker.py"), workload, framework]
    if args.quick:
        cmd.append("--quick")
    if workload == "W1":
        cmd += ["--epochs", str(args.w1_epochs), "--passes", str(args.predict_passes)]
    if args.repeats is not None:
        cmd += ["--repeats", str(args.repeats)]
    penv = dict(env)
    if framework.startswith("keras-"):
        penv["KERAS_BACKEND"] = framework.split("-", 1)[1]
    busy0, child0 = _cpu_busy_s(), _children_cpu_s()
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=penv, cwd=str(REPO), capture_output=True, text=True,
                              timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"framework": framework, "workload": workload,
                "error": f"timed out after {args.timeout:.0f} s", "wall_s": args.timeout}
    wall = time.perf_counter() - t0
    other = None
    if busy0 is not None:
        busy1 = _cpu_busy_s()
        if busy1 is not None and wall > 0:
            other = max(0.0, (busy1 - busy0) - (_children_cpu_s() - child0)) / wall
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK):])
    if result is None:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        result = {"framework": framework, "workload": workload,
                  "error": f"exit {proc.returncode}: {tail[:300]}"}
    result["key"] = framework
    result["wall_s"] = wall
    result["other_cpu"] = other
    if proc.returncode != 0 and "error" in result:
        result["stderr_tail"] = proc.stderr[-2000:]
    return result


def _cpu_busy_s() -> float | None:
    """Seconds of CPU time all processes on the machine have used (Linux /proc/stat)."""
    try:
        with open("/proc/stat") as f:
            parts = f.readline().split()[1:]
    except OSError:
        return None
    user, nice, system = (int(v) for v in parts[:3])
    irq, softirq, steal = (int(v) for v in parts[5:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _children_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def other_load(seconds: float = 2.0) -> float | None:
    """CPUs' worth of time other processes use now (sampled over `seconds`)."""
    b0 = _cpu_busy_s()
    if b0 is None:
        return None
    time.sleep(seconds)
    b1 = _cpu_busy_s()
    return None if b1 is None else max(0.0, (b1 - b0) / seconds)


def wait_quiet(max_wait: float, threshold: float = 0.3) -> tuple[float, float | None]:
    """Wait up to `max_wait` s until other load < threshold; returns (waited s, last load)."""
    t0 = time.perf_counter()
    load = None
    while True:
        load = other_load()
        if load is None or load < threshold or time.perf_counter() - t0 >= max_wait:
            return time.perf_counter() - t0, load
        time.sleep(3.0)


def system_info(python: str, env: dict[str, str]) -> dict[str, Any]:
    """numpy, its BLAS (threadpoolctl, else numpy.show_config) as the benchmark python sees it."""
    code = (
        "import json, numpy, platform, io, contextlib\n"
        "d = {'numpy': numpy.__version__, 'python': platform.python_version()}\n"
        "try:\n"
        "    import numba\n"
        "    d['numba'] = numba.__version__\n"
        "except ImportError:\n"
        "    d['numba'] = None\n"
        "try:\n"
        "    import threadpoolctl\n"
        "    d['blas'] = [{k: i.get(k) for k in ('internal_api', 'version', 'architecture',"
        " 'num_threads', 'threading_layer')} for i in threadpoolctl.threadpool_info()]\n"
        "except ImportError:\n"
        "    buf = io.StringIO()\n"
        "    with contextlib.redirect_stdout(buf):\n"
        "        numpy.show_config()\n"
        "    d['show_config'] = buf.getvalue()\n"
        "print(json.dumps(d))\n"
    )
    info: dict[str, Any] = {}
    try:
        out = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True,
                             timeout=120, cwd=str(REPO))
        info = json.loads(out.stdout.strip().splitlines()[-1])
    except Exception as e:  # report, don't fail
        info = {"error": f"{type(e).__name__}: {e}"}
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["cpu"] = cpu
    info["cpus"] = os.cpu_count()
    info["env"] = {k: env.get(k) for k in ENV_KEYS}
    return info


# --- report -----------------------------------------------------------------------------------
def _fmt(v: float | None, digits: int = 3) -> str:
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def _spread(samples: list[float]) -> str:
    if len(samples) < 2:
        return ""
    lo, hi = min(samples), max(samples)
    med = statistics.median(samples)
    return f"±{(hi - lo) / 2 / med * 100:.0f}%" if med else ""


def _status(r: dict) -> str:
    if "skipped" in r:
        return f"skipped: {r['skipped']}"
    if "error" in r:
        return f"ERROR: {r['error']}"
    return ""


def _best_ref(rows: list[dict], metric: str) -> tuple[dict | None, float | None]:
    best, best_speed = None, None
    for r in rows:
        if r["key"] in REFERENCES and metric in r.get("metrics", {}):
            m = r["metrics"][metric]
            speed = m["value"] if m["higher_is_better"] else 1.0 / m["value"]
            if best_speed is None or speed > best_speed:
                best, best_speed = r, speed
    return best, best_speed


def _vs(r: dict, metric: str, best_speed: float | None) -> str:
    m = r.get("metrics", {}).get(metric)
    if m is None or best_speed is None:
        return "—"
    speed = m["value"] if m["higher_is_better"] else 1.0 / m["value"]
    return f"{speed / best_speed:.2f}×"


def _other(r: dict) -> str:
    """CPUs' worth of time other processes used while this one ran (noise indicator)."""
    v = r.get("other_cpu")
    if v is None:
        return "—"
    return f"**{v:.2f}**" if v >= 0.2 else f"{v:.2f}"


def _name(r: dict) -> str:
    return r.get("framework", r["key"])


def _short_time_flag(r: dict, metric: str, min_time: float) -> str:
    m = r.get("metrics", {}).get(metric, {})
    secs = m.get("region_seconds")
    if secs and min(secs) < min_time:
        return f" (region {min(secs):.2f} s < {min_time:g} s)"
    return ""


def summary_line(label: str, rows: list[dict], metric: str) -> str | None:
    best, best_speed = _best_ref(rows, metric)
    nd = next((r for r in rows if r["key"] == "ndflow"), None)
    if nd is None:
        return None
    if metric not in nd.get("metrics", {}):
        return f"- {label}: ndflow not measured ({_status(nd) or 'no result'})"
    if best is None:
        return f"- {label}: no reference framework measured"
    m = nd["metrics"][metric]
    speed = m["value"] if m["higher_is_better"] else 1.0 / m["value"]
    ratio = speed / best_speed
    verdict = "meets" if ratio >= 1.0 else "BELOW"
    return (f"- {label}: ndflow is **{ratio:.2f}×** the speed of the best reference "
            f"({_name(best)}) — {verdict} the bar (≥ 1.00×)")


def _row(rows: list[dict], key: str) -> dict | None:
    return next((r for r in rows if r["key"] == key), None)


def graph_vs_eager_lines(results: dict[str, list[dict]]) -> list[str]:
    """ndflow graph (ndflow.function) vs eager speedups: W1, W2 (fit / predict), W5 vs W5f."""
    out = []
    for w in ("W1", "W2"):
        g, e = _row(results.get(w, []), "ndflow"), _row(results.get(w, []), "ndflow-eager")
        if g is None or e is None:
            continue
        parts = []
        for metric, what in (("train_samples_per_s", "fit"), ("predict_samples_per_s",
                                                              "predict")):
            gm, em = g.get("metrics", {}).get(metric), e.get("metrics", {}).get(metric)
            if gm and em:
                parts.append(f"{what} **{gm['value'] / em['value']:.2f}×** "
                             f"({gm['value']:,.0f} vs {em['value']:,.0f} samples/s)")
        if parts:
            out.append(f"- {w} ndflow graph vs eager speedup: " + "; ".join(parts))
        if w == "W1" and g.get("metrics") and e.get("metrics"):
            a, b = g["info"]["peak_rss_mib"], e["info"]["peak_rss_mib"]
            out.append(f"- W1 ndflow peak RSS graph vs eager: {a:.0f} vs {b:.0f} MiB "
                       f"({a / b:.2f}×) — {'meets' if a <= b else 'MISSES'} the target "
                       f"(graph ≤ eager)")
    e5, g5 = _row(results.get("W5", []), "ndflow"), _row(results.get("W5f", []), "ndflow")
    if e5 is not None and g5 is not None:
        em, gm = e5.get("metrics", {}).get("us_per_op"), g5.get("metrics", {}).get("us_per_op")
        if em and gm:
            out.append(f"- W5/W5f ndflow graph vs eager speedup: **{em['value'] / gm['value']:.2f}×"
                       f"** ({gm['value']:.2f} vs {em['value']:.2f} µs/op)")
    return out


def render(results: dict[str, list[dict]], sysinfo: dict, args: argparse.Namespace,
           started: str, load: tuple[float, float], wall: float) -> str:
    meth = dict(QUICK if args.quick else FULL)
    if args.repeats is not None:
        meth["repeats"] = max(1, args.repeats)
    lines = [f"# ndflow benchmarks — {started}", ""]
    if args.quick:
        lines += ["**Quick mode**: relaxed method (warm-up {warmup}, ≥{min_steps} steps and "
                  "≥{min_time} s per region, {repeats} repeat(s); W1 on {n:,} samples, W2 on "
                  "{n2:,}). A smoke run, not the WORKLOADS.md method.".format(
                      n=W1_QUICK_SAMPLES, n2=W2_QUICK_SAMPLES, **meth), ""]
    env = sysinfo.get("env", {})
    blas = sysinfo.get("blas")
    if blas:
        blas_s = "; ".join(f"{b.get('internal_api')} {b.get('version')} ({b.get('architecture')}"
                           f", {b.get('num_threads')} threads, {b.get('threading_layer')})"
                           for b in blas)
    elif "show_config" in sysinfo:
        blas_s = "see numpy.show_config below"
    else:
        blas_s = "unknown"
    lines += [
        "## Setup",
        f"- machine: {sysinfo.get('cpu')}, {sysinfo.get('cpus')} logical CPUs; load average "
        f"{load[0]:.2f} before, {load[1]:.2f} after; total wall {wall:.0f} s",
        f"- interpreter: `{args.python}` (Python {sysinfo.get('python')}, numpy "
        f"{sysinfo.get('numpy')}); ndflow from `{REPO / 'src'}` via PYTHONPATH",
        "- ndflow's compiled kernels (`ndflow[jit]`): "
        + (f"numba {sysinfo['numba']}" + (" (off: NDFLOW_JIT=0)" if env.get("NDFLOW_JIT") == "0"
                                          else "")
           if sysinfo.get("numba") else "numba not installed, NumPy paths only"),
        f"- numpy BLAS: {blas_s}",
        "- OPENBLAS_CORETYPE: " + (f"`{env['OPENBLAS_CORETYPE']}`" if env.get("OPENBLAS_CORETYPE")
                                   else "not set")
        + "; OPENBLAS_L2_SIZE: " + (f"`{env['OPENBLAS_L2_SIZE']}`" if env.get("OPENBLAS_L2_SIZE")
                                    else "not set"),
        "- thread variables: " + (", ".join(f"{k}={v}" for k, v in env.items()
                                            if v and k not in ("OPENBLAS_CORETYPE",
                                                               "OPENBLAS_L2_SIZE",
                                                               "NDFLOW_JIT"))
                                  or "none set (each framework uses its default threading)"),
        "- same environment for every process, except KERAS_BACKEND for the Keras 3 runs",
        "- other load: CPUs' worth of time used by other processes on the machine while each "
        "worker ran (/proc/stat minus the worker's own CPU time); bold when ≥ 0.2, where "
        "the numbers of that row are suspect"
        + (f"; each worker first waited up to {args.wait_quiet:g} s for other load < 0.3"
           if args.wait_quiet > 0 else ""),
        f"- method: warm-up {meth['warmup']} steps; regions of ≥{meth['min_steps']} steps and "
        f"≥{meth['min_time']} s; {meth['repeats']} repeat(s)"
        + (f" per process × {args.rounds} interleaved rounds (regions pooled)"
           if args.rounds > 1 else "")
        + "; median reported (± = half the range of the repeats, relative to the median)",
        "",
    ]
    if "show_config" in sysinfo:
        lines += ["```", sysinfo["show_config"].strip(), "```", ""]

    summary: list[str] = []
    gemm = None
    lrows = results.get("L", [])
    for r in lrows:
        if "gemm_gflops" in r.get("metrics", {}):
            gemm = r["metrics"]["gemm_gflops"]["value"]

    w5_sections = (
        ("W5", "W5 — eager overhead",
         "4×4 float32, 1,000 × `y = y * a + b` recorded, reduce_sum, gradient w.r.t. "
         "the start value. µs per recorded op (2,000 per step), forward + backward; "
         "lower is better. The NumPy floor does the same 2,000 forward ops and 1,000 "
         "backward multiplies with no recording."),
        ("W5f", "W5f — the same chain inside a graph function",
         "W5's chain, reduce_sum and tape gradient inside `ndflow.function` / `tf.function`, "
         "with y0, a, b passed as arguments (nothing constant-folds) and the reduced value "
         "and the gradient returned; called repeatedly with the same input signature. µs per "
         "op (2,000 per call); lower is better. The NumPy floor is W5's (no recording)."),
    )
    for wkey, title, what in w5_sections:
        if wkey not in results:
            continue
        rows = results[wkey]
        _, best_speed = _best_ref(rows, "us_per_op")
        floor = next((r["metrics"]["us_per_op"]["value"] for r in rows
                      if r["key"] == "numpy" and "us_per_op" in r.get("metrics", {})), None)
        lines += [f"## {title}", what, "",
                  "| framework | µs/op | spread | steps/region | speed vs best ref | "
                  "× NumPy floor | grad ok | peak RSS MiB | other load | notes |",
                  "|---|---:|---:|---:|---:|---:|:-:|---:|---:|---|"]
        for r in rows:
            m = r.get("metrics", {}).get("us_per_op")
            info = r.get("info", {})
            if m is None:
                lines.append(f"| {_name(r)} | — | | | | | | | | {_status(r)} |")
                continue
            note = info.get("version", "")
            xfloor = f"{m['value'] / floor:.1f}×" if floor else "—"
            lines.append(
                f"| {_name(r)} | {m['value']:.2f} | {_spread(m['samples'])} | "
                f"{min(m['steps'])}–{max(m['steps'])} | {_vs(r, 'us_per_op', best_speed)} | "
                f"{xfloor} | {'yes' if info.get('gradient_matches_numpy') else 'NO'} | "
                f"{info.get('peak_rss_mib', 0):.0f} | {_other(r)} | {note} |")
        lines.append("")
        s = summary_line(title.split(" — ")[0] + (" eager overhead" if wkey == "W5"
                                                   else " graph-function overhead"),
                         rows, "us_per_op")
        if s:
            summary.append(s)
        nd = next((r for r in rows if r["key"] == "ndflow"), None)
        if wkey == "W5f" and nd is not None and "us_per_op" in nd.get("metrics", {}):
            v = nd["metrics"]["us_per_op"]["value"]
            summary.append(f"- W5f: ndflow **{v:.2f} µs/op** — "
                           f"{'meets' if v <= W5F_TARGET_US else 'MISSES'} the target "
                           f"(≤ {W5F_TARGET_US:g} µs/op)"
                           + (f"; {v / floor:.1f}× the NumPy floor ({floor:.2f} µs/op)"
                              if floor else ""))

    w1rows = results.get("W1", [])
    hand = next((r for r in w1rows if r["key"] == "numpy-hand"), None)
    if "L" in results:
        lines += ["## L — limits of this machine", "",
                  "| measure | value | spread | notes |", "|---|---:|---:|---|"]
        for r in lrows:
            m = r.get("metrics", {}).get("gemm_gflops")
            if m is None:
                lines.append(f"| numpy.matmul 2048² float32 | — | | {_status(r)} |")
            else:
                lines.append(f"| numpy.matmul 2048² float32 | {m['value']:.0f} GFLOP/s | "
                             f"{_spread(m['samples'])} | {min(m['steps'])}–{max(m['steps'])} "
                             f"matmuls per region; other load {_other(r)} |")
        if hand is not None and "train_samples_per_s" in hand.get("metrics", {}):
            ht = hand["metrics"]["train_samples_per_s"]
            hp = hand["metrics"]["predict_samples_per_s"]
            pct = f"{ht['gflops'] / gemm * 100:.0f}% of GEMM" if gemm else ""
            diff = hand.get("info", {}).get("max_rel_diff_vs_float64_textbook")
            if diff is not None:
                pct += f"; params after 3 steps match a float64 textbook step to {diff:.1e}"
            lines.append(f"| hand-written NumPy W1 train step | {ht['value']:,.0f} samples/s = "
                         f"{ht['gflops']:.0f} GFLOP/s | {_spread(ht['samples'])} | {pct} |")
            lines.append(f"| hand-written NumPy W1 predict | {hp['value']:,.0f} samples/s = "
                         f"{hp['gflops']:.0f} GFLOP/s | {_spread(hp['samples'])} | |")
        elif hand is not None:
            lines.append(f"| hand-written NumPy W1 step | — | | {_status(hand)} |")
        lines += ["", f"W1 FLOPs per training step = 3 × 2 × 128 × (784·512 + 512·10) = "
                  f"{W1_TRAIN_FLOP_PER_SAMPLE * W1_BATCH / 1e6:.1f} MFLOP "
                  f"({W1_TRAIN_FLOP_PER_SAMPLE:,} per sample); predict "
                  f"{W1_PREDICT_FLOP_PER_SAMPLE:,} per sample.", ""]

    if "W1" in results:
        n = W1_QUICK_SAMPLES if args.quick else W1_SAMPLES
        for metric, title, what in (
            ("train_samples_per_s", "W1 — MLP training",
             f"`model.fit` (Keras API) or a loop over pre-made batches; a timed region = "
             f"{args.w1_epochs} epoch(s) of {n:,} samples, batch 128"),
            ("predict_samples_per_s", "W1 — predict",
             f"`model.predict(x, batch_size=128)` or a loop; a timed region = "
             f"{args.predict_passes} pass(es) over {n:,} samples"),
        ):
            _, best_speed = _best_ref(w1rows, metric)
            lines += [f"## {title}", what + "; higher is better.", "",
                      "| framework | samples/s | spread | GFLOP/s | % of GEMM | speed vs best ref "
                      "| region s | final loss | subnormal opt. state | peak RSS MiB "
                      "| other load | notes |",
                      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
            for r in w1rows:
                m = r.get("metrics", {}).get(metric)
                info = r.get("info", {})
                if m is None:
                    lines.append(f"| {_name(r)} | — | | | | | | | | | | {_status(r)} |")
                    continue
                pct = f"{m['gflops'] / gemm * 100:.0f}%" if gemm else "—"
                secs = statistics.median(m["region_seconds"])
                loss = info.get("final_loss")
                sub = info.get("subnormal_optimizer_state", "—")
                note = info.get("version", "") + _short_time_flag(r, metric, meth["min_time"])
                lines.append(
                    f"| {_name(r)} | {m['value']:,.0f} | {_spread(m['samples'])} | "
                    f"{m['gflops']:.0f} | {pct} | {_vs(r, metric, best_speed)} | {secs:.2f} | "
                    f"{_fmt(loss, 4) if metric.startswith('train') else ''} | "
                    f"{sub if metric.startswith('train') else ''} | "
                    f"{info.get('peak_rss_mib', 0):.0f} | {_other(r)} | {note} |")
            lines.append("")
            s = summary_line(title, w1rows, metric)
            if s:
                summary.append(s)
        lines += ["Final loss: the last epoch's mean training loss (random labels, so ≈ ln 10 "
                  "= 2.30; the same value across frameworks says they train the same model). "
                  "Subnormal opt. state: nonzero optimizer-state values below float32's "
                  "smallest normal at the end (each costs slow x86 arithmetic unless "
                  "flush-to-zero is on).", ""]

    w2rows = results.get("W2", [])
    if "W2" in results:
        n2 = W2_QUICK_SAMPLES if args.quick else W2_SAMPLES
        for metric, title, what, flop in (
            ("train_samples_per_s", "W2 — convnet training",
             f"`model.fit` (Keras API; Adam 1e-3, batch 128) or a PyTorch loop over pre-made "
             f"NCHW batches, on {n2:,} samples; a timed region = the fewest whole epochs "
             f"that take ≥ {meth['min_time']:g} s (set by an untimed calibration epoch)",
             W2_CONV_TRAIN_FLOP_PER_SAMPLE),
            ("predict_samples_per_s", "W2 — predict",
             f"`model.predict(x, batch_size=128)` or a loop; a timed region = the fewest whole "
             f"passes over the {n2:,} samples that take ≥ {meth['min_time']:g} s",
             W2_CONV_FWD_FLOP_PER_SAMPLE),
        ):
            _, best_speed = _best_ref(w2rows, metric)
            lines += [f"## {title}", what + "; higher is better. Conv GFLOP/s counts only "
                      f"the two conv layers ({flop / 1e6:.2f} MFLOP per sample"
                      + (", 3× forward" if metric.startswith("train") else "") + ").", "",
                      "| framework | samples/s | spread | conv GFLOP/s | % of GEMM | speed vs "
                      "best ref | region s | epochs or passes / region | final loss | "
                      "peak RSS MiB | other load | notes |",
                      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
            for r in w2rows:
                m = r.get("metrics", {}).get(metric)
                info = r.get("info", {})
                if m is None:
                    lines.append(f"| {_name(r)} | — | | | | | | | | | | {_status(r)} |")
                    continue
                pct = f"{m['gflops'] / gemm * 100:.0f}%" if gemm else "—"
                secs = statistics.median(m["region_seconds"])
                per = info.get("epochs_per_region" if metric.startswith("train")
                               else "passes_per_region", "—")
                loss = info.get("final_loss") if metric.startswith("train") else None
                note = info.get("version", "") + _short_time_flag(r, metric, meth["min_time"])
                lines.append(
                    f"| {_name(r)} | {m['value']:,.0f} | {_spread(m['samples'])} | "
                    f"{m['gflops']:.1f} | {pct} | {_vs(r, metric, best_speed)} | {secs:.2f} | "
                    f"{per} | {_fmt(loss, 4) if loss is not None else ''} | "
                    f"{info.get('peak_rss_mib', 0):.0f} | {_other(r)} | {note} |")
            lines.append("")
            s = summary_line(title, w2rows, metric)
            if s:
                summary.append(s)
        nd = _row(w2rows, "ndflow")
        th = _row(w2rows, "torch")
        if nd is not None and "train_samples_per_s" in nd.get("metrics", {}):
            gf = nd["metrics"]["train_samples_per_s"]["gflops"]
            pgf = nd["metrics"]["predict_samples_per_s"]["gflops"]
            summary.append(
                f"- W2 ndflow conv layers: {gf:.1f} GFLOP/s training, {pgf:.1f} GFLOP/s "
                f"predicting" + (f" (machine float32 GEMM: {gemm:.0f} GFLOP/s from L = "
                                 f"{gf / gemm * 100:.0f}% / {pgf / gemm * 100:.0f}%)"
                                 if gemm else " (run L for the GEMM rate)"))
        rss = [(_name(r), r.get("info", {}).get("peak_rss_mib")) for r in w2rows
               if r.get("metrics")]
        if rss:
            lines += ["Peak RSS of each W2 process: " + ", ".join(
                f"{k} {v:.0f} MiB" for k, v in rss if v) + ".", ""]
        if (nd is not None and th is not None and nd.get("metrics") and th.get("metrics")):
            a, b = nd["info"]["peak_rss_mib"], th["info"]["peak_rss_mib"]
            summary.append(f"- W2 peak RSS: ndflow {a:.0f} MiB = **{a / b:.2f}×** PyTorch's "
                           f"{b:.0f} MiB — {'meets' if a / b <= W2_RSS_TARGET else 'MISSES'} "
                           f"the target (≤ {W2_RSS_TARGET:g}×)")
        lines += ["Final loss: the last timed epoch's mean training loss (random labels, so "
                  "≈ ln 10 = 2.30 for every framework).", ""]

    summary += graph_vs_eager_lines(results)

    notes = []
    for rows in results.values():
        for r in rows:
            if "skipped" in r:
                notes.append(f"- {r['workload']} / {r['key']}: skipped — {r['skipped']}")
            elif "error" in r:
                notes.append(f"- {r['workload']} / {r['key']}: ERROR — {r['error']}")
    lines += ["## Summary", *(summary or ["- ndflow was not measured in this run"]), ""]
    if notes:
        lines += ["## Skipped / failed", *notes, ""]
    return "\n".join(lines)


def _run_job(w: str, fw: str, args: argparse.Namespace, env: dict[str, str], tag: str) -> dict:
    print(f"[bench] {w} / {fw}{tag} ...", file=sys.stderr, flush=True)
    waited = None
    if args.wait_quiet > 0:
        waited = wait_quiet(args.wait_quiet)
        print(f"[bench]   waited {waited[0]:.0f} s for a quiet machine (other load "
              f"{waited[1] if waited[1] is not None else float('nan'):.2f})",
              file=sys.stderr, flush=True)
    r = run_worker(args.python, w, fw, args, env)
    if waited is not None:
        r["waited_s"], r["load_at_start"] = waited
    status = _status(r) or "ok"
    print(f"[bench] {w} / {fw}: {status} ({r['wall_s']:.1f} s)", file=sys.stderr,
          flush=True)
    if "stderr_tail" in r:
        print(r["stderr_tail"], file=sys.stderr)
    return r


def merge_rounds(rs: list[dict]) -> dict:
    """Pool the timed regions of several rounds of one (workload, framework) pair."""
    ok = [r for r in rs if r.get("metrics")]
    if not ok:
        return rs[-1]
    if len(ok) == 1 and len(rs) == 1:
        return ok[0]
    out = dict(ok[-1])
    out["metrics"] = {}
    for name, m0 in ok[0]["metrics"].items():
        ms = [r["metrics"][name] for r in ok if name in r["metrics"]]
        m = dict(m0)
        m["samples"] = [s for x in ms for s in x["samples"]]
        m["value"] = statistics.median(m["samples"])
        for k in ("steps", "region_seconds"):
            if k in m0:
                m[k] = [s for x in ms for s in x[k]]
        if "gflops" in m0 and m0["value"]:
            m["gflops"] = m["value"] * m0["gflops"] / m0["value"]
        out["metrics"][name] = m
    info = dict(out.get("info", {}))
    info["peak_rss_mib"] = max(r.get("info", {}).get("peak_rss_mib", 0) for r in ok)
    out["info"] = info
    loads = [r["other_cpu"] for r in ok if r.get("other_cpu") is not None]
    out["other_cpu"] = statistics.mean(loads) if loads else None
    out["wall_s"] = sum(r.get("wall_s", 0) for r in rs)
    if len(ok) < len(rs):
        out["info"]["rounds_failed"] = len(rs) - len(ok)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.w1_epochs is None:
        args.w1_epochs = 1 if args.quick else 4
    if args.predict_passes is None:
        args.predict_passes = 1 if args.quick else 10
    canon = {w.upper(): w for w in FRAMEWORKS}
    workloads = [canon.get(w.strip().upper(), w.strip()) for w in args.workloads.split(",")
                 if w.strip()]
    bad = [w for w in workloads if w not in FRAMEWORKS]
    if bad:
        print(f"unknown workload(s) {bad}; choose from {WORKLOADS}", file=sys.stderr)
        return 2
    only = {f.strip() for f in args.frameworks.split(",") if f.strip()}
    env = bench_env()
    started = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    sysinfo = system_info(args.python, env)

    jobs: list[tuple[str, str]] = []
    for w in workloads:
        for fw in FRAMEWORKS[w]:
            if not only or fw in only:
                jobs.append((w, fw))
    # L's hand-written NumPy W1 step is the W1 `numpy-hand` entry: run it once for either.
    if "L" in workloads and ("W1", "numpy-hand") not in jobs:
        jobs.append(("W1", "numpy-hand"))

    runs: dict[tuple[str, str], list[dict]] = {}
    for rnd in range(max(1, args.rounds)):
        for w, fw in jobs:
            tag = f" (round {rnd + 1}/{args.rounds})" if args.rounds > 1 else ""
            runs.setdefault((w, fw), []).append(_run_job(w, fw, args, env, tag))
    results: dict[str, list[dict]] = {}
    for (w, _), rs in runs.items():
        results.setdefault(w, []).append(merge_rounds(rs))
    # keep table order
    for w in results:
        order = FRAMEWORKS[w]
        results[w].sort(key=lambda r: order.index(r["key"]) if r["key"] in order else 99)

    report = render(results, sysinfo, args, started, (load0, os.getloadavg()[0]),
                    time.perf_counter() - t0)
    print(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report + "\n")
    out.with_suffix(".json").write_text(json.dumps(
        {"started": started, "quick": args.quick, "system": sysinfo, "results": results},
        indent=1))
    print(f"\n(written to {out})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
