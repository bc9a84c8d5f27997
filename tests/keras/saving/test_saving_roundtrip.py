"""Round trips: save -> load gives identical predictions and identical continued training.

For every exported layer type and for every model style (Sequential, deferred Sequential,
Functional with several inputs/outputs, nested models, shared layers, registered subclassed
models and layers), a compiled model is trained a little, saved to `.keras`, loaded, and then
both copies train 5 more optimizer steps: weights and optimizer variables must be equal bit
for bit (CPU), which needs the optimizer state (incl. iterations) to come back exactly.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras

L = keras.layers
N = 40  # samples; batch 8 -> 5 optimizer steps per epoch


def double_it(x):
    """A named function for Lambda layers (loaded through custom_objects)."""
    return x * 2.0


# --- the layer table ------------------------------------------------------------------------------
# name -> (factory, input shape without batch, input dtype, n_inputs)
def _merge(cls, **kw):
    return lambda: cls(**kw)


LAYER_CASES: dict = {
    "Dense": (lambda: L.Dense(4, activation="relu"), (5,), "float32", 1),
    "Embedding": (lambda: L.Embedding(11, 3), (6,), "int32", 1),
    "Activation": (lambda: L.Activation("tanh"), (5,), "float32", 1),
    "ActivityRegularization": (lambda: L.ActivityRegularization(l1=0.01), (5,), "float32", 1),
    "BatchNormalization": (lambda: L.BatchNormalization(momentum=0.8), (5,), "float32", 1),
    "LayerNormalization": (lambda: L.LayerNormalization(), (5,), "float32", 1),
    "UnitNormalization": (lambda: L.UnitNormalization(), (5,), "float32", 1),
    "Normalization": (lambda: L.Normalization(mean=0.5, variance=2.0), (5,), "float32", 1),
    "Rescaling": (lambda: L.Rescaling(0.5, offset=1.0), (5,), "float32", 1),
    "Dropout": (lambda: L.Dropout(0.3), (5,), "float32", 1),
    "GaussianDropout": (lambda: L.GaussianDropout(0.2), (5,), "float32", 1),
    "GaussianNoise": (lambda: L.GaussianNoise(0.1), (5,), "float32", 1),
    "SpatialDropout1D": (lambda: L.SpatialDropout1D(0.3), (6, 4), "float32", 1),
    "SpatialDropout2D": (lambda: L.SpatialDropout2D(0.3), (5, 5, 3), "float32", 1),
    "SpatialDropout3D": (lambda: L.SpatialDropout3D(0.3), (3, 3, 3, 2), "float32", 1),
    "Flatten": (lambda: L.Flatten(), (3, 4), "float32", 1),
    "Reshape": (lambda: L.Reshape((2, 6)), (3, 4), "float32", 1),
    "Permute": (lambda: L.Permute((2, 1)), (3, 4), "float32", 1),
    "RepeatVector": (lambda: L.RepeatVector(3), (5,), "float32", 1),
    "Identity": (lambda: L.Identity(), (5,), "float32", 1),
    "ELU": (lambda: L.ELU(0.5), (5,), "float32", 1),
    "LeakyReLU": (lambda: L.LeakyReLU(negative_slope=0.2), (5,), "float32", 1),
    "PReLU": (lambda: L.PReLU(), (5,), "float32", 1),
    "ReLU": (lambda: L.ReLU(max_value=2.0), (5,), "float32", 1),
    "Softmax": (lambda: L.Softmax(), (5,), "float32", 1),
    "Lambda": (lambda: L.Lambda(double_it), (5,), "float32", 1),
    "Add": (_merge(L.Add), (5,), "float32", 2),
    "Subtract": (_merge(L.Subtract), (5,), "float32", 2),
    "Multiply": (_merge(L.Multiply), (5,), "float32", 2),
    "Average": (_merge(L.Average), (5,), "float32", 2),
    "Maximum": (_merge(L.Maximum), (5,), "float32", 2),
    "Minimum": (_merge(L.Minimum), (5,), "float32", 2),
    "Concatenate": (_merge(L.Concatenate), (5,), "float32", 2),
    "Dot": (_merge(L.Dot, axes=1), (5,), "float32", 2),
    "Masking": (lambda: L.Masking(0.0), (6, 4), "float32", 1),
    "CenterCrop": (lambda: L.CenterCrop(4, 4), (6, 6, 3), "float32", 1),
    "Resizing": (lambda: L.Resizing(4, 5), (6, 6, 3), "float32", 1),
    "RandomBrightness": (lambda: L.RandomBrightness(0.2, value_range=(0, 1)), (6, 6, 3),
                         "float32", 1),
    "RandomContrast": (lambda: L.RandomContrast(0.2, value_range=(0, 1)), (6, 6, 3),
                       "float32", 1),
    "RandomCrop": (lambda: L.RandomCrop(4, 4), (6, 6, 3), "float32", 1),
    "RandomFlip": (lambda: L.RandomFlip(), (6, 6, 3), "float32", 1),
    "RandomRotation": (lambda: L.RandomRotation(0.1), (6, 6, 3), "float32", 1),
    "RandomTranslation": (lambda: L.RandomTranslation(0.1, 0.1), (6, 6, 3), "float32", 1),
    "RandomZoom": (lambda: L.RandomZoom(0.1), (6, 6, 3), "float32", 1),
    # image augmentation layers (Keras 3 names; identities or fixed maps at inference)
    **{name: (factory, (8, 8, 3), "float32", 1) for name, factory in {
        "AugMix": lambda: L.AugMix(value_range=(-3, 3), seed=1),
        "AutoContrast": lambda: L.AutoContrast(value_range=(-3, 3)),
        "ContrastLimitedAdaptiveHistogramEqualization":
            lambda: L.ContrastLimitedAdaptiveHistogramEqualization((-3, 3), 2.0, (2, 2)),
        "CutMix": lambda: L.CutMix(seed=1), "Equalization": lambda: L.Equalization((-3, 3)),
        "MaxNumBoundingBoxes": lambda: L.MaxNumBoundingBoxes(4, bounding_box_format="xyxy"),
        "MixUp": lambda: L.MixUp(seed=1), "RandAugment": lambda: L.RandAugment((-3, 3)),
        "RandomColorDegeneration": lambda: L.RandomColorDegeneration(0.5, (-3, 3)),
        "RandomColorJitter": lambda: L.RandomColorJitter((-3, 3), hue_factor=0.2),
        "RandomElasticTransform": lambda: L.RandomElasticTransform(value_range=(-3, 3)),
        "RandomErasing": lambda: L.RandomErasing(value_range=(-3, 3)),
        "RandomGaussianBlur": lambda: L.RandomGaussianBlur(value_range=(-3, 3)),
        "RandomGrayscale": lambda: L.RandomGrayscale(), "RandomHue": lambda: L.RandomHue(0.3),
        "RandomInvert": lambda: L.RandomInvert(),
        "RandomPerspective": lambda: L.RandomPerspective(),
        "RandomPosterization": lambda: L.RandomPosterization(4, (-3, 3)),
        "RandomSaturation": lambda: L.RandomSaturation(0.5),
        "RandomSharpness": lambda: L.RandomSharpness(0.5, (-3, 3)),
        "RandomShear": lambda: L.RandomShear(0.2, 0.2), "Solarization": lambda: L.Solarization(),
    }.items()},
    # recurrent and wrapper layers (used when they exist)
    "SimpleRNN": (lambda: L.SimpleRNN(3, return_sequences=True), (6, 4), "float32", 1),
    "LSTM": (lambda: L.LSTM(3), (6, 4), "float32", 1),
    "GRU": (lambda: L.GRU(3), (6, 4), "float32", 1),
    "Bidirectional": (lambda: L.Bidirectional(L.LSTM(3)), (6, 4), "float32", 1),
    "TimeDistributed": (lambda: L.TimeDistributed(L.Dense(2)), (6, 4), "float32", 1),
    "Attention": (_merge(L.Attention) if hasattr(L, "Attention") else None, (6, 4),
                  "float32", 2),
    "AdditiveAttention": (_merge(L.AdditiveAttention) if hasattr(L, "AdditiveAttention")
                          else None, (6, 4), "float32", 2),
    "MultiHeadAttention": (lambda: _SelfAttention(), (6, 4), "float32", 1),
    # sequences of feature maps: (time, *spatial, channels)
    "ConvLSTM1D": (lambda: L.ConvLSTM1D(2, 2), (3, 7, 3), "float32", 1),
    "ConvLSTM2D": (lambda: L.ConvLSTM2D(2, 2), (3, 6, 6, 3), "float32", 1),
    "ConvLSTM3D": (lambda: L.ConvLSTM3D(2, 2), (2, 4, 4, 4, 2), "float32", 1),
    "EinsumDense": (lambda: L.EinsumDense("abc,cd->abd", (None, 3), bias_axes="d"), (6, 4),
                    "float32", 1),
}


@keras.saving.register_keras_serializable(package="ndflow_tests")
class _SelfAttention(L.Layer):
    """MultiHeadAttention called as self-attention (query = value)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.mha = L.MultiHeadAttention(num_heads=2, key_dim=3)

    def call(self, x):
        return self.mha(x, x)

