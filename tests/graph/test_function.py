"""`ndflow.function`: tracing, retracing rules, side effects, variables, control flow, errors,
graph passes and the compiled executor."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest

import ndflow as tf
from ndflow.graph import passes
from ndflow.graph.ir import Graph


# --- tracing and retracing ------------

def test_decorator_and_call_forms_and_values():
    @tf.function
    def f(x, y):
        return x * y + 1.0

    g = tf.function(lambda x: tf.exp(x))
    assert float(f(tf.constant(2.0), tf.constant(3.0))) == 7.0
    np.testing.assert_allclose(g(tf.constant([0.0, 1.0])).numpy(), [1.0, np.e], rtol=1e-6)
    h = tf.function(input_signature=[tf.TensorSpec([2], tf.float32)])(lambda x: x * 2.0)
    np.testing.assert_array_equal(h(tf.constant([1.0, 2.0])).numpy(), [2.0, 4.0])


def test_traces_once_per_signature_and_python_side_effects_happen_at_trace_time():
    traces = []

    @tf.function
    def f(x):
        traces.append(tuple(x.shape))
        return x + 1

    f(tf.constant([1, 2]))
    f(tf.constant([3, 4]))  # same shape and dtype: no retrace
    assert traces == [(2,)] and f.experimental_get_tracing_count() == 1
    f(tf.constant([1, 2, 3]))  # new shape: retrace
    f(tf.constant([1.0, 2.0]))  # new dtype: retrace
    assert f.experimental_get_tracing_count() == 3
    assert len(traces) == 3


def test_python_scalars_retrace_per_value():
    @tf.function
    def f(x, n):
        for _ in range(n):  # Python control flow on a Python value unrolls at trace time
            x = x * 2.0
        return x

    assert float(f(tf.constant(1.0), 3)) == 8.0
    assert float(f(tf.constant(1.0), 3)) == 8.0
    assert f.experimental_get_tracing_count() == 1
    assert float(f(tf.constant(1.0), 4)) == 16.0
    assert f.experimental_get_tracing_count() == 2


def test_input_signature_checks_arguments():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
    def f(x):
        return x * 2

    np.testing.assert_array_equal(f(tf.constant([1, 2])).numpy(), [2, 4])
    with pytest.raises(ValueError, match=r"f: argument 0 expected shape \(None,\) and dtype int32"):
        f(tf.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match="argument 0"):
        f(tf.constant([[1, 2]]))
    with pytest.raises(TypeError, match="TensorSpec"):
        tf.function(lambda x: x, input_signature=[3])


def test_frequent_retracing_warns():
    @tf.function
    def f(x):
        return x + 1

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, 8):
            f(tf.zeros([n]))
    assert any("retracing" in str(w.message) for w in caught)


def test_input_signature_with_none_dims_traces_once_like_tensorflow(capsys):
    # TensorFlow's guide example: one trace serves every length.
    @tf.function(input_signature=(tf.TensorSpec(shape=[None], dtype=tf.int32),))
    def next_collatz(x):
        print("Tracing with", x)
        return tf.where(x % 2 == 0, x // 2, 3 * x + 1)

    assert next_collatz(tf.constant([1, 2])).numpy().tolist() == [4, 1]
    assert next_collatz(tf.constant([1, 2, 3, 4])).numpy().tolist() == [4, 1, 10, 2]
    assert capsys.readouterr().out.count("Tracing with") == 1
    assert next_collatz.experimental_get_tracing_count() == 1


def test_input_signature_of_unknown_rank_accepts_every_rank_like_tensorflow(capsys):
    spec = tf.TensorSpec(None, tf.float32)
    assert spec.shape.rank is None and repr(spec) == (
        "TensorSpec(shape=<unknown>, dtype=tf.float32, name=None)")

    @tf.function(input_signature=[spec, tf.TensorSpec([3, 2], tf.float32)])
    def grads(x, w):
        print("Tracing with", x)
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            y = tf.reduce_sum(tf.matmul(x, w))
        return tape.gradient(y, [x, w])

    for shape in ([4, 5, 3], [5, 3], [2, 4, 5, 3]):
        gx, gw = grads(tf.ones(shape), tf.ones([3, 2]))
        assert gx.shape == shape and gw.numpy().tolist() == [[np.prod(shape[:-1])] * 2] * 3
    assert capsys.readouterr().out.count("Tracing with") == 1
    assert grads.experimental_get_tracing_count() == 1
    with pytest.raises(tf.errors.InvalidArgumentError, match="dtype float32"):
        grads(tf.ones([2, 3], tf.int32), tf.ones([3, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="fully known shapes"):
        grads.get_concrete_function()


def test_reduce_retracing_generalises_after_the_second_shape(capsys):
    @tf.function(reduce_retracing=True)
    def g(x):
        print("Tracing with", x)
        return x * 2

    for n in (1, 3, 5, 7):
        assert g(tf.ones([n], tf.int32)).numpy().tolist() == [2] * n
    assert capsys.readouterr().out.count("Tracing with") == 2
    assert g.experimental_get_tracing_count() == 2
    g(tf.ones([2, 2], tf.int32))  # a new rank is a new trace
    assert g.experimental_get_tracing_count() == 3


def test_reduce_retracing_is_accepted_and_results_are_right():
    @tf.function(reduce_retracing=True)
    def f(x):
        return tf.reduce_sum(x)

    for n in (1, 2, 3):
        assert float(f(tf.ones([n]))) == n


def test_concrete_function_checks_shape_and_dtype():
    @tf.function
    def f(x):
        return x * 2.0

    cf = f.get_concrete_function(tf.TensorSpec([3], tf.float32))
    np.testing.assert_array_equal(cf(tf.constant([1.0, 2.0, 3.0])).numpy(), [2.0, 4.0, 6.0])
    with pytest.raises(ValueError, match=r"f: argument 0 expected a tensor of shape \[3\] and "
                                         r"dtype float32, got shape \[2\]"):
        cf(tf.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match="dtype float64"):
        cf(tf.constant([1.0, 2.0, 3.0], dtype=tf.float64))


def test_methods_are_traced_per_instance():
    class Scaler:
        def __init__(self, k):
            self.k = tf.Variable(k)

        @tf.function
        def __call__(self, x):
            return x * self.k

    a, b = Scaler(2.0), Scaler(3.0)
    assert float(a(tf.constant(1.0))) == 2.0
    assert float(b(tf.constant(1.0))) == 3.0


# --- variables and side effects ------------

def test_variables_are_captured_by_reference_and_assigns_are_ordered():
    v = tf.Variable(1.0)

    @tf.function
    def f(x):
        v.assign(x)
        a = v * 10.0
        v.assign_add(1.0)
        b = v * 10.0
        v.assign_sub(0.5)
        return a, b

    a, b = f(tf.constant(2.0))
    assert (float(a), float(b), float(v)) == (20.0, 30.0, 2.5)
    v.assign(7.0)  # changed outside: the function reads the current value
    a, b = f(tf.constant(1.0))
    assert (float(a), float(b)) == (10.0, 20.0)


def test_constant_assign_runs_on_every_call():
    counter = tf.Variable(0)

    @tf.function
    def step():
        counter.assign_add(1)
        return counter * 1

    for _ in range(3):
        step()
    assert int(counter) == 3


def test_variable_created_on_every_call_is_refused():
    @tf.function
    def f(x):
        v = tf.Variable(1.0)
        return x * v

    f(tf.constant(1.0))  # first trace may create variables
    with pytest.raises(ValueError, match="f: ndflow.function only supports variables created on "
                                         "the first call"):
        f(tf.constant([1.0, 2.0]))


def test_print_runs_on_every_call(capsys):
    @tf.function
    def f(x):
        tf.print("value:", x, output_stream="stdout")
        return x

    f(tf.constant(1.0))
    f(tf.constant(2.0))
    out = capsys.readouterr().out
    assert "value: 1" in out and "value: 2" in out


def test_random_ops_draw_fresh_values_each_call():
    @tf.function
    def f():
        return tf.random.uniform([4])

    a, b = f(), f()
    assert not np.array_equal(a.numpy(), b.numpy())


def test_tensor_dependent_python_if_names_cond():
    @tf.function(autograph=False)  # with AutoGraph (the default) the `if` becomes a cond
    def f(x):
        if x > 0:
            return x
        return -x

    with pytest.raises(TypeError, match=r"f: using a traced tensor as a Python bool .*tf\.cond"):
        f(tf.constant(1.0))


# --- gradients ------------

def test_gradient_inside_function_matches_eager_including_nested_tapes():
    def second(x):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.reduce_sum(x ** 3 + tf.sin(x))
            dy = inner.gradient(y, x)
            total = tf.reduce_sum(dy)
        return dy, outer.gradient(total, x)

    x = tf.constant([0.5, -1.0, 2.0], dtype=tf.float64)
    e1, e2 = second(x)
    t1, t2 = tf.function(second)(x)
    np.testing.assert_allclose(t1.numpy(), e1.numpy(), rtol=1e-12)
    np.testing.assert_allclose(t2.numpy(), e2.numpy(), rtol=1e-12)
    np.testing.assert_allclose(t2.numpy(), 6 * x.numpy() - np.sin(x.numpy()), rtol=1e-12)


def test_training_loop_in_function_matches_eager():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)

    def run(compiled):
        w = tf.Variable(tf.zeros((3, 1)))
        b = tf.Variable(tf.zeros((1,)))

        def step(xb, yb):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(tf.matmul(xb, w) + b - yb))
            gw, gb = tape.gradient(loss, [w, b])
            w.assign_sub(0.1 * gw)
            b.assign_sub(0.1 * gb)
            return loss

        fn = tf.function(step) if compiled else step
        for _ in range(50):
            loss = fn(tf.constant(x), tf.constant(y))
        return float(loss), w.numpy()

    l_eager, w_eager = run(False)
    l_graph, w_graph = run(True)
    assert l_graph < 1e-2
    np.testing.assert_allclose(w_graph, w_eager, rtol=1e-5, atol=1e-6)


# --- control flow ------------

def test_cond_eager_traced_and_gradient():
    def f(x):
        return tf.cond(x > 0.0, lambda: x * x, lambda: -3.0 * x)

    ff = tf.function(f)
    for v in (2.0, -2.0):
        assert float(ff(tf.constant(v))) == float(f(tf.constant(v)))

    def g(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = f(x)
        return tape.gradient(y, x)

    assert float(tf.function(g)(tf.constant(2.0))) == 4.0
    assert float(tf.function(g)(tf.constant(-2.0))) == -3.0
    assert float(g(tf.constant(-2.0))) == -3.0


def test_while_loop_eager_and_traced():
    def f(n):
        return tf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s + i),
                             [tf.constant(0), tf.constant(0)])

    eager = f(tf.constant(10))
    traced = tf.function(f)(tf.constant(10))
    assert [int(v) for v in eager] == [10, 45] == [int(v) for v in traced]
    assert [int(v) for v in tf.function(f)(tf.constant(4))] == [4, 6]


def test_while_loop_gradient_eagerly():
    x = tf.constant(1.5)
    with tf.GradientTape() as tape:
        tape.watch(x)
        (i, y) = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * x),
                               [tf.constant(0), tf.constant(1.0)])
    assert float(tape.gradient(y, x)) == pytest.approx(3 * 1.5**2)


# --- passes and executor ------------

def test_graph_and_code_can_be_printed():
    @tf.function
    def f(x):
        return tf.nn.relu(x) * 2.0

    cf = f.get_concrete_function(tf.TensorSpec([3], tf.float32))
    text = str(cf.graph)
    # relu and the multiply run as one fused element-wise node
    assert "fused_elementwise(%0" in text and "multiply(maximum(x, 0), 2.0)" in text
    assert cf.code.startswith("def run(a0):")


def test_passes_fold_cse_and_dce():
    c = tf.constant([1.0, 2.0])

    @tf.function
    def f(x):
        unused = tf.exp(x) * 3.0  # dead
        a = tf.sin(x)
        b = tf.sin(x)  # same as a
        k = tf.exp(c) + 1.0  # all constant: folded at trace time
        del unused
        return a + b + k

    cf = f.get_concrete_function(tf.TensorSpec([2], tf.float32))
    from ndflow.core.elementwise import calls

    (node,) = cf.graph.nodes  # one fused node: sin once (CSE), two adds, exp folded away
    assert calls(node.attrs["expr"]) == 3 and "exp(" not in str(cf.graph)
    x = np.array([0.3, 0.7], np.float32)
    np.testing.assert_allclose(cf(x).numpy(), 2 * np.sin(x) + np.exp([1.0, 2.0]) + 1, rtol=1e-6)


def test_dce_counts_removed_nodes():
    g = Graph("g")
    assert passes.eliminate_dead_code(g) == 0


def test_steady_state_calls_allocate_little():
    rng = np.random.default_rng(0)
    w = tf.Variable(rng.standard_normal((256, 256)).astype(np.float32))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            h = tf.nn.relu(tf.matmul(x, w))
            loss = tf.reduce_sum(h * h)
        g = tape.gradient(loss, w)
        w.assign_sub(1e-6 * g)
        return loss

    x = tf.constant(rng.standard_normal((128, 256)).astype(np.float32))
    step(x)
    step(x)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step(x)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    intermediates = 128 * 256 * 4  # one (128, 256) float32 array
    # eager would allocate matmul, relu, square, grads...; pooled buffers keep this small
    assert peak < 3 * intermediates, peak


def test_compiled_matches_eager_on_mlp_and_buffers_are_reused():
    rng = np.random.default_rng(1)
    w1 = tf.Variable(rng.standard_normal((64, 128)).astype(np.float32) * 0.1)
    w2 = tf.Variable(rng.standard_normal((128, 10)).astype(np.float32) * 0.1)
    x = tf.constant(rng.standard_normal((128, 64)).astype(np.float32))
    y = tf.constant(rng.integers(0, 10, 128).astype(np.int32))

    def grads(x, y):
        with tf.GradientTape() as tape:
            logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1)), w2)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        return tape.gradient(loss, [w1, w2])

    f = tf.function(grads)
    for _ in range(3):  # repeated calls reuse buffers: results must stay right
        for e, c in zip(grads(x, y), f(x, y)):
            np.testing.assert_allclose(c.numpy(), e.numpy(), rtol=1e-5, atol=1e-7)
    assert "out=buf" in f.get_concrete_function(x, y).code


def test_specialisations_share_buffers_and_stay_correct():
    rng = np.random.default_rng(2)
    w0 = rng.standard_normal((96, 64)).astype(np.float32)

    def make():
        w = tf.Variable(w0)

        def step(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.square(tf.matmul(x, w)))
            w.assign_sub(1e-4 * tape.gradient(loss, w))
            return loss

        return w, step

    w_e, step_e = make()
    w_g, step_g = make()
    f = tf.function(step_g)
    xa = tf.constant(rng.standard_normal((128, 96)).astype(np.float32))
    xb = tf.constant(rng.standard_normal((40, 96)).astype(np.float32))
    for _ in range(2):  # alternate the two shapes: shared buffers must not leak values
        for x in (xa, xb):
            np.testing.assert_allclose(float(f(x)), float(step_e(x)), rtol=1e-4)
    np.testing.assert_allclose(w_g.numpy(), w_e.numpy(), rtol=1e-4, atol=1e-5)
    assert f.experimental_get_tracing_count() == 2
    # the two specialisations share memory slots (ranked by size): the pool holds no more
    # slots than the larger one has buffers
    counts = [len(cf._buffers) for cf in f._cache.values()]
    assert len(f._buffer_pool) == max(counts) > 0


def test_trace_time_arguments_are_not_kept_by_the_concrete_function():
    import gc
    import weakref

    f = tf.function(lambda x: tf.reduce_sum(x * 2.0))
    x = np.ones((64, 64), np.float32)
    ref = weakref.ref(x)
    assert float(f(x)) == 2.0 * 64 * 64
    del x
    gc.collect()
    assert ref() is None  # the traced call's array is not held by the compiled function


def test_released_buffers_are_allocated_again_and_results_stay_right():
    rng = np.random.default_rng(3)
    w = tf.Variable(rng.standard_normal((64, 128)).astype(np.float32))

    def step(x):
        return tf.reduce_sum(tf.nn.relu(tf.matmul(x, w)) * 2.0)

    f = tf.function(step)
    xa = tf.constant(rng.standard_normal((128, 64)).astype(np.float32))
    xb = tf.constant(rng.standard_normal((40, 64)).astype(np.float32))
    expected = [float(step(xa)), float(step(xb))]
    assert [float(f(xa)), float(f(xb))] == pytest.approx(expected, rel=1e-5)
    cf = f.get_concrete_function(xa)
    assert f._buffer_pool and "out=buf" in cf.code
    f._release_buffers()
    assert not f._buffer_pool  # the arrays went back to the system
    f._release_buffers()  # idempotent
    for _ in range(2):
        assert [float(f(xb)), float(f(xa))] == pytest.approx(expected[::-1], rel=1e-5)
    assert f._buffer_pool and f.experimental_get_tracing_count() == 2
    assert "out=buf" in cf.code and "matmul" in str(cf.graph)


def test_variable_slices_are_read_when_the_function_runs():
    """`v[0]` inside a traced function reads the variable on every call (it was folded into
    the graph as a constant, so compiled training kept using the first step's bias rows)."""
    v = tf.Variable(np.array([[1.0, 2.0], [3.0, 4.0]], "float32"))

    @tf.function
    def f(x):
        return x * v[0] + v[1, 1]

    x = tf.constant(np.ones(2, "float32"))
    np.testing.assert_array_equal(f(x).numpy(), [5.0, 6.0])
    v.assign(np.array([[10.0, 20.0], [30.0, 40.0]], "float32"))
    np.testing.assert_array_equal(f(x).numpy(), [50.0, 60.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(v[0] * 2.0)
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [[2.0, 2.0], [0.0, 0.0]])


def test_one_large_ufunc_node_runs_on_the_pool_with_numpys_values():
    from ndflow.backend import parallel

    @tf.function
    def f(x, b):
        return x + b  # a bias add: one ufunc call on a large output

    x = np.random.default_rng(0).standard_normal((700, 300)).astype(np.float32)
    b = np.arange(300, dtype=np.float32)
    cf = f.get_concrete_function(tf.TensorSpec([700, 300], tf.float32),
                                 tf.TensorSpec([300], tf.float32))
    assert "_pew(np.add," in cf.code
    before = parallel.requested_threads()
    try:
        for n in (1, 3):
            parallel.set_threads(n)
            np.testing.assert_array_equal(f(x, b).numpy(), x + b)
    finally:
        parallel.set_threads(before)


@pytest.mark.parametrize("split", [False, True])
def test_a_bias_add_after_a_product_goes_into_the_product_with_the_same_values(split):
    from ndflow.backend import parallel
    from ndflow.graph import executor

    w = tf.Variable(np.random.default_rng(1).standard_normal((64, 256)).astype(np.float32))
    b = tf.Variable(np.arange(256, dtype=np.float32) / 7)

    @tf.function
    def f(x):
        return tf.matmul(x, w) + b

    x = np.random.default_rng(2).standard_normal((700, 64)).astype(np.float32)
    cf = f.get_concrete_function(tf.TensorSpec([700, 64], tf.float32))
    assert "bias=" in cf.code and "add" not in cf.code
    want = x @ w.numpy()
    want += b.numpy()
    before = parallel.requested_threads()
    try:
        parallel.set_threads(3)
        run = parallel.with_split_products(lambda: f(x).numpy()) if split else \
            (lambda: f(x).numpy())
        np.testing.assert_array_equal(run(), want)
    finally:
        parallel.set_threads(before)
    assert executor.splits_products(cf.graph) in (True, False)


def test_a_dense_chain_with_bias_adds_between_pooled_buffers_keeps_numpys_values():
    ws = [np.random.default_rng(i).standard_normal((64, 64)).astype(np.float32) / 8
          for i in range(3)]
    bs = [np.full(64, 0.1 * i, np.float32) for i in range(3)]
    vs = [(tf.Variable(w), tf.Variable(b)) for w, b in zip(ws, bs)]

    @tf.function
    def f(x):
        for w, b in vs:
            x = tf.nn.relu(tf.matmul(x, w) + b) + tf.matmul(x, w) + b
        return x

    x = np.random.default_rng(9).standard_normal((3000, 64)).astype(np.float32)
    want = x
    for w, b in zip(ws, bs):
        p = want @ w
        want = np.maximum(p + b, 0) + (p + b)
    np.testing.assert_allclose(f(x).numpy(), want, rtol=1e-5, atol=1e-5)
