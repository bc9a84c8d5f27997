"""Make the benchmark environment with one command, relative to the checkout:

    python3 benchmarks/make_env.py            # creates benchmarks/.venv, installs requirements
    python3 benchmarks/make_env.py --dir D    # elsewhere (then: run.py --python D/bin/python)
    python3 benchmarks/make_env.py --dry-run  # print the commands only

`benchmarks/run.py` uses ``benchmarks/.venv`` by default when it exists. ndflow itself is not
installed there: the harness runs it from the source tree (``src`` on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DIR = HERE / ".venv"
REQUIREMENTS = HERE / "requirements.txt"


def venv_python(env_dir: Path) -> Path:
    """The interpreter inside a venv folder (POSIX or Windows layout)."""
    if os.name == "nt":
        return env_dir / "Scripts" / "python.exe"
    return env_dir / "bin" / "python"


def commands(env_dir: Path, python: str = sys.executable) -> list[list[str]]:
    py = str(venv_python(env_dir))
    return [[python, "-m", "venv", str(env_dir)],
            [py, "-m", "pip", "install", "--upgrade", "pip"],
            [py, "-m", "pip", "install", "-r", str(REQUIREMENTS)]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                    help="where to create the venv (default: %(default)s)")
    ap.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = ap.parse_args(argv)
    env_dir = args.dir.resolve()
    for cmd in commands(env_dir):
        print("$ " + " ".join(cmd), flush=True)
        if not args.dry_run:
            subprocess.run(cmd, check=True)
    print(f"benchmark interpreter: {venv_python(env_dir)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
