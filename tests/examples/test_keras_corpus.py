"""Runs every program of examples/keras_corpus (Keras 3 / TF 2 guide-style programs, with only
the imports naming ndflow) in its own process and reports how many run through."""

import os
import pathlib
import subprocess
import sys

import pytest

CORPUS = pathlib.Path(__file__).resolve().parents[2] / "examples" / "keras_corpus"
PROGRAMS = sorted(p.name for p in CORPUS.glob("*.py"))

# programs that do not run yet, with what stops them (strict: a fix makes the test fail
# until the entry is removed)
NOT_YET: dict = {}  # program -> why it does not run through yet (a strict xfail)


def _run(name: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    src = str(CORPUS.parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, str(CORPUS / name)], cwd=CORPUS, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(reason=NOT_YET[n], strict=True))
    if n in NOT_YET else n for n in PROGRAMS])
def test_corpus_program_runs_through(name):
    proc = _run(name)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stderr[-3000:]}"


def test_corpus_tally_is_stated():
    assert len(PROGRAMS) >= 15
    assert set(NOT_YET) <= set(PROGRAMS)
    print(f"keras corpus: {len(PROGRAMS) - len(NOT_YET)} of {len(PROGRAMS)} programs run "
          "through")