# Layers built by name pattern: 1D/2D/3D convolution, pooling, padding, cropping, upsampling.
_SPATIAL = {"1D": (7, 3), "2D": (6, 6, 3), "3D": (4, 4, 4, 2)}


def _spatial_case(name: str):
    cls = getattr(L, name)
    dim = next((d for d in _SPATIAL if d in name), None)
    if dim is None:
        return None
    shape = _SPATIAL[dim]
    params = inspect.signature(cls.__init__).parameters
    kw: dict = {}
    if "filters" in params:
        kw["filters"] = 2
    if "kernel_size" in params:
        kw["kernel_size"] = 2
    if name.startswith(("MaxPool", "AveragePool")):
        kw["pool_size"] = 2
    if name.startswith("Cropping"):
        kw["cropping"] = 1
    return (lambda: cls(**kw)), shape, "float32", 1


def _layer_classes() -> dict:
    out: dict = {}
    for name in sorted(dir(L)):
        obj = getattr(L, name)
        if not (inspect.isclass(obj) and issubclass(obj, L.Layer)) or obj in (
                L.Layer, L.InputLayer):
            continue
        if inspect.isabstract(obj) or name.startswith("_"):
            continue
        out.setdefault(obj, name)  # first (alphabetical) name of each class
    return {name: cls for cls, name in out.items()}


