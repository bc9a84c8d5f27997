"""DLwP chapter 7's custom training loop, eager and with `tf.function`, on the bundled digits."""

import importlib.util
import pathlib

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / \
    "ch07_custom_training_loop.py"


def _load():
    spec = importlib.util.spec_from_file_location("ch07", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_custom_loop_compiled_matches_eager_and_learns():
    mod = _load()
    compiled = mod.run(epochs=4, compile_train_step=True)
    eager = mod.run(epochs=4, compile_train_step=False)
    assert compiled["test_accuracy"] > 0.9
    assert abs(compiled["test_accuracy"] - eager["test_accuracy"]) <= 0.02
    assert abs(compiled["val_loss"] - eager["val_loss"]) < 0.05
