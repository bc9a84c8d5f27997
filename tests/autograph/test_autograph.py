"""AutoGraph: Python control flow on traced tensors inside `ndflow.function` becomes
cond/while_loop (TensorFlow 2 semantics); results are checked against the same Python code run
eagerly (plain Python control flow) and against NumPy."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras


def collatz_steps(n):
    steps = 0
    while n > 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps


def test_while_with_tensor_bound_and_nested_if_matches_python():
    f = tf.function(collatz_steps)
    for n in (1, 6, 7, 27):
        assert int(f(tf.constant(n))) == collatz_steps(n)
    assert f.experimental_get_tracing_count() == 1  # one graph serves every n


def piecewise(x):
    if tf.reduce_sum(x) > 0:
        if tf.reduce_max(x) > 10.0:
            y, z = x / 10.0, 1
        else:
            y, z = x * 2.0, 2
    elif tf.reduce_min(x) < -5.0 and tf.reduce_max(x) < 0.0:
        y, z = -x, 3
    else:
        y, z = x * 0.0, 4
    return y, z


@pytest.mark.parametrize("x", [[1.0, 2.0], [1.0, 20.0], [-6.0, -1.0], [-1.0, -2.0]])
def test_nested_conditionals_match_eager(x):
    ref_y, ref_z = piecewise(tf.constant(x))  # eager: plain Python
    y, z = tf.function(piecewise)(tf.constant(x))
    np.testing.assert_allclose(y.numpy(), ref_y.numpy())
    assert int(z) == ref_z


def row_sum_skipping(x, limit):
    total = tf.zeros_like(x[0])
    count = 0
    for row in x:
        if tf.reduce_sum(row) > 0:
            continue
        if count >= limit:
            break
        total += row
        count += 1
    else:
        count = -count  # only when the loop did not break
    return total, count


@pytest.mark.parametrize("limit", [1, 5])
def test_for_over_tensor_with_continue_break_else(limit):
    x = np.array([[1.0, 2.0], [-1.0, -3.0], [2.0, -5.0], [-2.0, 0.0]], "float32")
    ref_total, ref_count = row_sum_skipping(tf.constant(x), limit)
    total, count = tf.function(row_sum_skipping)(tf.constant(x), tf.constant(limit))
    np.testing.assert_allclose(total.numpy(), ref_total.numpy())
    assert int(count) == int(ref_count)


def test_for_over_traced_range_and_python_range():
    @tf.function
    def tri(n):
        total = 0
        for i in tf.range(n):
            total += i
        acc = tf.constant(0)
        for i in range(1, n, 2):  # Python range over a traced bound converts too
            acc += i
        return total, acc

    for n in (0, 1, 6):
        total, acc = tri(tf.constant(n))
        assert int(total) == sum(range(n)) and int(acc) == sum(range(1, n, 2))
    assert tri.experimental_get_tracing_count() == 1


def test_return_inside_branches_and_loops():
    @tf.function
    def first_above(x, t):
        for v in x:
            if v > t:
                return v
        return tf.constant(-1.0)

    @tf.function
    def sign(x):
        if x > 0:
            return 1.0
        return -1.0

    x = tf.constant([0.5, 2.0, 3.0])
    assert float(first_above(x, tf.constant(1.0))) == 2.0
    assert float(first_above(x, tf.constant(9.0))) == -1.0
    assert float(sign(tf.constant(3.0))) == 1.0 and float(sign(tf.constant(-3.0))) == -1.0


def test_python_conditions_stay_python():
    calls = []

    @tf.function
    def f(x, flag):
        if flag:  # a Python bool: only one branch is traced, side effects allowed
            calls.append("true")
            y = x + 1.0
        else:
            calls.append("false")
            y = x - 1.0
        for _ in range(3):  # a Python range: unrolled at trace time
            y = y * 2.0
        return y

    assert float(f(tf.constant(1.0), True)) == 16.0
    assert float(f(tf.constant(1.0), False)) == 0.0
    assert calls == ["true", "false"]


def test_variables_updated_in_a_tensor_loop():
    v = tf.Variable(0.0)

    @tf.function
    def accumulate(n):
        i = tf.constant(0)
        while i < n:
            v.assign_add(tf.cast(i, tf.float32))
            i += 1
        return i

    assert int(accumulate(tf.constant(4))) == 4
    assert float(v.numpy()) == 6.0
    accumulate(tf.constant(3))
    assert float(v.numpy()) == 9.0


def test_loop_carried_value_must_keep_its_shape():
    @tf.function
    def grow(n):
        x = tf.zeros([1])
        for _ in tf.range(n):
            x = tf.concat([x, x], axis=0)
        return x

    with pytest.raises(ValueError, match="shape"):
        grow(tf.constant(2))


def test_gradient_through_converted_loop_and_branch():
    w = tf.Variable(1.5)

    def power_loss(x):
        y = x
        for _ in tf.range(3):  # a constant range under a tape: unrolled, differentiable
            y = y * w
        if tf.reduce_sum(y) > 0:
            loss = tf.reduce_sum(y * y)
        else:
            loss = tf.reduce_sum(-y)
        return loss

    @tf.function
    def grad(x):
        with tf.GradientTape() as tape:
            loss = power_loss(x)
        return loss, tape.gradient(loss, w)

    x = np.array([1.0, 2.0], "float32")
    loss, g = grad(tf.constant(x))
    # loss = sum((x w^3)^2) = w^6 sum(x^2); d/dw = 6 w^5 sum(x^2)
    np.testing.assert_allclose(float(loss), 1.5 ** 6 * 5.0, rtol=1e-5)
    np.testing.assert_allclose(float(g), 6 * 1.5 ** 5 * 5.0, rtol=1e-5)
    with tf.GradientTape() as tape:
        ref = power_loss(tf.constant(-x))
    np.testing.assert_allclose(float(grad(tf.constant(-x))[1]), float(tape.gradient(ref, w)),
                               rtol=1e-5)


def test_variable_left_undefined_by_a_branch_raises_tensorflows_message():
    @tf.function
    def f(x):
        if x > 0:
            y = x * 2.0
        return y

    with pytest.raises(ValueError, match="'y' must also be initialized in the else branch"):
        f(tf.constant(1.0))

    @tf.function
    def g(x):
        if x > 0:
            return x
        # falls off the end: no value in the else branch

    with pytest.raises(ValueError, match="must also be returned from the else branch"):
        g(tf.constant(1.0))

    @tf.function
    def h(n):
        i = 0
        while i < n:
            last = i
            i += 1
        return last

    assert int(h(tf.constant(3))) == 2  # typed by the body: starts as a zeros placeholder

    @tf.function
    def k(n):
        i = 0
        while i < n:
            if i > 1:
                last = i
            i += 1
        return last

    with pytest.raises(ValueError, match="'last' must be defined before the loop"):
        k(tf.constant(3))

    @tf.function
    def ok(x):  # a temporary that only one branch sets is fine while nothing reads it later
        if x > 0:
            tmp = x * 2.0
            x = tmp
        return x

    assert float(ok(tf.constant(2.0))) == 4.0 and float(ok(tf.constant(-2.0))) == -2.0


def test_do_not_convert_and_autograph_false_keep_the_clear_error():
    @tf.autograph.experimental.do_not_convert
    def raw(x):
        if x > 0:
            return x
        return -x

    with pytest.raises(TypeError, match="tf.cond"):
        tf.function(raw)(tf.constant(1.0))
    with pytest.raises(TypeError, match="tf.cond"):
        tf.function(collatz_steps, autograph=False)(tf.constant(6))


def test_called_user_functions_convert_recursively_and_to_code():
    def helper(x):
        if x > 0:
            x = x - 1.0
        return x

    @tf.function
    def outer(x):
        return helper(helper(x)) + 0.0

    assert float(outer(tf.constant(1.5))) == pytest.approx(-0.5)
    assert float(outer(tf.constant(-1.0))) == -1.0
    code = tf.autograph.to_code(helper)
    assert "ag__.if_stmt" in code
    converted = tf.autograph.to_graph(collatz_steps)
    assert converted(10) == collatz_steps(10)  # Python values: plain Python semantics


def test_boolean_operators_on_tensors():
    @tf.function
    def inside(x, lo, hi):
        if x > lo and not x > hi or x == 100.0:
            return x
        return lo

    for v in (0.0, 5.0, 20.0, 100.0):
        want = v if (v > 1.0 and not v > 10.0) or v == 100.0 else 1.0
        assert float(inside(tf.constant(v), tf.constant(1.0), tf.constant(10.0))) == want


class ClippedScale(keras.layers.Layer):
    """A layer whose call branches on a tensor: Keras converts it inside compiled steps."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

    def call(self, x):
        y = x * self.scale
        if tf.reduce_mean(y) > 1.0:
            y = y / tf.reduce_mean(y)
        return y