def _case(name: str):
    if name in LAYER_CASES:
        return LAYER_CASES[name]
    return _spatial_case(name)


def _data(shape: tuple, dtype: str, n: int, seed: int):
    rng = np.random.default_rng(seed)
    if dtype == "int32":
        return rng.integers(0, 10, (N,) + shape).astype("int32")
    return [rng.standard_normal((N,) + shape).astype("float32") for _ in range(n)]


def _layer_model(name: str):
    factory, shape, dtype, n_inputs = _case(name)
    inputs = [keras.Input(shape, dtype=dtype) for _ in range(n_inputs)]
    layer = factory()
    h = layer(inputs if n_inputs > 1 else inputs[0])
    if dtype == "int32" or not layer.weights:
        h = L.Dense(3, name="head")(h)
    model = keras.Model(inputs if n_inputs > 1 else inputs[0], h)
    x = _data(shape, dtype, n_inputs, 0)
    x = x[0] if isinstance(x, list) and n_inputs == 1 else x
    y = np.random.default_rng(1).standard_normal((N,) + tuple(model.output_shape[1:])).astype(
        "float32")
    return model, x, y


def _assert_same_state(a, b, what: str) -> None:
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb), what
    for i, (p, q) in enumerate(zip(wa, wb)):
        assert p.dtype == q.dtype and p.shape == q.shape, (what, i)
        assert np.array_equal(p, q), f"{what}: weight {i} differs by {np.abs(p - q).max()}"
    if a.optimizer is not None:
        va, vb = a.optimizer.variables, b.optimizer.variables
        assert len(va) == len(vb), what
        for i, (p, q) in enumerate(zip(va, vb)):
            assert np.array_equal(p.numpy(), q.numpy()), f"{what}: optimizer variable {i}"


