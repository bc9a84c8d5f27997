"""The low-level half of DLwP chapter 3 runs with `import ndflow as tf`."""

import importlib.util
import pathlib

import pytest

import ndflow as tf

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "ch03_linear_classifier.py"


def _load():
    spec = importlib.util.spec_from_file_location("ch03", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_linear_classifier_reaches_97_percent():
    acc = _load().train_linear_classifier()
    assert acc > 0.97


def test_nested_tape_gives_acceleration():
    time = tf.Variable(0.0)
    with tf.GradientTape() as outer_tape:
        with tf.GradientTape() as inner_tape:
            position = 4.9 * time**2
        speed = inner_tape.gradient(position, time)
    acceleration = outer_tape.gradient(speed, time)
    assert float(acceleration) == pytest.approx(9.8)


def test_tensor_item_assignment_is_refused_and_variables_assign():
    x = tf.ones(shape=(2, 2))
    with pytest.raises(TypeError):
        x[0, 0] = 0.0
    v = tf.Variable(initial_value=tf.random.normal(shape=(3, 1)))
    buf = v._value
    v.assign(tf.ones((3, 1)))
    v[0, 0].assign(3.0)
    v.assign_add(tf.ones((3, 1)))
    assert v.numpy().ravel().tolist() == [4.0, 2.0, 2.0]
    assert v._value is buf


def test_example_script_runs(capsys):
    _load().tensors_and_gradients()
    out = capsys.readouterr().out
    assert "acceleration: 9.8" in out