class Regressor(keras.Model):
    def __init__(self):
        super().__init__()
        self.scale = ClippedScale()
        self.out = keras.layers.Dense(1, kernel_initializer="ones")

    def call(self, x):
        return self.out(self.scale(x))

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((self(x, training=True) - y) ** 2)
            if loss > 50.0:  # a tensor condition in an overridden train_step
                loss = loss / 2.0
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"step_loss": loss}


def test_keras_call_and_train_step_convert_and_match_eager():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 2, (32, 4)).astype("float32")
    y = x.sum(1, keepdims=True)
    hist = {}
    for eager in (False, True):
        m = Regressor()
        m.compile(optimizer=keras.optimizers.SGD(0.01), run_eagerly=eager)
        hist[eager] = m.fit(x, y, batch_size=8, epochs=2, shuffle=False,
                            verbose=0).history["step_loss"]
    np.testing.assert_allclose(hist[False], hist[True], rtol=1e-4)


def test_branches_and_loops_with_side_effects_run_only_when_taken(capsys):
    v = tf.Variable(0.0)

    @tf.function
    def f(x, n):
        if x > 0:
            tf.print("positive")
            v.assign_add(1.0)
        else:
            tf.print("not positive")
        for _ in tf.range(n):  # a loop kept only for its effects
            v.assign_add(10.0)

    f(tf.constant(1.0), tf.constant(2))
    f(tf.constant(-1.0), tf.constant(0))
    assert float(v.numpy()) == 21.0
    err = capsys.readouterr().err
    assert err.splitlines() == ["positive", "not positive"]


class _ScaledDense(keras.layers.Dense):
    def call(self, x):
        y = super().call(x)  # zero-argument super() inside a converted method
        if tf.reduce_mean(y) > 100.0:
            y = y / 100.0
        return y


class _Doubler(tf.Module if hasattr(tf, "Module") else object):
    @tf.function
    def double_if_positive(self, x):
        if tf.reduce_sum(x) > 0:
            return x * 2.0
        return x


def test_converted_methods_keep_super_and_bound_tf_function_methods():
    x = np.ones((4, 3), "float32") * 50.0
    layer = _ScaledDense(2, kernel_initializer="ones")
    model = keras.Sequential([keras.Input((3,)), layer])
    model.compile(optimizer="sgd", loss="mse")
    compiled = model.predict(x, verbose=0)  # predict runs a compiled step
    np.testing.assert_allclose(compiled, np.full((4, 2), 1.5), rtol=1e-6)
    d = _Doubler()
    assert d.double_if_positive(tf.constant([1.0, 2.0])).numpy().tolist() == [2.0, 4.0]
    assert d.double_if_positive(tf.constant([-1.0, -2.0])).numpy().tolist() == [-1.0, -2.0]
