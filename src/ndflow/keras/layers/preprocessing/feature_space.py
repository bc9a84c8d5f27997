"""`keras.utils.FeatureSpace`: one object that preprocesses and encodes a dict of structured
features (numbers, integer and string categories, hashed values, feature crosses), as Keras 3
does: `adapt` it on a dataset, call it on a dict (or map a `Dataset` with it), or take its
inputs and encoded features into a Functional model.

>>> import numpy as np
>>> from ndflow import keras
>>> FS = keras.utils.FeatureSpace
>>> fs = FS({"age": FS.float_normalized(), "city": FS.string_categorical()})
>>> fs.adapt({"age": np.array([20.0, 30.0, 40.0]), "city": np.array(["a", "b", "a"])})
>>> fs({"age": [30.0], "city": ["b"]}).numpy().round(3).tolist()
[[0.0, 0.0, 0.0, 1.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import SymbolicTensor, Tensor
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.preprocessing import categorical_utils as cu

_FEATURE_TYPES = ("float", "float_normalized", "float_rescaled", "float_discretized",
                  "integer_categorical", "string_categorical", "integer_hashed",
                  "string_hashed")
_AUTO_NAMES: dict = {}
_KERAS_MODULE = "keras.src.layers.preprocessing.feature_space"


def _auto_name(prefix: str) -> str:
    # Keras's auto_name: "float", then "float_1", "float_2", ...
    n = _AUTO_NAMES.get(prefix, 0)
    _AUTO_NAMES[prefix] = n + 1
    return prefix if n == 0 else f"{prefix}_{n}"


def _layers() -> Any:
    from ndflow.keras import layers

    return layers


class Cross:
    """A crossing of features, hashed into `crossing_dim` bins (see `FeatureSpace.cross`)."""

    def __init__(self, feature_names: Any, crossing_dim: int, output_mode: str = "one_hot"
                 ) -> None:
        if output_mode not in ("int", "one_hot"):
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{{'int', 'one_hot'}}. Received: output_mode={output_mode}")
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim
        self.output_mode = output_mode

    @property
    def name(self) -> str:
        return "_X_".join(self.feature_names)

    def get_config(self) -> dict:
        return {"feature_names": self.feature_names, "crossing_dim": self.crossing_dim,
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config: dict) -> Cross:
        return cls(**config)


class Feature:
    """One feature: its input dtype, its preprocessing layer and how it is encoded
    ("int", "one_hot" or "float") (see `FeatureSpace.feature`)."""

    def __init__(self, dtype: str, preprocessor: Any, output_mode: str) -> None:
        if output_mode not in ("int", "one_hot", "float"):
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{{'int', 'one_hot', 'float'}}. Received: output_mode="
                             f"{output_mode}")
        self.dtype = dtype
        if isinstance(preprocessor, dict):
            preprocessor = _deserialize_preprocessor(preprocessor)
        if not isinstance(preprocessor, Layer):
            raise fail("FeatureSpace.feature", "a Keras layer as `preprocessor`",
                       f"{type(preprocessor).__name__}",
                       "e.g. keras.layers.StringLookup() or keras.layers.Normalization()")
        self.preprocessor = preprocessor
        self.output_mode = output_mode

    def get_config(self) -> dict:
        from ndflow.keras.saving import serialize_keras_object

        pre = serialize_keras_object(self.preprocessor)
        if type(self.preprocessor) in _LOCAL_LAYERS.values():
            pre["module"] = _KERAS_MODULE  # where Keras looks for its own helper layers
        return {"dtype": self.dtype, "preprocessor": pre, "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config: dict) -> Feature:
        return cls(**config)


class TFDIdentity(Layer):
    """The preprocessor of plain float features: returns its input (Keras's name, so
    `.keras` files keep Keras's layout)."""

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)


