"""Start one worker of a multi-worker job with its share of the machine's cores:

    mpirun -n 4 python -m ndflow.distribute [--threads N] train.py [args ...]
    mpirun -n 4 python -m ndflow.distribute [--threads N] -m package.module [args ...]

It sets the BLAS/OpenMP thread variables (those not already set; all of them with --threads)
to ``cores // workers on this machine`` and then replaces itself with
``python train.py args`` (same process, so mpirun still tracks it), so the numeric libraries
read the variables when they load.
"""

from __future__ import annotations

import os
import sys

from ndflow.distribute.threads import set_thread_env

USAGE = "usage: python -m ndflow.distribute [--threads N] (script.py | -m module) [args ...]"


def main(argv: list[str]) -> int:
    threads = None
    args = list(argv)
    if args[:1] == ["--threads"]:
        if len(args) < 2 or not args[1].isdigit() or int(args[1]) < 1:
            sys.stderr.write(f"--threads: expected a positive integer\n{USAGE}\n")
            return 2
        threads = int(args[1])
        args = args[2:]
    if not args or args[0] in ("-h", "--help") or (args[0] == "-m" and len(args) < 2):
        sys.stderr.write(USAGE + "\n")
        return 0 if args[:1] in (["-h"], ["--help"]) else 2
    env = dict(os.environ)
    set_thread_env(env, threads)
    os.execve(sys.executable, [sys.executable] + args, env)
    return 0  # pragma: no cover - execve does not return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
