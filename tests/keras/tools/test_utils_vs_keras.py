"""keras.utils against real Keras 3: the same table of cases (tools_cases.py) runs on Keras
(KERAS_BACKEND=torch, in a subprocess) and on ndflow.keras, and every result must agree:
image_dataset_from_directory on PNG folders the test writes (labels, class names, split,
seeded shuffling, colour modes, crop/pad), the image file utilities, split_dataset,
standardize_dtype, Config, pack/unpack, get_source_inputs, is_keras_tensor, logging switches
and clear_session."""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("PIL", reason='needs ndflow[image] (pip install pillow)')
for _mod, _why in (("keras", "needs the keras-interop extra"),
                   ("grain", "Keras's image_dataset_from_directory needs grain without TF")):
    if importlib.util.find_spec(_mod) is None:
        pytest.skip(_why, allow_module_level=True)

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)
import tools_cases  # noqa: E402


def _keras_reference(root, out):
    env = dict(os.environ, KERAS_BACKEND="torch", CUDA_VISIBLE_DEVICES="")
    env.pop("PYTHONPATH", None)  # Keras must not see ndflow's source tree
    proc = subprocess.run([sys.executable, os.path.join(HERE, "keras_utils_reference.py"),
                           root, out], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    # One tree and one Keras run per test session, shared by the xdist workers (a lock file
    # lets the first worker make them; the others wait and read).
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))
    shared = tmp_path_factory.getbasetemp().parent / f"keras_ref_{run_id}"
    shared.mkdir(exist_ok=True)
    root, out = str(shared / "tree"), str(shared / "keras_out")
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(os.path.join(out, "done")):
            os.makedirs(root, exist_ok=True)
            os.makedirs(out, exist_ok=True)
            tools_cases.make_tree(root)
            _keras_reference(root, out)
            open(os.path.join(out, "done"), "w").close()
    with np.load(os.path.join(out, "keras.npz")) as f:
        k_arrays = dict(f)
    with open(os.path.join(out, "keras.json")) as f:
        k_info = json.load(f)
    from ndflow import keras

    n_arrays: dict = {}
    n_info = json.loads(json.dumps(tools_cases.run_all(keras, root, n_arrays)))
    return k_info, k_arrays, n_info, n_arrays


def _sorted_rows(x, y):
    flat = np.concatenate([x.reshape(len(x), -1), y.reshape(len(y), -1)], axis=1)
    return flat[np.lexsort(flat.T[::-1])]


def test_image_dataset_unshuffled_equals_keras(results):
    k, ka, n, na = results
    assert n["ids_plain"] == k["ids_plain"]
    np.testing.assert_allclose(na["ids_plain_x"], ka["ids_plain_x"], rtol=1e-5, atol=1e-3)
    np.testing.assert_array_equal(na["ids_plain_y"], ka["ids_plain_y"])


def test_image_dataset_seeded_split_equals_keras(results):
    k, ka, n, na = results
    # the same files in each subset (Keras's seeded file order), the same class names
    assert n["ids_split"] == k["ids_split"]
    # validation is not reshuffled: equal batch for batch
    np.testing.assert_allclose(na["ids_split_val_x"], ka["ids_split_val_x"], atol=1e-3)
    np.testing.assert_array_equal(na["ids_split_val_y"], ka["ids_split_val_y"])
    # training is reshuffled each pass (Keras's order is grain's or tf.data's): equal as sets
    np.testing.assert_allclose(_sorted_rows(na["ids_split_train_x"], na["ids_split_train_y"]),
                               _sorted_rows(ka["ids_split_train_x"], ka["ids_split_train_y"]),
                               atol=1e-3)
    assert na["ids_split_train_y"].dtype == ka["ids_split_train_y"].dtype == np.float32


def test_image_dataset_modes_equal_keras(results):
    k, ka, n, na = results
    assert n["ids_gray"] == k["ids_gray"]
    np.testing.assert_allclose(na["ids_gray_x"], ka["ids_gray_x"], atol=1e-3)
    np.testing.assert_array_equal(na["ids_gray_y"], ka["ids_gray_y"])
    assert n["ids_nolabel"] == k["ids_nolabel"]
    np.testing.assert_allclose(_sorted_rows(na["ids_nolabel_x"], na["ids_nolabel_x"][:, :0]),
                               _sorted_rows(ka["ids_nolabel_x"], ka["ids_nolabel_x"][:, :0]),
                               atol=1e-3)
    assert n["ids_labels"] == k["ids_labels"]
    assert n["ids_errors"] == k["ids_errors"]


def test_image_file_utils_equal_keras(results):
    k, ka, n, na = results
    keys = [key for key in ka if key.startswith(("load_", "img_to_array", "a2i_", "save_"))]
    assert len(keys) == 14
    for key in keys:
        assert na[key].dtype == ka[key].dtype, key
        np.testing.assert_array_equal(na[key], ka[key], err_msg=key)
    for key in k:
        if key.endswith("_mode"):
            assert n[key] == k[key], key
    assert n["image_errors"] == k["image_errors"]


def test_split_dataset_equals_keras(results):
    k, _, n, _ = results
    assert n["split"] == k["split"]
    assert n["split_errors"] == k["split_errors"]


def test_standardize_dtype_equals_keras(results):
    k, _, n, _ = results
    assert n["dtypes"] == k["dtypes"]


@pytest.mark.parametrize("key", ["config", "pack", "unpack", "source_inputs",
                                 "source_non_symbolic", "is_keras_tensor", "logging",
                                 "clear_session", "sequence_is_pydataset"])
def test_small_utils_equal_keras(results, key):
    k, _, n, _ = results
    assert n[key] == k[key]


def test_swap_ema_weights_equals_keras(results):
    k, ka, n, na = results
    # fit validates on the averages and ends with them in the model (finalize_variable_values)
    assert n["ema_history"].keys() == k["ema_history"].keys()
    for key in k["ema_history"]:
        np.testing.assert_allclose(n["ema_history"][key], k["ema_history"][key], rtol=1e-4)
    np.testing.assert_allclose(na["ema_swap_on_epoch_weights"], ka["ema_swap_on_epoch_weights"],
                               rtol=1e-5)
    np.testing.assert_allclose(n["ema_eval"], k["ema_eval"], rtol=1e-4)
    assert n["ema_eval"][0] != n["ema_eval"][1]  # the averages are not the raw weights
    assert n["ema_eval_restores"] and k["ema_eval_restores"]
    assert n["ema_error"] == k["ema_error"] == "ValueError"


def test_bounding_boxes_equal_keras(results):
    k, ka, n, na = results
    keys = sorted(key for key in ka if key.startswith("bb_"))
    assert len(keys) == 39
    for key in keys:
        assert na[key].shape == ka[key].shape, key
        assert na[key].dtype == ka[key].dtype, key
        np.testing.assert_allclose(na[key], ka[key], rtol=2e-5, atol=2e-5, err_msg=key)
    assert n["bb_errors"] == k["bb_errors"]
