"""DLwP chapter 10 before the recurrent models: the Jena CSV parsing, normalization,
timeseries_dataset_from_array datasets (shuffled), the common-sense baseline (its loop does
NumPy math on tensors: `np.abs(preds - targets)`) and the densely connected model, on a
synthetic CSV of the same layout."""

import importlib.util
import pathlib

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / \
    "ch10_timeseries_baselines.py"


def test_book_baseline_and_dense_model_on_synthetic_jena(tmp_path):
    spec = importlib.util.spec_from_file_location("ch10", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.run(str(tmp_path), epochs=2, verbose=0, rows=12000, models=("dense",))
    # the baseline over the shuffled windows equals the one computed from the raw arrays
    assert abs(res["naive_test_mae"] - res["naive_test_mae_direct"]) < 1e-9
    assert res["naive_test_mae"] < 0.5 * res["temperature_std"]  # measured 1.57 vs 4.72
    assert res["dense_test_mae"] < 0.6 * res["temperature_std"], res  # measured 2.01 vs 4.72