class TFDConcat(Layer):
    """Concatenates the encoded features along `axis` (Keras's name, as above)."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs: Any) -> Any:
        from ndflow.ops import array as array_ops

        return array_ops.concat(list(inputs), axis=self.axis)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shapes = [tuple(s) for s in input_shape]
        out = list(shapes[0])
        sizes = [s[self.axis] for s in shapes]
        out[self.axis] = None if any(d is None for d in sizes) else sum(sizes)
        return tuple(out)

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config


_LOCAL_LAYERS = {"TFDIdentity": TFDIdentity, "TFDConcat": TFDConcat}


def _deserialize_preprocessor(config: dict) -> Layer:
    # Keras writes its identity/concat helpers under keras.src's feature_space module; they
    # are FeatureSpace's own, so they resolve here rather than through keras.layers
    cls = _LOCAL_LAYERS.get(config.get("class_name"))
    if cls is not None:
        inner = dict(config.get("config") or {})
        inner.pop("trainable", None)
        return cls(**{k: v for k, v in inner.items() if k in ("name", "dtype", "axis")})
    from ndflow.keras.saving import deserialize_keras_object

    return deserialize_keras_object(config)


def _deserialize_part(config: Any, cls: type) -> Any:
    """A `Feature` or `Cross` from its serialized dict (Keras's nesting or a bare config)."""
    if isinstance(config, dict) and "class_name" in config:
        if config["class_name"] != cls.__name__:
            raise fail("FeatureSpace", f"a serialized {cls.__name__}",
                       f"class_name={config['class_name']!r}",
                       "the config was not written by FeatureSpace.get_config()")
        config = config.get("config", {})
    return cls.from_config(dict(config))


class FeatureSpace(Layer):
    """Preprocess and encode structured data (a dict of features) in one object.

    Args:
        features: dict from feature name to its type: a string among "float",
            "float_normalized", "float_rescaled", "float_discretized",
            "integer_categorical", "string_categorical", "integer_hashed", "string_hashed"
            (defaults used), or a `FeatureSpace.<type>(...)` / `FeatureSpace.feature(...)`.
        output_mode: "concat" (one float vector) or "dict" (one encoded tensor per feature).
        crosses: feature crosses: tuples of feature names or `FeatureSpace.cross(...)`.
        crossing_dim: hashing space of crosses given as tuples (default 32).
        hashing_dim: bins of features given as "integer_hashed"/"string_hashed" (32).
        num_discretization_bins: bins of features given as "float_discretized" (32).

    Features are encoded in sorted name order, then the crosses in sorted name order.
    """

    # --- feature types ---
    @classmethod
    def cross(cls, feature_names: Any, crossing_dim: int, output_mode: str = "one_hot"
              ) -> Cross:
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype: str, preprocessor: Any, output_mode: str) -> Feature:
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name: str | None = None) -> Feature:
        name = name or _auto_name("float")
        return Feature("float32", TFDIdentity(dtype="float32",
                                                  name=f"{name}_preprocessor"), "float")

    @classmethod
    def float_rescaled(cls, scale: float = 1.0, offset: float = 0.0, name: str | None = None
                       ) -> Feature:
        name = name or _auto_name("float_rescaled")
        layer = _layers().Rescaling(scale=scale, offset=offset, name=f"{name}_preprocessor")
        return Feature("float32", layer, "float")

    @classmethod
    def float_normalized(cls, name: str | None = None) -> Feature:
        name = name or _auto_name("float_normalized")
        layer = _layers().Normalization(axis=-1, name=f"{name}_preprocessor")
        return Feature("float32", layer, "float")

    @classmethod
    def float_discretized(cls, num_bins: int, bin_boundaries: Any = None,
                          output_mode: str = "one_hot", name: str | None = None) -> Feature:
        name = name or _auto_name("float_discretized")
        layer = _layers().Discretization(num_bins=num_bins, bin_boundaries=bin_boundaries,
                                         name=f"{name}_preprocessor")
        return Feature("float32", layer, output_mode)

    @classmethod
    def integer_categorical(cls, max_tokens: int | None = None, num_oov_indices: int = 1,
                            output_mode: str = "one_hot", name: str | None = None) -> Feature:
        name = name or _auto_name("integer_categorical")
        layer = _layers().IntegerLookup(name=f"{name}_preprocessor", max_tokens=max_tokens,
                                        num_oov_indices=num_oov_indices)
        return Feature("int32", layer, output_mode)

    @classmethod
    def string_categorical(cls, max_tokens: int | None = None, num_oov_indices: int = 1,
                           output_mode: str = "one_hot", name: str | None = None) -> Feature:
        name = name or _auto_name("string_categorical")
        layer = _layers().StringLookup(name=f"{name}_preprocessor", max_tokens=max_tokens,
                                       num_oov_indices=num_oov_indices)
        return Feature("string", layer, output_mode)

    @classmethod
    def string_hashed(cls, num_bins: int, output_mode: str = "one_hot",
                      name: str | None = None) -> Feature:
        name = name or _auto_name("string_hashed")
        layer = _layers().Hashing(name=f"{name}_preprocessor", num_bins=num_bins)
        return Feature("string", layer, output_mode)

    @classmethod
    def integer_hashed(cls, num_bins: int, output_mode: str = "one_hot",
                       name: str | None = None) -> Feature:
        name = name or _auto_name("integer_hashed")
        layer = _layers().Hashing(name=f"{name}_preprocessor", num_bins=num_bins)
        return Feature("int32", layer, output_mode)

    # --- construction ---
    def __init__(self, features: dict, output_mode: str = "concat", crosses: Any = None,
                 crossing_dim: int = 32, hashing_dim: int = 32,
                 num_discretization_bins: int = 32, name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        if not features:
            raise ValueError("The `features` argument cannot be None or empty.")
        if not isinstance(features, dict):
            raise fail("FeatureSpace", "`features` as a dict from feature name to type",
                       type(features).__name__, 'e.g. {"age": "float_normalized"}')
        self.crossing_dim = crossing_dim
        self.hashing_dim = hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {n: self._standardize_feature(n, v) for n, v in features.items()}
        self.crosses: list = []
        for cross in crosses or ():
            if isinstance(cross, dict):
                cross = _deserialize_part(cross, Cross)
            if not isinstance(cross, Cross):
                if not crossing_dim:
                    raise ValueError("When specifying `crosses`, the argument `crossing_dim` "
                                     "(dimensionality of the crossing space) should be "
                                     "specified as well.")
                unknown = [k for k in cross if k not in features]
                if unknown:
                    raise ValueError("All features referenced in the `crosses` argument "
                                     "should be present in the `features` dict. Received "
                                     f"unknown features: {cross}")
                cross = Cross(cross, crossing_dim=crossing_dim)
            self.crosses.append(cross)
        self.crosses_by_name = {c.name: c for c in self.crosses}
        if output_mode not in ("dict", "concat"):
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{{'dict', 'concat'}}. Received: output_mode={output_mode}")
        self.output_mode = output_mode
        layers = _layers()
        self.inputs = {n: layers.Input(shape=(1,), dtype=f.dtype, name=n)
                       for n, f in self.features.items()}
        self.preprocessors = {n: f.preprocessor for n, f in self.features.items()}
        self.encoded_features: Any = None
        self.crossers = {c.name: layers.HashedCrossing(c.crossing_dim, name=c.name)
                         for c in self.crosses}
        self.one_hot_encoders: dict = {}
        self._is_adapted = False
        self.concat: Any = None
        self._preprocessed_features_names: list | None = None
        self._crossed_features_names: list | None = None
        self._sublayers_built = False

    def _standardize_feature(self, name: str, feature: Any) -> Feature:
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return _deserialize_part(feature, Feature)
        if feature == "float":
            return self.float(name=name)
        if feature == "float_normalized":
            return self.float_normalized(name=name)
        if feature == "float_rescaled":
            return self.float_rescaled(name=name)
        if feature == "float_discretized":
            return self.float_discretized(name=name, num_bins=self.num_discretization_bins)
        if feature == "integer_categorical":
            return self.integer_categorical(name=name)
        if feature == "string_categorical":
            return self.string_categorical(name=name)
        if feature == "integer_hashed":
            return self.integer_hashed(self.hashing_dim, name=name)
        if feature == "string_hashed":
            return self.string_hashed(self.hashing_dim, name=name)
        raise ValueError(f"Invalid feature type: {feature}. Expected one of "
                         f"{_FEATURE_TYPES}, or a FeatureSpace.feature(...)")

    # --- adapt ---
    def _list_adaptable_preprocessors(self) -> list:
        layers = _layers()
        out = []
        for name, pre in self.preprocessors.items():
            if isinstance(pre, layers.Normalization) and pre.input_mean is not None:
                continue
            if isinstance(pre, layers.TextVectorization) and getattr(
                    pre, "_has_input_vocabulary", False):
                continue
            if hasattr(pre, "adapt"):
                out.append(name)
        return out

    def adapt(self, dataset: Any) -> None:
        """Learn each adaptable preprocessor's state (vocabularies, means and variances, bin
        boundaries) from `dataset`: a `Dataset` of dicts (batched or not) or a dict of
        arrays/lists."""
        from ndflow.data import Dataset

        if not isinstance(dataset, Dataset):
            if isinstance(dataset, dict):
                dataset = Dataset.from_tensor_slices(dataset)
            else:
                raise ValueError("`adapt()` can only be called on a tf.data.Dataset or a dict "
                                 f"of arrays/lists. Received instead: {dataset!r:.100} (of "
                                 f"type {type(dataset)})")
        for name in self._list_adaptable_preprocessors():
            feature_ds = dataset.map(lambda x, _n=name: x[_n])
            first = next(iter(feature_ds))
            rank = len(np.shape(first.numpy() if isinstance(first, Tensor) else first))
            if rank == 0:
                feature_ds = feature_ds.batch(32)
            if rank in (0, 1):
                feature_ds = feature_ds.map(_expand_last)
            self.preprocessors[name].adapt(feature_ds)
        self._is_adapted = True
        self.get_encoded_features()  # builds the encoders and the concatenation
        self.built = True
        self._sublayers_built = True

    def _check_if_adapted(self) -> None:
        if not self._is_adapted:
            if self._list_adaptable_preprocessors():
                raise ValueError("You need to call `.adapt(dataset)` on the FeatureSpace "
                                 "before you can start using it.")
            self._is_adapted = True

    def _check_if_built(self) -> None:
        if not self._sublayers_built:
            self._check_if_adapted()
            self.get_encoded_features()
            self._sublayers_built = True
            self.built = True

    # --- the encoding graph ---
    def get_inputs(self) -> dict:
        """The `keras.Input` of each feature (shape (1,), the feature's dtype)."""
        self._check_if_built()
        return self.inputs

    def get_encoded_features(self) -> Any:
        """The encoded features computed from `get_inputs()` (symbolic): a tensor in
        "concat" mode, a dict in "dict" mode."""
        self._check_if_adapted()
        if self.encoded_features is None:
            pre = self._preprocess_features(self.inputs)
            crossed = self._cross_features(pre)
            self.encoded_features = self._merge_features(pre, crossed)
        return self.encoded_features

    def _preprocess_features(self, features: dict) -> dict:
        return {name: self.preprocessors[name](features[name]) for name in features}

    def _cross_features(self, features: dict) -> dict:
        return {c.name: self.crossers[c.name]([features[n] for n in c.feature_names])
                for c in self.crosses}

    def _merge_features(self, preprocessed: dict, crossed: dict) -> Any:
        if not self._preprocessed_features_names:
            self._preprocessed_features_names = sorted(preprocessed)
            self._crossed_features_names = sorted(crossed)
        names = self._preprocessed_features_names + self._crossed_features_names
        values = [preprocessed[n] for n in self._preprocessed_features_names] + \
            [crossed[n] for n in self._crossed_features_names]
        if self._sublayers_built:
            out = {}
            for name, value in zip(names, values):
                encoder = self.one_hot_encoders.get(name)
                out[name] = encoder(value) if encoder is not None else value
            if self.output_mode == "dict":
                return out
            return self.concat([out[n] for n in names])
        specs = [self.features[n] for n in self._preprocessed_features_names] + \
            [self.crosses_by_name[n] for n in self._crossed_features_names]
        layers = _layers()
        out, to_concat = {}, []
        for name, value, spec in zip(names, values, specs):
            dtype = _dtype_name(value)
            if spec.output_mode == "one_hot":
                pre = self.preprocessors.get(name) or self.crossers.get(name)
                if not dtype.startswith("int"):
                    raise ValueError(f"Feature '{name}' has `output_mode='one_hot'`. Thus its "
                                     "preprocessor should return an integer dtype. Instead "
                                     f"it returns a {dtype} dtype.")
                if isinstance(pre, (layers.IntegerLookup, layers.StringLookup)):
                    cardinality = pre.vocabulary_size()
                elif isinstance(pre, layers.CategoryEncoding):
                    cardinality = pre.num_tokens
                elif isinstance(pre, (layers.Discretization, layers.HashedCrossing,
                                      layers.Hashing)):
                    cardinality = pre.num_bins
                else:
                    raise ValueError(f"Feature '{name}' has `output_mode='one_hot'`. However "
                                     "it isn't a standard feature and the dimensionality of "
                                     "its output space is not known, thus it cannot be "
                                     "one-hot encoded. Try using `output_mode='int'`.")
                encoder = layers.CategoryEncoding(num_tokens=cardinality,
                                                  output_mode="multi_hot")
                self.one_hot_encoders[name] = encoder
                value = encoder(value)
            if self.output_mode == "concat":
                dtype = _dtype_name(value)
                if dtype.startswith("int") or dtype == "string":
                    raise ValueError(f"Cannot concatenate features because feature '{name}' "
                                     f"has not been encoded (it has dtype {dtype}). Consider "
                                     "using `output_mode='dict'`.")
                to_concat.append(value)
            else:
                out[name] = value
        if self.output_mode == "concat":
            self.concat = TFDConcat(axis=-1)
            return self.concat(to_concat)
        return out

    # --- calling ---
    def __call__(self, data: Any) -> Any:
        """Encode a dict of features: each value a scalar (one sample, the output has no
        batch axis), a 1-D batch or a (batch, 1) array."""
        self._check_if_built()
        if not isinstance(data, dict):
            raise ValueError("A FeatureSpace can only be called with a dict. Received: "
                             f"data={data!r:.100} (of type {type(data)})")
        if any(isinstance(v, SymbolicTensor) for v in data.values()):
            pre = self._preprocess_features(data)
            return self._merge_features(pre, self._cross_features(pre))
        arrays, rebatched = {}, False
        for name, value in data.items():
            a = self._convert_input(name, value)
            if a.ndim == 0:
                a, rebatched = a.reshape(1, 1), True
            elif a.ndim == 1:
                a = a[:, None]
            arrays[name] = a
        pre = self._preprocess_features(arrays)
        crossed = self._cross_features(pre)
        merged = self._merge_features(pre, crossed)
        if rebatched:
            if self.output_mode == "concat":
                if merged.shape[0] != 1:
                    raise ValueError("Expected rebatched data to have batch size 1. "
                                     f"Received: shape={tuple(merged.shape)}")
                merged = merged[0]
            else:
                merged = {n: v[0] if len(v.shape) == 2 and v.shape[0] == 1 else v
                          for n, v in merged.items()}
        if isinstance(merged, dict):
            return {n: _as_tensor(v) for n, v in merged.items()}
        return _as_tensor(merged)

    def _convert_input(self, name: str, value: Any) -> np.ndarray:
        a = cu.as_array(value)
        feature = self.features.get(name)
        if feature is not None and feature.dtype == "float32" and a.dtype.kind in "iub":
            a = a.astype(np.float32)
        return a

    # --- config and saving ---
    def get_config(self) -> dict:
        return {
            "features": {n: _serialize_part(f) for n, f in self.features.items()},
            "output_mode": self.output_mode,
            "crosses": [_serialize_part(c) for c in self.crosses],
            "crossing_dim": self.crossing_dim,
            "hashing_dim": self.hashing_dim,
            "num_discretization_bins": self.num_discretization_bins,
        }

    @classmethod
    def from_config(cls, config: dict) -> FeatureSpace:
        return cls(**config)

    def get_build_config(self) -> dict:
        return {n: f.preprocessor.get_build_config() for n, f in self.features.items()}

    def build_from_config(self, config: dict | None) -> None:
        for name in config or {}:
            pre = self.features[name].preprocessor
            if not pre.built:
                pre.build_from_config(config[name])
        # the encoders and the concatenation are made at the first call, once the loader
        # has restored the vocabularies (their sizes are the encoders' depths)
        self._is_adapted = True

    def save(self, filepath: Any) -> None:
        """Save to a `.keras` file; `keras.models.load_model` reads it back."""
        from ndflow.keras.saving import saving_api

        saving_api.save_model(self, filepath)


def _serialize_part(obj: Any) -> dict:
    return {"module": _KERAS_MODULE,
            "class_name": type(obj).__name__, "config": obj.get_config(),
            "registered_name": type(obj).__name__}


def _dtype_name(x: Any) -> str:
    dt = getattr(x, "dtype", None)
    name = getattr(dt, "name", dt)
    name = str(name)
    if name in ("object", "bytes", "str") or name.startswith(("<U", "|S")):
        return "string"
    return name


def _expand_last(x: Any) -> Any:
    a = cu.as_array(x)
    return a[..., None]


def _as_tensor(x: Any) -> Any:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))

__all__ = ["FeatureSpace"]
