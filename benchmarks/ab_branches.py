"""A/B two ndflow source trees on the same workloads, alternating runs (A B A B ...) so that
machine load hits both sides alike; reports each metric's median per side and the ratio B/A.

    python benchmarks/ab_branches.py /path/to/A/src /path/to/B/src --workloads W5,W1,W2 \
        --rounds 5 --quick

Each run is one `worker.py <workload> ndflow` subprocess with PYTHONPATH set to that tree.
Ratios only compare within one invocation on one machine; note the load when reporting.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import RESULT_MARK  # noqa: E402


def run_once(src: str, workload: str, quick: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=src)
    cmd = [sys.executable, str(HERE / "worker.py"), workload, "ndflow"]
    if quick:
        cmd.append("--quick")
    out = subprocess.run(cmd, env=env, cwd=HERE, capture_output=True, text=True, timeout=900)
    for line in out.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            payload = json.loads(line[len(RESULT_MARK):])
            if "metrics" not in payload:
                raise RuntimeError(f"{workload} on {src}: {payload}")
            return {k: (m["value"], m.get("higher_is_better", True))
                    for k, m in payload["metrics"].items()}
    raise RuntimeError(f"{workload} on {src} gave no result:\n{out.stderr[-2000:]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", help="source tree A (its src/ directory)")
    ap.add_argument("b", help="source tree B")
    ap.add_argument("--workloads", default="W5,W1,W2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print(f"load before: {os.getloadavg()}")
    for workload in args.workloads.split(","):
        samples: dict = {"A": {}, "B": {}}
        better: dict = {}
        for i in range(args.rounds):
            order = [("A", args.a), ("B", args.b)] if i % 2 == 0 else [("B", args.b),
                                                                      ("A", args.a)]
            for side, src in order:
                for k, (v, hib) in run_once(src, workload, args.quick).items():
                    samples[side].setdefault(k, []).append(v)
                    better[k] = hib
        for k in sorted(samples["A"]):
            a = statistics.median(samples["A"][k])
            b = statistics.median(samples["B"][k])
            sense = "higher is better" if better[k] else "lower is better"
            print(f"{workload} {k}: A {a:.4g}  B {b:.4g}  B/A {b / a:.3f} ({sense}; "
                  f"A {[round(x, 4) for x in samples['A'][k]]}, "
                  f"B {[round(x, 4) for x in samples['B'][k]]})")
    print(f"load after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
