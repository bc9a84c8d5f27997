"""`tf.while_loop` inside `ndflow.function`: loop-variable structures, side effects in the
body, gradients through loops whose trip count is a traced tensor, maximum_iterations, nested
loops and `tf.cond` in the body. Traced results are compared with the same code run eagerly
and with plain Python/NumPy; gradients also with finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow.errors import InvalidArgumentError


def _both(f, *args):
    """(eager result, traced result) of `f(*args)`."""
    return f(*args), tf.function(f)(*args)


# --- loop-variable structures ---------------------------------------------------------------

def test_single_tensor_loop_var_returns_a_single_tensor():
    def f(n):
        return tf.while_loop(lambda i: i < n, lambda i: i + 1, tf.constant(0))

    eager, traced = _both(f, tf.constant(10))
    assert isinstance(traced, tf.Tensor) and isinstance(eager, tf.Tensor)
    assert int(eager) == int(traced) == 10
    assert int(tf.function(f)(tf.constant(-3))) == 0  # zero iterations


def test_single_variable_loop_var_is_read_once():
    v = tf.Variable(2.0)

    def f(x):
        return tf.while_loop(lambda a: a < x, lambda a: a * 2.0, v)

    eager, traced = _both(f, tf.constant(100.0))
    assert float(eager) == float(traced) == 128.0


@pytest.mark.parametrize("wrap", [list, tuple])
def test_one_element_list_or_tuple_keeps_its_structure(wrap):
    def f(n):
        # the body may return a bare tensor for a one-element list (as TensorFlow allows)
        a = tf.while_loop(lambda i: i < n, lambda i: i + 2, wrap([tf.constant(1)]))
        b = tf.while_loop(lambda i: i < n, lambda i: (i + 3,), wrap([tf.constant(1)]))
        return a, b

    eager, traced = _both(f, tf.constant(9))
    for e, t in zip(eager, traced):
        assert type(e) is type(t) is wrap and len(t) == 1
    assert [int(x[0]) for x in traced] == [int(x[0]) for x in eager] == [9, 10]


def test_nested_structure_of_loop_vars():
    def f(n):
        init = (tf.constant(0), {"s": tf.constant(0.0), "p": tf.constant(1.0)})

        def body(i, d):
            x = tf.cast(i, tf.float32) + 1.0
            return i + 1, {"s": d["s"] + x, "p": d["p"] * x}

        return tf.while_loop(lambda i, d: i < n, body, init)

    eager, traced = _both(f, tf.constant(5))
    assert int(traced[0]) == 5
    assert float(traced[1]["s"]) == float(eager[1]["s"]) == 15.0
    assert float(traced[1]["p"]) == float(eager[1]["p"]) == 120.0


def test_namedtuple_loop_vars():
    import collections

    Pair = collections.namedtuple("Pair", "i s")

    def f(n):
        return tf.while_loop(lambda i, s: i < n, lambda i, s: Pair(i + 1, s + i),
                             Pair(tf.constant(0), tf.constant(0)))

    eager, traced = _both(f, tf.constant(4))
    assert type(traced) is Pair and (int(traced.i), int(traced.s)) == (4, 6)
    assert (int(eager.i), int(eager.s)) == (4, 6)


def test_body_changing_a_shape_is_a_clear_error():
    def f(n):
        return tf.while_loop(lambda x: tf.reduce_sum(x) < n,
                             lambda x: tf.concat([x, x], 0), tf.ones([2]))

    with pytest.raises(InvalidArgumentError, match="while_loop.*shape"):
        tf.function(f)(tf.constant(10.0))


def test_parallel_iterations_and_swap_memory_are_accepted_and_checked():
    def f(n):
        return tf.while_loop(lambda i: i < n, lambda i: i + 1, tf.constant(0),
                             parallel_iterations=1, swap_memory=True)

    assert int(tf.function(f)(tf.constant(4))) == 4
    with pytest.raises(TypeError, match="parallel_iterations"):
        tf.while_loop(lambda i: i < 3, lambda i: i + 1, tf.constant(0), parallel_iterations=0)


# --- side effects in the body -----------------------------------------------------------------

def test_loop_run_only_for_an_assign_is_kept():
    v = tf.Variable(0.0)

    @tf.function
    def f(n):
        def body(i):
            v.assign_add(tf.cast(i, tf.float32))
            return i + 1

        tf.while_loop(lambda i: i < n, body, tf.constant(0))  # outputs unused
        return tf.constant(0)

    f(tf.constant(5))
    assert float(v.numpy()) == sum(range(5))
    f(tf.constant(3))
    assert float(v.numpy()) == sum(range(5)) + sum(range(3))
    text = str(f.get_concrete_function(tf.constant(3)).graph)
    assert "while_loop" in text


def test_loop_run_only_for_a_print_prints_every_call(capsys):
    @tf.function
    def f(n):
        def body(i, j):
            tf.print("step", i, output_stream="stdout")
            return i + 1, j

        tf.while_loop(lambda i, j: i < n, body, [tf.constant(0), tf.constant(7)])
        return tf.constant(1.0)

    f(tf.constant(3))
    f(tf.constant(2))
    out = capsys.readouterr().out.split("\n")
    assert [ln for ln in out if ln] == ["step 0", "step 1", "step 2", "step 0", "step 1"]


def test_pure_loop_with_unused_outputs_is_dropped():
    @tf.function
    def f(x, n):
        tf.while_loop(lambda i: i < n, lambda i: i + 1, tf.constant(0))
        return x * 2.0

    text = str(f.get_concrete_function(tf.constant(1.0), tf.constant(3)).graph)
    assert "while_loop" not in text


def test_loop_reading_a_variable_is_not_folded_at_compile_time():
    # every loop input is a constant, but the condition reads a variable: the loop must run
    # on each call with the variable's value then
    v = tf.Variable(3)

    @tf.function
    def f():
        return tf.while_loop(lambda i: i < v, lambda i: i + 1, tf.constant(0))

    assert int(f()) == 3
    v.assign(6)
    assert int(f()) == 6


def test_two_loops_reading_a_variable_around_an_assign_are_not_merged():
    v = tf.Variable(1.0)

    @tf.function
    def f(n):
        def run():
            return tf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s + v),
                                 [tf.constant(0), tf.constant(0.0)])[1]

        a = run()
        v.assign(10.0)
        b = run()
        return a, b

    a, b = f(tf.constant(3))
    assert (float(a), float(b)) == (3.0, 30.0)


def test_random_op_in_body_draws_on_every_call():
    @tf.function
    def f():
        return tf.while_loop(lambda i, s: i < 3,
                             lambda i, s: (i + 1, s + tf.random.uniform([])),
                             [tf.constant(0), tf.constant(0.0)])[1]

    assert float(f()) != float(f())


# --- maximum_iterations, nesting, cond in the body ---------------------------------------------

def test_maximum_iterations_static_and_traced():
    def f(n, m):
        return tf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s + i),
                             [tf.constant(0), tf.constant(0)], maximum_iterations=m)

    for n, m in ((10, 4), (3, 8), (5, 0)):
        k = min(n, m)
        eager, traced = _both(f, tf.constant(n), tf.constant(m))
        assert [int(v) for v in traced] == [int(v) for v in eager] == [k, sum(range(k))]
        static = tf.function(lambda n, m=m: f(n, m))(tf.constant(n))
        assert [int(v) for v in static] == [k, sum(range(k))]


def test_nested_loops_and_cond_in_body_match_python():
    def f(n):
        def outer_body(i, s):
            _, s = tf.while_loop(lambda j, t: j < i, lambda j, t: (j + 1, t + j * i),
                                 [tf.constant(0), s])
            s = tf.cond(i % 2 == 0, lambda: s + 100, lambda: s - 1)
            return i + 1, s

        return tf.while_loop(lambda i, s: i < n, outer_body, [tf.constant(0), tf.constant(0)])

    def python(n):
        s = 0
        for i in range(n):
            s += sum(j * i for j in range(i))
            s = s + 100 if i % 2 == 0 else s - 1
        return s

    for n in (0, 1, 6):
        eager, traced = _both(f, tf.constant(n))
        assert int(traced[1]) == int(eager[1]) == python(n)


def test_autograph_while_with_only_side_effects_and_single_carried_value():
    v = tf.Variable(0.0)

    @tf.function
    def f(n):
        i = tf.constant(0)
        while i < n:
            v.assign_add(2.0)
            i += 1
        return tf.constant(0)

    f(tf.constant(4))
    assert float(v.numpy()) == 8.0

    @tf.function
    def g(x):
        while tf.reduce_sum(x) < 100.0:
            x = x * 2.0
        return x

    np.testing.assert_array_equal(g(tf.constant([1.0, 2.0])).numpy(), [64.0, 128.0])


# --- gradients through loops with a traced trip count ------------------------------------------

def _power(x, n):
    _, y = tf.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, y * x),
                         [tf.constant(0), tf.ones_like(x)])
    return y


def _grad_of(fn, *args):
    x = args[0]
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(*args)
    return y, tape.gradient(y, x)


def test_gradient_of_captured_tensor_with_traced_trip_count():
    x0 = np.array([1.5, -0.7, 0.3], np.float32)
    g = tf.function(lambda x, n: _grad_of(_power, x, n))
    for n in (0, 1, 4):
        y, dx = g(tf.constant(x0), tf.constant(n))
        ye, dxe = _grad_of(_power, tf.constant(x0), tf.constant(n))
        np.testing.assert_allclose(y.numpy(), x0 ** n, rtol=1e-6)
        np.testing.assert_allclose(dx.numpy(), n * x0 ** max(n - 1, 0), rtol=1e-5)
        if n == 0:  # eagerly no op connects y to x (None); the traced loop gives zeros, as TF
            assert dxe is None
            continue
        np.testing.assert_allclose(dx.numpy(), dxe.numpy(), rtol=1e-6)


def _newton_like(x0, n, a):
    # a loop variable that starts from a watched tensor, a captured weight, a float counter
    def body(i, x, t):
        return i + 1, x - 0.1 * tf.sin(x) * a + t * 0.01, t + 1.0

    t0 = tf.zeros([], x0.dtype)
    _, x, _ = tf.while_loop(lambda i, x, t: i < n, body, (tf.constant(0), x0, t0))
    return tf.reduce_sum(x * x)


def test_gradient_wrt_initial_loop_var_and_capture_matches_finite_differences():
    x0 = np.array([0.4, 1.3], np.float64)
    a0 = np.array(0.8, np.float64)

    def grads(x, n, a):
        with tf.GradientTape() as tape:
            tape.watch([x, a])
            y = _newton_like(x, n, a)
        return y, tape.gradient(y, [x, a])

    n = tf.constant(5)
    y, (dx, da) = tf.function(grads)(tf.constant(x0), n, tf.constant(a0))
    ye, (dxe, dae) = grads(tf.constant(x0), n, tf.constant(a0))
    np.testing.assert_allclose(float(y), float(ye), rtol=1e-12)
    np.testing.assert_allclose(dx.numpy(), dxe.numpy(), rtol=1e-10)
    np.testing.assert_allclose(float(da), float(dae), rtol=1e-10)

    def value(x, a):
        return float(_newton_like(tf.constant(x), n, tf.constant(a)))

    eps = 1e-6
    fd_x = [(value(x0 + eps * e, a0) - value(x0 - eps * e, a0)) / (2 * eps) for e in np.eye(2)]
    fd_a = (value(x0, a0 + eps) - value(x0, a0 - eps)) / (2 * eps)
    np.testing.assert_allclose(dx.numpy(), fd_x, rtol=1e-6)
    np.testing.assert_allclose(float(da), fd_a, rtol=1e-6)


def test_gradient_wrt_variable_read_in_the_body():
    w = tf.Variable(np.array([[0.5, -0.2], [0.1, 0.9]], np.float32))

    def step(x, n):
        def body(i, h):
            return i + 1, tf.tanh(tf.matmul(h, w) + x)

        with tf.GradientTape() as tape:
            _, h = tf.while_loop(lambda i, h: i < n, body, [tf.constant(0), x])
            loss = tf.reduce_sum(h)
        return loss, tape.gradient(loss, w)

    x = tf.constant([[0.3, -0.4]])
    loss, dw = tf.function(step)(x, tf.constant(3))
    loss_e, dw_e = step(x, tf.constant(3))
    np.testing.assert_allclose(float(loss), float(loss_e), rtol=1e-6)
    np.testing.assert_allclose(dw.numpy(), dw_e.numpy(), rtol=1e-5, atol=1e-7)
    assert np.abs(dw.numpy()).sum() > 0.1


def test_gradient_through_nested_loops_and_cond():
    def f(x, n):
        def outer(i, y):
            _, y = tf.while_loop(lambda j, z: j < i, lambda j, z: (j + 1, z * x),
                                 [tf.constant(0), y])
            y = tf.cond(y > 10.0, lambda: y * 0.5, lambda: y + x)
            return i + 1, y

        return tf.while_loop(lambda i, y: i < n, outer, [tf.constant(0), tf.constant(1.0)])[1]

    g = tf.function(lambda x, n: _grad_of(f, x, n))
    for n in (0, 2, 4):
        y, dx = g(tf.constant(1.7), tf.constant(n))
        ye, dxe = _grad_of(f, tf.constant(1.7), tf.constant(n))
        assert float(y) == pytest.approx(float(ye), rel=1e-6)
        if n == 0:
            assert dx is None or float(dx) == 0.0
            continue
        assert float(dx) == pytest.approx(float(dxe), rel=1e-5)
        eps = 1e-3
        fd = (float(f(tf.constant(1.7 + eps), tf.constant(n)))
              - float(f(tf.constant(1.7 - eps), tf.constant(n)))) / (2 * eps)
        assert float(dx) == pytest.approx(fd, rel=1e-3)


def test_gradient_with_maximum_iterations_and_autograph_while():
    @tf.function
    def f(x, n):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x
            i = tf.constant(0)
            while i < n:
                y = tf.sin(y) + x
                i += 1
            z = tf.while_loop(lambda k, z: k < n, lambda k, z: (k + 1, z * x),
                              [tf.constant(0), tf.constant(1.0)], maximum_iterations=2)[1]
            total = y + z
        return tape.gradient(total, x)

    def python(x, n):
        y, dy = x, 1.0
        for _ in range(n):
            y, dy = np.sin(y) + x, np.cos(y) * dy + 1.0
        k = min(n, 2)
        return dy + k * x ** max(k - 1, 0)

    for n in (0, 1, 3):
        assert float(f(tf.constant(0.6), tf.constant(n))) == pytest.approx(python(0.6, n),
                                                                          rel=1e-5)


def test_back_prop_false_stops_the_gradient():
    @tf.function
    def f(x, n):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, y * x),
                              [tf.constant(0), x], back_prop=False)[1]
            y = y + x
        return tape.gradient(y, x)

    assert float(f(tf.constant(2.0), tf.constant(3))) == 1.0


def test_second_order_gradient_through_a_traced_loop_is_a_clear_error():
    @tf.function
    def f(x, n):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = _power(x, n)
            dy = inner.gradient(y, x)
        return outer.gradient(dy, x)

    with pytest.raises(InvalidArgumentError, match="while_loop.*second-order"):
        f(tf.constant(2.0), tf.constant(3))


def test_autograph_if_with_an_assign_under_a_tape_runs_one_branch_and_differentiates():
    # the branches become loops that run at most once: only the taken branch assigns, and the
    # gradient flows through the loop that ran
    v = tf.Variable(0.0)

    @tf.function
    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            if x > 0.0:
                v.assign_add(1.0)
                y = x * x
            else:
                y = -3.0 * x
        return y, tape.gradient(y, x)

    y, dy = f(tf.constant(2.0))
    assert (float(y), float(dy), float(v.numpy())) == (4.0, 4.0, 1.0)
    y, dy = f(tf.constant(-2.0))
    assert (float(y), float(dy), float(v.numpy())) == (6.0, -3.0, 1.0)


def test_autograph_loop_defining_a_name_under_a_tape():
    @tf.function
    def f(x, n):
        with tf.GradientTape() as tape:
            tape.watch(x)
            i = tf.constant(0)
            y = x
            while i < n:
                z = y * x  # first set inside the loop
                y = z
                i += 1
        return z, tape.gradient(y, x)

    z, dy = f(tf.constant(1.5), tf.constant(3))
    assert float(z) == pytest.approx(1.5 ** 4)
    assert float(dy) == pytest.approx(4 * 1.5 ** 3)


def test_side_effects_in_a_differentiated_body_happen_once_per_iteration(capsys):
    # the backward pass traces the body again: its assigns and prints must not run again
    calls = tf.Variable(0)

    @tf.function
    def f(x, n):
        def body(i, y):
            calls.assign_add(1)
            tf.print("it", i, output_stream="stdout")
            return i + 1, y * x

        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.while_loop(lambda i, y: i < n, body, [tf.constant(0), tf.constant(1.0)])[1]
        return tape.gradient(y, x)

    assert float(f(tf.constant(2.0), tf.constant(3))) == 12.0
    assert int(calls.numpy()) == 3
    assert capsys.readouterr().out.split() == ["it", "0", "it", "1", "it", "2"]


def test_gradient_wrt_variable_read_only_in_a_nested_loop():
    w = tf.Variable(0.9)

    def f(x, n):
        def outer(i, y):
            _, y = tf.while_loop(lambda j, z: j < 2, lambda j, z: (j + 1, tf.sin(z * w)),
                                 [tf.constant(0), y])
            return i + 1, y + x

        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.while_loop(lambda i, y: i < n, outer, [tf.constant(0), x])[1]
        return tape.gradient(y, [x, w])

    dx, dw = tf.function(f)(tf.constant(0.4), tf.constant(3))
    dxe, dwe = f(tf.constant(0.4), tf.constant(3))
    assert float(dx) == pytest.approx(float(dxe), rel=1e-6)
    assert float(dw) == pytest.approx(float(dwe), rel=1e-6) and abs(float(dw)) > 1e-3


def test_gradients_that_a_recomputed_body_cannot_reproduce_are_clear_errors():
    v = tf.Variable(1.0)

    def grad_of(body):
        @tf.function
        def f(x, n):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.while_loop(lambda i, y: i < n, body, [tf.constant(0), x])[1]
            return tape.gradient(y, x)
        return f(tf.constant(1.0), tf.constant(2))

    with pytest.raises(InvalidArgumentError, match="while_loop.*random"):
        grad_of(lambda i, y: (i + 1, y * tf.random.uniform([])))

    def reads_and_assigns(i, y):
        v.assign(y)
        return i + 1, y * v

    with pytest.raises(InvalidArgumentError, match="while_loop.*assigned and read"):
        grad_of(reads_and_assigns)


def test_training_a_dense_layer_applied_a_traced_number_of_times():
    from ndflow import keras

    keras.utils.set_random_seed(3)
    dense = keras.layers.Dense(3, activation="tanh")
    dense.build((None, 3))
    x = tf.constant(np.random.default_rng(0).normal(size=(4, 3)).astype("float32"))
    opt = keras.optimizers.SGD(0.2)

    def loss_and_grads(x, n):
        with tf.GradientTape() as tape:
            h = tf.while_loop(lambda i, h: i < n, lambda i, h: (i + 1, dense(h) + x),
                              [tf.constant(0), x])[1]
            loss = tf.reduce_mean(h * h)
        return loss, tape.gradient(loss, dense.trainable_variables)

    loss, grads = tf.function(loss_and_grads)(x, tf.constant(3))
    loss_e, grads_e = loss_and_grads(x, tf.constant(3))
    assert float(loss) == pytest.approx(float(loss_e), rel=1e-6)
    for g, ge in zip(grads, grads_e):
        np.testing.assert_allclose(g.numpy(), ge.numpy(), rtol=1e-5, atol=1e-7)

    @tf.function
    def train(x, n):
        loss, grads = loss_and_grads(x, n)
        opt.apply_gradients(zip(grads, dense.trainable_variables))
        return loss

    losses = [float(train(x, tf.constant(3))) for _ in range(8)]
    assert losses[-1] < 0.5 * losses[0]


def test_autograph_for_over_a_traced_range_with_break_is_differentiable():
    @tf.function
    def f(x, n):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.ones_like(x)
            for i in tf.range(n):
                if i >= 4:
                    break
                y = y * x + tf.cast(i, x.dtype)
        return y, tape.gradient(y, x)

    def python(x, n):
        y, dy = 1.0, 0.0
        for i in range(min(n, 4)):
            y, dy = y * x + i, dy * x + y
        return y, dy

    for n in (0, 2, 7):
        y, dy = f(tf.constant(1.3), tf.constant(n))
        want_y, want_dy = python(1.3, n)
        assert float(y) == pytest.approx(want_y, rel=1e-6)
        assert (0.0 if dy is None else float(dy)) == pytest.approx(want_dy, rel=1e-6)


def test_loop_that_turns_traced_after_an_iteration_runs_its_assigns_once():
    # the first condition is a Python-known constant, the body's result reads a variable: the
    # loop is compiled from the start, and the iteration run while finding that out leaves
    # no assign behind
    v = tf.Variable(0.0)
    step = tf.Variable(1.0)

    @tf.function
    def f():
        def body(i):
            v.assign_add(1.0)
            return i + step

        return tf.while_loop(lambda i: i < 3.0, body, tf.constant(0.0))

    assert float(f()) == 3.0 and float(v.numpy()) == 3.0
    step.assign(0.5)
    assert float(f()) == 3.0 and float(v.numpy()) == 9.0


def test_gradient_of_a_loop_whose_condition_reads_a_variable_the_body_assigns():
    # autograph: `while v < 3: v.assign_add(1); y = y * x` (the count lives in a variable)
    v = tf.Variable(0.0)

    @tf.function
    def f(x):
        v.assign(0.0)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.ones_like(x)
            while v < 3.0:
                v.assign_add(1.0)
                y = y * x
        return y, tape.gradient(y, x)

    y, dy = f(tf.constant(1.5))
    assert float(y) == pytest.approx(1.5 ** 3) and float(dy) == pytest.approx(3 * 1.5 ** 2)
    assert float(v.numpy()) == 3.0