def check_round_trip(model, x, y, tmp_path, custom_objects=None, optimizer=None, loss="mse",
                     metrics=("mae",), safe_mode=True, xfail_if_fit_fails=False):
    model.compile(optimizer=optimizer or keras.optimizers.Adam(1e-2), loss=loss,
                  metrics=list(metrics))
    try:
        model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    except Exception as e:  # noqa: BLE001
        if not xfail_if_fit_fails:
            raise
        # training itself is broken for this layer (nothing saved yet): not a saving bug
        pytest.xfail(f"fit fails before any saving: {type(e).__name__}: {str(e)[:200]}")
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects=custom_objects, safe_mode=safe_mode)
    assert type(loaded) is type(model)
    _assert_same_state(model, loaded, "after load")
    assert int(loaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy())
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    # loss and metrics came back too
    from ndflow.keras.saving.serialization_lib import get_compile_config

    assert get_compile_config(loaded) == get_compile_config(model)
    p1 = model.predict(x, verbose=0)
    p2 = loaded.predict(x, verbose=0)
    for a, b in zip(tf.nest.flatten(p1) if hasattr(tf, "nest") else [p1],
                    tf.nest.flatten(p2) if hasattr(tf, "nest") else [p2]):
        assert np.array_equal(np.asarray(a), np.asarray(b)), "predictions differ"
    # five more optimizer steps on both: bit-identical
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    loaded.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    assert int(loaded.optimizer.iterations.numpy()) == 10
    _assert_same_state(model, loaded, "after 5 more steps")
    return loaded


LAYER_NAMES = sorted(_layer_classes())


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_layer_round_trip(name, tmp_path):
    if _case(name) is None:
        pytest.skip(f"no test case for layer {name} yet (add it to LAYER_CASES)")
    keras.utils.set_random_seed(0)
    model, x, y = _layer_model(name)
    extra = {"custom_objects": {"double_it": double_it}} if name == "Lambda" else {}
    check_round_trip(model, x, y, tmp_path, xfail_if_fit_fails=True, **extra)


def test_most_layers_have_cases():
    missing = [n for n in LAYER_NAMES if _case(n) is None]
    assert len(missing) <= len(LAYER_NAMES) // 4, f"layers without a round-trip case: {missing}"


# --- model styles -----------------------------------------------------------------------------
def _xy(shape=(6,), out=2, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N,) + shape).astype("float32"),
            rng.standard_normal((N, out)).astype("float32"))


def test_sequential_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    x, y = _xy()
    model = keras.Sequential([keras.Input((6,)), L.Dense(8, activation="relu"),
                              L.BatchNormalization(), L.Dropout(0.2), L.Dense(2)])
    check_round_trip(model, x, y, tmp_path, optimizer=keras.optimizers.RMSprop(1e-2))


def test_deferred_sequential_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    x, y = _xy()
    model = keras.Sequential([L.Dense(8, activation="relu"), L.Dense(2)])
    model(x[:2])  # built on its first call, no Input
    check_round_trip(model, x, y, tmp_path, optimizer=keras.optimizers.SGD(0.05, momentum=0.9))


@pytest.mark.parametrize("opt", ["Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adadelta",
                                 "Adamax", "Nadam", "Lion", "Ftrl"])
def test_every_optimizer_round_trip(opt, tmp_path):
    keras.utils.set_random_seed(0)
    x, y = _xy()
    model = keras.Sequential([keras.Input((6,)), L.Dense(4), L.Dense(2)])
    check_round_trip(model, x, y, tmp_path, optimizer=getattr(keras.optimizers, opt)())


def test_schedule_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    x, y = _xy()
    model = keras.Sequential([keras.Input((6,)), L.Dense(2)])
    sched = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5)
    loaded = check_round_trip(model, x, y, tmp_path, optimizer=keras.optimizers.SGD(sched))
    assert type(loaded.optimizer._learning_rate).__name__ == "ExponentialDecay"


def test_functional_multi_io_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    a = keras.Input((6,), name="a")
    b = keras.Input((3,), name="b")
    shared = L.Dense(5, activation="tanh", name="shared")
    h = L.Concatenate()([shared(a), L.Dense(5)(b)])
    h2 = shared(L.Dense(6)(h))  # a shared layer, called twice
    o1 = L.Dense(2, name="o1")(h2)
    o2 = L.Dense(1, name="o2")(L.Add()([h, L.Dense(10)(h)]))
    model = keras.Model([a, b], [o1, o2])
    rng = np.random.default_rng(3)
    x = [rng.standard_normal((N, 6)).astype("float32"),
         rng.standard_normal((N, 3)).astype("float32")]
    y = [rng.standard_normal((N, 2)).astype("float32"),
         rng.standard_normal((N, 1)).astype("float32")]
    check_round_trip(model, x, y, tmp_path, loss=["mse", "mae"], metrics=())


