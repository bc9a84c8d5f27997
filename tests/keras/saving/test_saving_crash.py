"""Crash safety: SIGKILL during `fit` with BackupAndRestore and during `model.save`.

The resumed run must end with exactly the weights (and optimizer state) of a run that was
never interrupted, and the file on disk must never be corrupt.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from ndflow import keras

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")]

SCRIPT = os.path.join(os.path.dirname(__file__), "crash_child_script.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def _spawn(*args, tmpdir=None, await_kill=False):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    if await_kill:
        env["CRASH_CHILD_AWAIT_KILL"] = "1"
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return subprocess.Popen([sys.executable, SCRIPT, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def _run_to_end(*args, tmpdir=None):
    proc = _spawn(*args, tmpdir=tmpdir)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, f"child failed:\n{out}\n{err}"
    return out


def _kill_after(marker: str, *args, delay: float = 0.0, tmpdir=None) -> list:
    """Start the child, SIGKILL it ``delay`` seconds after ``marker`` appears in its output."""
    proc = _spawn(*args, tmpdir=tmpdir, await_kill=True)
    lines = []
    deadline = time.time() + 300
    try:
        for line in proc.stdout:
            lines.append(line.strip())
            if line.strip() in (marker, "finished"):  # (a run that ends first waits for it)
                if delay:
                    time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                break
            assert time.time() < deadline, "child too slow"
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, lines, proc.stderr.read())
    return lines


def _load_npz(path):
    data = np.load(path)
    return [data[k] for k in sorted(data.files, key=lambda s: int(s.split("_")[1]))]


@pytest.mark.parametrize("save_freq", ["3", "epoch"])
def test_sigkill_during_fit_resumes_exactly(tmp_path, save_freq):
    ref = str(tmp_path / "ref.npz")
    _run_to_end("train", str(tmp_path / "ref_backup"), ref, save_freq)
    backup = str(tmp_path / "backup")
    out = str(tmp_path / "out.npz")
    # 48 batches in all (4 epochs x 12); kill twice, at arbitrary points, then finish
    first = _kill_after("batch 7", "train", backup, out, save_freq)
    assert os.path.exists(os.path.join(backup, "latest.weights.h5")) or save_freq == "epoch"
    _kill_after("batch 17" if save_freq == "epoch" else "batch 10", "train", backup, out,
                save_freq)
    text = _run_to_end("train", backup, out, save_freq)
    assert "done" in text and first
    assert not os.path.exists(backup), "the backup is deleted after a finished run"
    want, got = _load_npz(ref), _load_npz(out)
    assert len(want) == len(got)
    for i, (a, b) in enumerate(zip(want, got)):
        assert np.array_equal(a, b), f"array {i} differs by {np.abs(a - b).max()}"


def test_sigkill_during_save_never_leaves_a_corrupt_file(tmp_path):
    path = str(tmp_path / "model.keras")
    seen_versions = set()
    rounds = [("saving 2", 0.0), ("saved 3", 0.0), ("saving 5", 0.002), ("saving 4", 0.005),
              ("saving 3", 0.01), ("saving 6", 0.02)]
    for marker, delay in rounds:
        lines = _kill_after(marker, "save_loop", path, delay=delay)
        # the file is always a complete model from one save: all weights hold one value k
        model = keras.models.load_model(path)
        values = {float(v) for w in model.get_weights() for v in np.unique(w)}
        assert len(values) == 1, values
        k = int(values.pop())
        saved = [int(x.split()[1]) for x in lines if x.startswith("saved")]
        # (the child may have run on between the marker and the signal)
        assert k >= max(saved, default=0), (k, lines)
        seen_versions.add(k)
    # leftovers are only hidden temp files of interrupted saves, never the target
    for name in os.listdir(tmp_path):
        assert name == "model.keras" or (name.startswith(".model.keras.") and
                                         name.endswith(".tmp")), name


def test_twenty_sigkills_with_checkpoints_resume_bit_identically(tmp_path):
    """20 SIGKILLs at varied moments of a fit that writes a BackupAndRestore backup every batch
    and a ModelCheckpoint every 5 batches: after every kill the checkpoint on disk loads, the
    resumed run ends bit-identical to an uninterrupted one, and no temp file is left anywhere
    (beside the checkpoints or in the temp folder)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    ref = str(tmp_path / "ref.npz")
    _run_to_end("train_ckpt", str(ref_dir), ref, tmpdir=scratch)
    work = tmp_path / "work"
    work.mkdir()
    out = str(tmp_path / "out.npz")
    ckpt = work / "ckpt.keras"
    delays = [0.0, 0.003, 0.01, 0.0, 0.02, 0.006, 0.0, 0.015, 0.001, 0.03]
    for k in range(20):
        marker = f"batch {1 + k % 2}"  # each run gets one or two batches further
        lines = _kill_after(marker, "train_ckpt", str(work), out, delay=delays[k % 10],
                            tmpdir=scratch)
        assert lines, "the child printed nothing"
        if ckpt.exists():  # whatever moment the kill hit, the checkpoint is a whole model
            keras.models.load_model(str(ckpt))
    text = _run_to_end("train_ckpt", str(work), out, tmpdir=scratch)
    assert "done" in text
    want, got = _load_npz(ref), _load_npz(out)
    assert len(want) == len(got)
    for i, (a, b) in enumerate(zip(want, got)):
        assert np.array_equal(a, b), f"array {i} differs by {np.abs(a - b).max()}"
    leftovers = [n for n in os.listdir(work) if n.endswith(".tmp")]
    assert not leftovers, leftovers
    assert sorted(os.listdir(work)) == ["ckpt.keras"], os.listdir(work)
    assert os.listdir(scratch) == [], "temp files accumulated in the temp folder"
