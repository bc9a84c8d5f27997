"""GradientTape semantics (following TensorFlow 2 where it has an answer)."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow.errors import InvalidArgumentError


def test_constants_need_watch():
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x) is None
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert float(tape.gradient(y, x)) == 6.0


def test_trainable_variables_are_watched_automatically():
    v = tf.Variable(2.0)
    frozen = tf.Variable(5.0, trainable=False)
    with tf.GradientTape() as tape:
        y = v * v * frozen
    gv, gf = tape.gradient(y, [v, frozen])
    assert float(gv) == 20.0 and gf is None
    assert [w is v for w in tape.watched_variables()] == [True]


def test_watch_accessed_variables_false():
    a, b = tf.Variable(2.0), tf.Variable(3.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(a)
        y = a * b
    ga, gb = tape.gradient(y, [a, b])
    assert float(ga) == 3.0 and gb is None
    assert len(tape.watched_variables()) == 1 and tape.watched_variables()[0] is a


def test_persistent_tape_gives_several_gradients():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = tf.reduce_sum(x * x)
        z = tf.reduce_sum(tf.exp(x))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, 4.0])
    np.testing.assert_allclose(tape.gradient(z, x).numpy(), np.exp([1.0, 2.0]), rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, 4.0])


def test_non_persistent_tape_used_twice_raises():
    x = tf.constant(1.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(y, x)


def test_second_order_cube():
    x = tf.Variable(2.0)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = x ** 3
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    assert float(dy) == pytest.approx(12.0)
    assert float(d2y) == pytest.approx(12.0)  # 6x at x = 2


def test_acceleration_of_falling_body():
    t = tf.Variable(3.0)
    with tf.GradientTape() as g2:
        with tf.GradientTape() as g1:
            position = 4.9 * t ** 2
        speed = g1.gradient(position, t)
    acceleration = g2.gradient(speed, t)
    assert float(speed) == pytest.approx(29.4, rel=1e-6)
    assert float(acceleration) == pytest.approx(9.8, rel=1e-6)


def test_third_order():
    x = tf.constant(0.7, dtype=tf.float64)
    with tf.GradientTape() as t3:
        t3.watch(x)
        with tf.GradientTape() as t2:
            t2.watch(x)
            with tf.GradientTape() as t1:
                t1.watch(x)
                y = tf.sin(x)
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    assert float(d3) == pytest.approx(-np.cos(0.7))


def test_nested_structures_of_sources():
    a = tf.Variable(1.0)
    b = tf.Variable([1.0, 2.0])
    c = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = a * 2.0 + tf.reduce_sum(b * b) + c * a
    g = tape.gradient(y, {"w": [a, b], "c": c})
    assert set(g) == {"w", "c"} and isinstance(g["w"], list)
    assert float(g["w"][0]) == 5.0
    np.testing.assert_allclose(g["w"][1].numpy(), [2.0, 4.0])
    assert float(g["c"]) == 1.0
    g2 = tape_grad_tuple(lambda v: v * v, (tf.Variable(3.0), tf.Variable(4.0)))
    assert isinstance(g2, tuple) and [float(v) for v in g2] == [6.0, 8.0]


def tape_grad_tuple(fn, sources):
    with tf.GradientTape() as tape:
        y = tf.add_n([fn(s) for s in sources])
    return tape.gradient(y, sources)


def test_several_targets_are_summed():
    x = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y1, y2 = x * x, 3.0 * x
    assert float(tape.gradient([y1, y2], x)) == 7.0


def test_output_gradients():
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    g = tape.gradient(y, x, output_gradients=tf.constant([1.0, 0.5, -1.0]))
    np.testing.assert_allclose(g.numpy(), [2.0, 2.0, -6.0])


def test_output_gradients_shape_mismatch_is_clear():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    with pytest.raises(InvalidArgumentError, match=r"output_gradients.*\(2,\)"):
        tape.gradient(y, x, output_gradients=tf.constant([1.0, 2.0, 3.0]))


def test_non_scalar_target_is_the_gradient_of_its_sum():
    # TensorFlow: without output_gradients, the target's elements are summed (ones seed).
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        s = tf.reduce_sum(y)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, 4.0, 6.0])
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), tape.gradient(s, x).numpy())
    # several targets: the gradient of the sum of all of them
    z = [y, x]
    np.testing.assert_allclose(tape.gradient(z, x).numpy(), [3.0, 5.0, 7.0])


def test_per_sample_loss_gradient_matches_torch_sum_backward():
    torch = pytest.importorskip("torch")
    from ndflow import keras

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 4)).astype(np.float32)
    labels = np.array([0, 3, 1, 2, 3])
    w = tf.Variable(np.eye(4, dtype=np.float32))
    with tf.GradientTape() as tape:
        per_sample = keras.losses.sparse_categorical_crossentropy(
            labels, tf.matmul(tf.constant(logits), w), from_logits=True)
    g = tape.gradient(per_sample, w)
    tw = torch.eye(4, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(torch.from_numpy(logits) @ tw,
                                             torch.from_numpy(labels), reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(g.numpy(), tw.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_strict_targets_is_an_opt_in_error(monkeypatch):
    monkeypatch.setattr(tf.GradientTape, "strict_targets", True)
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    with pytest.raises(InvalidArgumentError, match=r"scalar.*strict_targets.*\(2,\).*ones_like"):
        tape.gradient(y, x)


def test_gradient_uses_values_read_in_the_forward_pass():
    # TF: a variable read on a tape is a snapshot; a later assign does not change the gradient.
    v = tf.Variable([1.0, 2.0])
    w = tf.Variable([3.0, 4.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(v * w)
    v.assign([100.0, 100.0])
    w.assign_add([50.0, 50.0])
    gv, gw = tape.gradient(y, [v, w])
    np.testing.assert_allclose(gv.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 2.0])


def test_gradient_after_optimizer_step_inside_the_tape_matches_torch():
    # an in-place optimizer update between forward and gradient (Keras SGD writes the buffer)
    torch = pytest.importorskip("torch")
    from ndflow import keras

    x0 = np.array([[0.5, -1.0], [2.0, 0.3]], np.float32)
    v = tf.Variable(x0)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.exp(tf.matmul(v, v)))
        keras.optimizers.SGD(1.0).apply_gradients([(tf.ones_like(v), v)])
        y2 = tf.reduce_sum(v * v)  # read after the update: uses the new value
    g = tape.gradient([y, y2], v)
    t = torch.tensor(x0, requires_grad=True)
    torch.exp(t @ t).sum().backward()
    expected = t.grad.numpy() + 2 * (x0 - 1.0)
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-5)


def test_view_of_a_variable_keeps_its_forward_value():
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape() as tape:
        r = tf.reshape(v, [4])  # a NumPy view of the variable's buffer
        y = tf.reduce_sum(r * r)
    v.assign(tf.zeros_like(v))
    np.testing.assert_allclose(r.numpy(), [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), [[2.0, 4.0], [6.0, 8.0]])


def test_snapshot_gradients_of_gradients():
    v = tf.Variable(3.0)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = v * v * v
        dy = inner.gradient(y, v)
    v.assign(0.0)
    np.testing.assert_allclose(float(dy), 27.0)
    np.testing.assert_allclose(float(outer.gradient(dy, v)), 18.0)


def test_unconnected_gradients():
    x, z = tf.Variable([1.0, 2.0]), tf.Variable([[3.0]])
    with tf.GradientTape(persistent=True) as tape:
        y = tf.reduce_sum(x)
    assert tape.gradient(y, z) is None
    assert tape.gradient(y, z, unconnected_gradients=tf.UnconnectedGradients.NONE) is None
    g = tape.gradient(y, [x, z], unconnected_gradients=tf.UnconnectedGradients.ZERO)
    np.testing.assert_array_equal(g[1].numpy(), [[0.0]])
    assert g[1].dtype == tf.float32
    g = tape.gradient(y, z, unconnected_gradients="zero")
    np.testing.assert_array_equal(g.numpy(), [[0.0]])


def test_stop_gradient():
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = x * tf.stop_gradient(x * x)
    assert float(tape.gradient(y, x)) == 9.0


def test_stop_recording():
    x = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = x * x
        with tape.stop_recording():
            z = x * 100.0
        w = y + z
    assert float(tape.gradient(w, x)) == 4.0


def test_jacobian():
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    j = tape.jacobian(y, x)
    np.testing.assert_allclose(j.numpy(), np.diag([2.0, 4.0, 6.0]))
    w = tf.Variable(np.ones((2, 3), np.float32))
    with tf.GradientTape() as tape:
        y = tf.matmul(w, tf.reshape(x, [3, 1]))
    j = tape.jacobian(y, w)
    assert tuple(j.shape) == (2, 1, 2, 3)
    np.testing.assert_allclose(j.numpy()[1, 0, 1], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(j.numpy()[1, 0, 0], [0.0, 0.0, 0.0])


def test_batch_jacobian():
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.concat([x * x, tf.reduce_sum(x, axis=1, keepdims=True)], axis=1)  # [2, 4]
    bj = tape.batch_jacobian(y, x)
    assert tuple(bj.shape) == (2, 4, 3)
    for b in range(2):
        expected = np.vstack([np.diag(2 * x.numpy()[b]), np.ones((1, 3))])
        np.testing.assert_allclose(bj.numpy()[b], expected)


def test_int_tensors_are_not_differentiated():
    i = tf.constant([1, 2, 3])
    with tf.GradientTape() as tape:
        tape.watch(i)
        y = tf.reduce_sum(i * i)
    assert tape.gradient(y, i) is None
    v = tf.Variable(4)
    with tf.GradientTape() as tape:
        y = v * v
    assert tape.gradient(y, v) is None
    assert tape.watched_variables() == ()


def test_int_paths_do_not_carry_gradients():
    x = tf.Variable([0.2, 1.7])
    with tf.GradientTape() as tape:
        idx = tf.cast(x, tf.int32)
        y = tf.reduce_sum(tf.cast(idx, tf.float32) * x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [0.0, 1.0])


def test_multiple_uses_accumulate():
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        a = x * 2.0
        y = a + x + x * x + a * x
    # y = 2x + x + x^2 + 2x^2 -> 3 + 6x = 21
    assert float(tape.gradient(y, x)) == 21.0


def test_target_is_source():
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
    assert float(tape.gradient(x, x)) == 1.0


def test_intermediate_tensor_as_source():
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        z = y * 3.0
    gy, gx = tape.gradient(z, [y, x])
    assert float(gy) == 3.0 and float(gx) == 12.0


def test_gradient_through_variable_value_and_identity():
    v = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(v.value() * tf.identity(v))
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), [2.0, 4.0])


def test_gradient_sources_must_be_tensors():
    with tf.GradientTape() as tape:
        y = tf.constant(1.0)
    with pytest.raises(ValueError, match="sources must be tensors"):
        tape.gradient(y, [1.0])


def test_watch_rejects_non_tensors():
    with tf.GradientTape() as tape, pytest.raises(ValueError, match="watch"):
        tape.watch([1.0, 2.0])


def test_nested_tape_inside_persistent_outer_and_reset():
    x = tf.Variable(1.5)
    with tf.GradientTape(persistent=True) as outer:
        with tf.GradientTape() as inner:
            y = tf.sin(x)
        g = inner.gradient(y, x)
    assert float(outer.gradient(g, x)) == pytest.approx(-np.sin(1.5), rel=1e-6)
    outer.reset()
    assert outer.gradient(g, x) is None


def test_gradient_of_assign_updates_is_fresh():
    v = tf.Variable(1.0)
    for expected in (2.0, 4.0, 6.0):
        with tf.GradientTape() as tape:
            y = v * v
        assert float(tape.gradient(y, v)) == expected
        v.assign_add(1.0)


def test_persistent_tape_differentiates_its_own_gradient():
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x ** 3
        dy = tape.gradient(y, x)  # computed while recording: the tape records it
    assert float(dy) == 12.0
    assert float(tape.gradient(dy, x)) == pytest.approx(12.0)


def test_jacobian_inside_the_with_block():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        j = tape.jacobian(y, x)
        z = tf.reduce_sum(y)
    np.testing.assert_allclose(j.numpy(), np.diag([2.0, 4.0]))
    np.testing.assert_allclose(tape.gradient(z, x).numpy(), [2.0, 4.0])