def test_nested_models_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    inner_seq = keras.Sequential([keras.Input((6,)), L.Dense(4, activation="relu"),
                                  L.Dense(4)], name="inner_seq")
    i = keras.Input((4,))
    inner_fn = keras.Model(i, L.Dense(3)(L.BatchNormalization()(i)), name="inner_fn")
    x_in = keras.Input((6,))
    out = L.Dense(2)(inner_fn(inner_seq(x_in)))
    model = keras.Model(x_in, out)
    x, y = _xy()
    loaded = check_round_trip(model, x, y, tmp_path)
    assert [type(layer).__name__ for layer in loaded.layers][1:3] == ["Sequential",
                                                                      "Functional"]


def test_functional_inside_sequential_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    i = keras.Input((6,))
    block = keras.Model(i, L.Dense(5, activation="relu")(i), name="block")
    model = keras.Sequential([keras.Input((6,)), block, L.Dense(2)])
    x, y = _xy()
    check_round_trip(model, x, y, tmp_path)


@keras.saving.register_keras_serializable(package="ndflow_tests")
class ScaledResidual(keras.layers.Layer):
    def __init__(self, units=4, scale=0.5, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.scale = scale
        self.proj = L.Dense(units)

    def build(self, input_shape):
        self.alpha = self.add_weight(shape=(self.units,), initializer="ones", name="alpha")
        self.proj.build(input_shape)

    def call(self, x):
        return self.proj(x) * self.alpha * self.scale

    def get_config(self):
        return {**super().get_config(), "units": self.units, "scale": self.scale}


@keras.saving.register_keras_serializable(package="ndflow_tests")
class TwoTower(keras.Model):
    def __init__(self, hidden=6, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.left = L.Dense(hidden, activation="relu")
        self.right = ScaledResidual(hidden)
        self.norm = L.BatchNormalization()
        self._head = L.Dense(2)

    def call(self, x, training=None):
        return self._head(self.norm(self.left(x) + self.right(x), training=training))

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden}


def test_subclassed_model_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    x, y = _xy()
    model = TwoTower(hidden=5)
    model(x[:2])
    loaded = check_round_trip(model, x, y, tmp_path)
    assert loaded.hidden == 5


def test_custom_layer_in_functional_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    i = keras.Input((6,))
    model = keras.Model(i, L.Dense(2)(ScaledResidual(3, scale=2.0)(i)))
    x, y = _xy()
    check_round_trip(model, x, y, tmp_path)


def test_unregistered_class_via_custom_objects(tmp_path):
    class Plain(keras.layers.Layer):
        def call(self, x):
            return x * 3.0

    i = keras.Input((4,))
    model = keras.Model(i, L.Dense(1)(Plain()(i)))
    path = str(tmp_path / "m.keras")
    model.save(path)
    with pytest.raises(ValueError, match="Plain"):
        keras.models.load_model(path)
    loaded = keras.models.load_model(path, custom_objects={"Plain": Plain})
    x = np.ones((2, 4), "float32")
    assert np.array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    with keras.saving.CustomObjectScope({"Plain": Plain}):
        keras.models.load_model(path)


def test_uncompiled_and_compile_false(tmp_path):
    model = keras.Sequential([keras.Input((3,)), L.Dense(2)])
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.optimizer is None
    model.compile("adam", "mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    model.save(path)
    assert keras.models.load_model(path, compile=False).optimizer is None
    assert keras.models.load_model(path).optimizer is not None


def test_weights_only_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    x, y = _xy()
    make = lambda: keras.Sequential([keras.Input((6,)), L.Dense(4), L.BatchNormalization(),
                                     L.Dense(2)])
    a = make()
    a.compile(keras.optimizers.Adam(1e-2), "mse")
    a.fit(x, y, batch_size=8, verbose=0, shuffle=False)
    path = str(tmp_path / "w.weights.h5")
    a.save_weights(path)
    b = make()
    b.compile(keras.optimizers.Adam(1e-2), "mse")
    b.load_weights(path)
    _assert_same_state(a, b, "weights file")  # incl. the optimizer (as in Keras 3)
    a.fit(x, y, batch_size=8, verbose=0, shuffle=False)
    b.fit(x, y, batch_size=8, verbose=0, shuffle=False)
    _assert_same_state(a, b, "after training")
    # the weights inside a .keras file load too
    a.save(str(tmp_path / "m.keras"))
    c = make()
    c.load_weights(str(tmp_path / "m.keras"))
    assert all(np.array_equal(p, q) for p, q in zip(a.get_weights(), c.get_weights()))
    with pytest.raises(ValueError, match=".weights.h5"):
        a.save_weights(str(tmp_path / "w.h5"))


def test_load_weights_mismatch_is_clear(tmp_path):
    a = keras.Sequential([keras.Input((6,)), L.Dense(4), L.Dense(2)])
    path = str(tmp_path / "w.weights.h5")
    a.save_weights(path)
    b = keras.Sequential([keras.Input((6,)), L.Dense(5), L.Dense(2)])
    before = b.get_weights()
    with pytest.raises(ValueError, match=r"shape \(6, 5\)"):
        b.load_weights(path)
    # nothing was half-assigned
    assert all(np.array_equal(p, q) for p, q in zip(before, b.get_weights()))
    c = keras.Sequential([keras.Input((6,)), L.Dense(4)])
    with pytest.raises(ValueError):
        c.load_weights(path)
    with pytest.warns(UserWarning):
        b.load_weights(path, skip_mismatch=True)


def test_save_requires_keras_suffix(tmp_path):
    model = keras.Sequential([keras.Input((3,)), L.Dense(2)])
    with pytest.raises(ValueError, match=".keras"):
        model.save(str(tmp_path / "m.h5"))
    with pytest.raises(ValueError, match=".keras"):
        model.save(str(tmp_path / "m.zip"))
    with pytest.raises(ValueError, match="not found"):
        keras.models.load_model(str(tmp_path / "nope.keras"))


def test_functional_dict_io_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    a = keras.Input((4,), name="a")
    b = keras.Input((2,), name="b")
    h = L.Concatenate()([L.Dense(3)(a), b])
    model = keras.Model({"a": a, "b": b}, {"score": L.Dense(1, name="score")(h),
                                            "vec": L.Dense(2, name="vec")(h)})
    rng = np.random.default_rng(5)
    x = {"a": rng.standard_normal((N, 4)).astype("float32"),
         "b": rng.standard_normal((N, 2)).astype("float32")}
    y = {"score": rng.standard_normal((N, 1)).astype("float32"),
         "vec": rng.standard_normal((N, 2)).astype("float32")}
    check_round_trip(model, x, y, tmp_path, loss={"score": "mse", "vec": "mae"}, metrics=())


def test_mixed_precision_layer_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), L.Dense(4, dtype="mixed_float16"),
                              L.Dense(2, dtype="float32")])
    x, y = _xy()
    loaded = check_round_trip(model, x, y, tmp_path)
    assert loaded.layers[0].compute_dtype == "float16"
    assert loaded.layers[0].dtype == "float32"


def test_load_weights_into_unbuilt_model_is_clear(tmp_path):
    a = keras.Sequential([keras.Input((3,)), L.Dense(2)])
    path = str(tmp_path / "w.weights.h5")
    a.save_weights(path)
    b = keras.Sequential([L.Dense(2)])
    with pytest.raises(ValueError, match="not built"):
        b.load_weights(path)
    b.build((None, 3))
    b.load_weights(path)
    assert all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights()))


def test_compiled_but_never_trained_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), L.Dense(2)])
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert int(loaded.optimizer.iterations.numpy()) == 0
    x, y = _xy()
    model.fit(x, y, batch_size=8, shuffle=False, verbose=0)
    loaded.fit(x, y, batch_size=8, shuffle=False, verbose=0)
    _assert_same_state(model, loaded, "after 5 steps")
