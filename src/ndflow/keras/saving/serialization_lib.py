"""`serialize_keras_object` / `deserialize_keras_object`: Keras 3's JSON config format.

Every Keras object is written as ``{"module", "class_name", "config", "registered_name"}``
(plus ``"build_config"`` for layers and ``"compile_config"`` for compiled models). Built-in
ndflow classes use Keras's public module names (``"keras.layers"``, ``"keras.optimizers"``
...) so that files move between ndflow and Keras; user classes use their registered name
(``"package>Name"``, see `register_keras_serializable`).

Loading never imports arbitrary modules and never runs code from the file: a class is found
only among ndflow's built-in families, the registered objects and ``custom_objects``.
Code-carrying configs (Python lambdas) and functions that would need an import load only with
``safe_mode=False``.

>>> from ndflow import keras
>>> cfg = serialize_keras_object(keras.initializers.Constant(2.0))
>>> cfg["class_name"], cfg["module"], cfg["config"]
('Constant', 'keras.initializers', {'value': 2.0})
>>> deserialize_keras_object(cfg).value
2.0
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import threading
import types
import warnings
from typing import Any

import numpy as np

from ndflow.keras.saving import function_configs as _fn
from ndflow.keras.saving.config_checks import ConfigError, check_init_config, constructor_keys
from ndflow.keras.saving import object_registration as _reg

__all__ = ["serialize_keras_object", "deserialize_keras_object", "SafeModeScope",
           "in_safe_mode", "enable_unsafe_deserialization"]

# Config nesting deeper than this is refused (a hostile file could otherwise recurse
# until the interpreter's stack runs out).
MAX_CONFIG_DEPTH = 200


class _SafeModeState(threading.local):
    def __init__(self) -> None:
        self.stack: list[bool] = []


_SAFE = _SafeModeState()


class SafeModeScope:
    """Set safe mode (True: refuse code-carrying configs) inside a ``with`` block."""

    def __init__(self, safe_mode: bool | None = True) -> None:
        self.safe_mode = safe_mode

    def __enter__(self) -> SafeModeScope:
        if self.safe_mode is None:
            self.safe_mode = _default_safe_mode()
        _SAFE.stack.append(bool(self.safe_mode))
        return self

    def __exit__(self, *exc: Any) -> None:
        _SAFE.stack.pop()


def _default_safe_mode() -> bool:
    from ndflow.keras import config

    return not getattr(config, "_UNSAFE", False)


def in_safe_mode() -> bool | None:
    """The safe mode of the innermost `SafeModeScope`, or None outside any scope."""
    if _SAFE.stack:
        return _SAFE.stack[-1]
    return None


def _safe_now(safe_mode: bool | None = None) -> bool:
    if safe_mode is not None:
        return bool(safe_mode)
    mode = in_safe_mode()
    return _default_safe_mode() if mode is None else mode


def enable_unsafe_deserialization() -> None:
    """Allow code-carrying configs to load everywhere (same as `keras.config`'s)."""
    from ndflow.keras import config

    config.enable_unsafe_deserialization()


# --- families of built-in objects ---------------------------------------------------------------
# (keras public module, ndflow module, base class path) per family; the base class check makes
# sure a name taken from a file can only resolve to an object of the expected kind.
_FAMILIES: tuple = (
    ("keras.layers", "ndflow.keras.layers", ("ndflow.keras.layers.layer", "Layer")),
    ("keras.models", "ndflow.keras.models", ("ndflow.keras.layers.layer", "Layer")),
    ("keras.optimizers.schedules", "ndflow.keras.optimizers.schedules",
     ("ndflow.keras.optimizers.schedules", "LearningRateSchedule")),
    ("keras.optimizers", "ndflow.keras.optimizers",
     ("ndflow.keras.optimizers.base_optimizer", "Optimizer")),
    ("keras.losses", "ndflow.keras.losses", ("ndflow.keras.losses.loss", "Loss")),
    ("keras.metrics", "ndflow.keras.metrics", ("ndflow.keras.metrics.metric", "Metric")),
    ("keras.initializers", "ndflow.keras.initializers",
     ("ndflow.keras.initializers.initializers", "Initializer")),
    ("keras.regularizers", "ndflow.keras.regularizers",
     ("ndflow.keras.regularizers.regularizers", "Regularizer")),
    ("keras.constraints", "ndflow.keras.constraints",
     ("ndflow.keras.constraints.constraints", "Constraint")),
    # layers Keras exports from keras.utils (FeatureSpace), and the helper layers FeatureSpace
    # puts in models (Keras names them by their source module)
    ("keras.utils", "ndflow.keras.utils", ("ndflow.keras.layers.layer", "Layer")),
    ("keras.src.layers.preprocessing.feature_space",
     "ndflow.keras.layers.preprocessing.feature_space", ("ndflow.keras.layers.layer", "Layer")),
)
def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _base_class(path: tuple) -> type | None:
    mod = _import(path[0])
    return getattr(mod, path[1], None) if mod is not None else None


def _family_of_module(module: str | None) -> list:
    """The families a (Keras or ndflow) module name points to, most specific first."""
    if not module:
        return []
    m = module
    if m.startswith("ndflow.keras"):
        m = "keras" + m[len("ndflow.keras"):]
    out = []
    for fam in _FAMILIES:
        key = fam[0]
        tail = key.split(".", 1)[1]
        if m == key or m.startswith(key + ".") or (
                m.startswith("keras.src.") and ("." + tail.split(".")[0]) in m):
            out.append(fam)
    return out


def _lookup_in_family(fam: tuple, name: str) -> Any:
    mod = _import(fam[1])
    if mod is None or not name or name.startswith("_"):
        return None
    obj = getattr(mod, name, None)
    base = _base_class(fam[2])
    if inspect.isclass(obj) and base is not None and issubclass(obj, base):
        return obj
    if fam[0] == "keras.models" and name in ("Functional", "Sequential", "Model"):
        return obj
    if fam[0] == "keras.optimizers" and name == "OptimizerMap":  # a mapping, not an Optimizer
        return obj
    return None


def _builtin_module_for(cls: type) -> str | None:
    """Keras's public module name for a built-in ndflow class, or None for user classes."""
    if not cls.__module__.startswith("ndflow."):
        return None
    if cls.__name__ == "Sequential":
        return "keras"
    if cls.__name__ == "Functional":
        return "keras.src.models.functional"
    if cls.__name__ == "DTypePolicy":
        return "keras"
    for fam in _FAMILIES:
        if fam[0] == "keras.models":
            continue
        if _lookup_in_family(fam, cls.__name__) is cls:
            return fam[0]
    return None


def retrieve_class(class_name: str, registered_name: str | None, module: str | None,
                   custom_objects: dict | None = None) -> Any:
    """Find the class (or function) a config names, without importing anything new.

    Order: ``custom_objects`` and scoped/registered objects (by registered name, then class
    name), then ndflow's built-in family named by ``module``, then every family. Returns None
    when nothing matches.
    """
    for key in (registered_name, class_name):
        obj = _reg.lookup_exact(key, custom_objects) if key else None
        if obj is not None:
            return obj
    if not isinstance(class_name, str):
        return None
    fams = _family_of_module(module)
    for fam in fams + [f for f in _FAMILIES if f not in fams]:
        obj = _lookup_in_family(fam, class_name)
        if obj is not None:
            return obj
    # Last resort: the one class registered as "<any package>>class_name".
    matches = [obj for name, obj in _reg.GLOBAL_CUSTOM_OBJECTS.items()
               if name.split(">", 1)[-1] == class_name and inspect.isclass(obj)]
    return matches[0] if len(matches) == 1 else None


# --- serialize --------------------------------------------------------------------------------
def _is_function(obj: Any) -> bool:
    return isinstance(obj, (types.FunctionType, types.BuiltinFunctionType))


def serialize_keras_object(obj: Any) -> Any:
    """The JSON-compatible Keras 3 config of ``obj`` (layers, models, optimizers, losses,
    metrics, initializers, regularizers, constraints, schedules, functions, plain values).

    >>> serialize_keras_object((1, 2))
    {'class_name': '__tuple__', 'config': {'value': [1, 2]}}
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biufc":
            raise ValueError(f"serialize_keras_object: cannot serialize an array of dtype "
                             f"{obj.dtype}")
        return {"class_name": "__numpy__",
                "config": {"value": obj.tolist(), "dtype": obj.dtype.name}}
    from ndflow.core.tensor import Tensor

    if isinstance(obj, Tensor) and not getattr(obj, "_symbolic", False):
        arr = np.asarray(obj.numpy())
        return {"class_name": "__tensor__",
                "config": {"value": arr.tolist(), "dtype": arr.dtype.name}}
    if type(obj).__name__ == "TensorShape":
        return [None if d is None else int(d) for d in obj]
    if isinstance(obj, tuple):
        return {"class_name": "__tuple__",
                "config": {"value": [serialize_keras_object(x) for x in obj]}}
    if isinstance(obj, list):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, np.dtype):
        return obj.name
    if inspect.isclass(obj):
        raise ValueError(f"serialize_keras_object: cannot serialize the class {obj.__name__}; "
                         "pass an instance")
    if _is_function(obj):
        return _serialize_function(obj)
    if hasattr(obj, "get_config"):
        return _serialize_object(obj)
    raise ValueError(f"serialize_keras_object: cannot serialize {obj!r} of type "
                     f"{type(obj).__name__}; it has no get_config() method")


def _serialize_function(fn: Any) -> dict:
    return _fn.dump_function(fn)


def _serialize_object(obj: Any) -> dict:
    cls = type(obj)
    try:
        config = obj.get_config()
    except NotImplementedError as e:
        raise ValueError(f"serialize_keras_object: {cls.__name__}.get_config() is not "
                         f"implemented ({e}); implement it to save this object") from e
    if not isinstance(config, dict):
        raise ValueError(f"serialize_keras_object: {cls.__name__}.get_config() must return a "
                         f"dict, got {type(config).__name__}")
    registered = _reg.GLOBAL_CUSTOM_NAMES.get(cls)
    builtin_module = None if registered else _builtin_module_for(cls)
    out: dict = {
        "module": builtin_module or cls.__module__,
        "class_name": cls.__name__,
        "config": _jsonable(config),
        "registered_name": None if builtin_module else (registered or cls.__name__),
    }
    from ndflow.keras.layers.layer import Layer

    if isinstance(obj, Layer):
        try:
            build_config = obj.get_build_config() if obj.built else None
        except Exception:
            build_config = None
        if build_config is None and obj.built and obj._inbound_nodes:
            shapes = obj.input_shape if len(obj._inbound_nodes) else None
            if shapes is not None and type(obj).build is not Layer.build:
                build_config = {"input_shape": shapes}
        if build_config is not None:
            out["build_config"] = _jsonable(build_config)
        compile_config = get_compile_config(obj)
        if compile_config is not None:
            out["compile_config"] = compile_config
    return out


def _jsonable(value: Any, depth: int = 0) -> Any:
    """Nested objects inside a ``get_config`` result, converted to their configs."""
    if depth > MAX_CONFIG_DEPTH:
        raise ValueError("serialize_keras_object: the config is nested too deeply")
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v, depth + 1) for v in value]
    if isinstance(value, tuple):  # Keras writes tuples inside get_config as lists
        return [_jsonable(v, depth + 1) for v in value]
    return serialize_keras_object(value)


def get_compile_config(model: Any) -> dict | None:
    """Keras 3's ``compile_config`` of a compiled model (None if not compiled): what its
    `get_compile_config()` returns (a subclass may override it)."""
    fn = getattr(type(model), "get_compile_config", None)
    if fn is not None:
        cfg = model.get_compile_config()
        return _jsonable(cfg) if cfg else None
    return default_compile_config(model)


def default_compile_config(model: Any) -> dict | None:
    """The compile config `Model.get_compile_config` returns by default (None if the model
    is not compiled)."""
    raw = model.__dict__.get("_compile_config")
    if not raw or getattr(model, "optimizer", None) is None:
        return None
    raw = dict(raw)
    raw["optimizer"] = model.optimizer
    out = {"optimizer": None, "loss": None, "loss_weights": None, "metrics": None,
           "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
           "jit_compile": False}
    for k, v in raw.items():
        if k in ("run_eagerly", "steps_per_execution", "jit_compile"):
            out[k] = v if not callable(v) else out[k]
            continue
        out[k] = _serialize_compile_value(v)
    return out


def _serialize_compile_value(v: Any) -> Any:
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    if isinstance(v, (list, tuple)):
        return [_serialize_compile_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _serialize_compile_value(x) for k, x in v.items()}
    if _is_function(v):
        name = getattr(v, "__name__", None)
        if _reg.GLOBAL_CUSTOM_NAMES.get(v) is None:
            tables = _fn.builtin_functions()
            for key in ("keras.losses", "keras.metrics", "keras.activations"):
                if name and tables[key].get(name) is v:
                    return name
        return _serialize_function(v)
    return serialize_keras_object(v)


# --- deserialize ------------------------------------------------------------------------------
def deserialize_keras_object(config: Any, custom_objects: dict | None = None,
                             safe_mode: bool = True, **kwargs: Any) -> Any:
    """Rebuild an object from `serialize_keras_object`'s output (Keras 3 format).

    Args:
        config: the config (a dict, list or plain value).
        custom_objects: ``{name: class_or_function}`` for user objects.
        safe_mode: refuse code-carrying configs (Python lambdas, functions that need an
            import). Set False only for files you trust.

    Raises:
        ValueError: the config is malformed or names an unknown or unsafe object.
    """
    if kwargs.get("module_objects"):
        custom_objects = {**kwargs["module_objects"], **(custom_objects or {})}
    outer = in_safe_mode()
    if outer is not None:  # inside a load: the outer call's safe_mode wins (as in Keras)
        safe_mode = outer
    with SafeModeScope(safe_mode), _reg.CustomObjectScope(custom_objects or {}):
        return _deserialize(config, custom_objects, 0)


def _deserialize(config: Any, custom_objects: dict | None, depth: int) -> Any:
    if depth > MAX_CONFIG_DEPTH:
        raise ValueError(f"deserialize_keras_object: the config is nested more than "
                         f"{MAX_CONFIG_DEPTH} levels deep")
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        if custom_objects and config in custom_objects:
            return custom_objects[config]
        return config
    if isinstance(config, list):
        return [_deserialize(x, custom_objects, depth + 1) for x in config]
    if not isinstance(config, dict):
        raise ValueError(f"deserialize_keras_object: expected a dict, list or plain value, got "
                         f"{type(config).__name__}")
    if "class_name" not in config or "config" not in config:
        return {k: _deserialize(v, custom_objects, depth + 1) for k, v in config.items()}
    class_name = config["class_name"]
    inner = config["config"]
    if not isinstance(class_name, str):
        raise ValueError(f"deserialize_keras_object: 'class_name' must be a string, got "
                         f"{type(class_name).__name__}")
    special = _deserialize_special(class_name, inner, config, custom_objects, depth)
    if special is not _NOT_SPECIAL:
        return special
    module = config.get("module")
    registered_name = config.get("registered_name")
    if module is not None and not isinstance(module, str):
        raise ValueError("deserialize_keras_object: 'module' must be a string")
    if registered_name is not None and not isinstance(registered_name, str):
        raise ValueError("deserialize_keras_object: 'registered_name' must be a string")
    if class_name == "function":
        return _deserialize_function(inner, module, registered_name, custom_objects)
    cls = retrieve_class(class_name, registered_name, module, custom_objects)
    if cls is None:
        shown = registered_name or class_name
        raise ValueError(
            f"Could not locate class {shown!r} (module {module!r}). Make sure custom classes "
            f"are decorated with `@keras.saving.register_keras_serializable()` or pass them in "
            f"custom_objects={{{class_name!r}: {class_name}}}. Full object config: "
            f"{_short(config)}")
    if not inspect.isclass(cls):
        return cls  # a registered function given as a class config
    if not isinstance(inner, dict):
        raise ValueError(f"deserialize_keras_object: the config of {class_name} must be a dict, "
                         f"got {type(inner).__name__}")
    check_code_safety(class_name, inner, custom_objects)
    obj = _instantiate(cls, inner, custom_objects)
    build_config = config.get("build_config")
    if build_config is not None and hasattr(obj, "build_from_config") and \
            not getattr(obj, "built", True):
        if not isinstance(build_config, dict):
            raise ValueError(f"deserialize_keras_object: build_config of {class_name} must be "
                             "a dict")
        obj.build_from_config(build_config)
    compile_config = config.get("compile_config")
    if compile_config is not None and hasattr(obj, "compile"):
        compile_from_config(obj, compile_config, custom_objects)
    return obj


_NOT_SPECIAL = object()


def _deserialize_special(class_name: str, inner: Any, config: dict,
                         custom_objects: dict | None, depth: int) -> Any:
    if class_name == "__tuple__":
        value = inner.get("value") if isinstance(inner, dict) else None
        if not isinstance(value, list):
            raise ValueError("deserialize_keras_object: a __tuple__ config needs a 'value' list")
        return tuple(_deserialize(x, custom_objects, depth + 1) for x in value)
    if class_name in ("__numpy__", "__tensor__"):
        if not isinstance(inner, dict) or "value" not in inner:
            raise ValueError(f"deserialize_keras_object: a {class_name} config needs 'value'")
        dtype = inner.get("dtype") or "float32"
        try:
            dt = np.dtype(str(dtype))
        except TypeError:
            raise ValueError(f"deserialize_keras_object: unknown dtype {dtype!r}") from None
        if dt.kind not in "biufc":
            raise ValueError(f"deserialize_keras_object: dtype {dt} is not allowed in configs")
        try:
            arr = np.asarray(inner["value"], dtype=dt)
        except (TypeError, ValueError, OverflowError) as e:
            raise ValueError(f"deserialize_keras_object: bad {class_name} value: {e}") from None
        if class_name == "__numpy__":
            return arr
        from ndflow.core.tensor import convert_to_tensor

        return convert_to_tensor(arr)
    if class_name == "__bytes__":
        value = inner.get("value") if isinstance(inner, dict) else None
        if not isinstance(value, str):
            raise ValueError("deserialize_keras_object: a __bytes__ config needs a 'value'")
        return value.encode("utf-8")
    if class_name == "__lambda__":
        return _fn.load_function(config, custom_objects)
    if class_name.startswith("__") and class_name.endswith("__") and \
            class_name != "__keras_tensor__":
        raise ValueError(f"deserialize_keras_object: unsupported special object "
                         f"{class_name!r}")
    return _NOT_SPECIAL


def _deserialize_function(inner: Any, module: str | None, registered_name: str | None,
                          custom_objects: dict | None) -> Any:
    return _fn.resolve_named_function(inner, module, registered_name, custom_objects)


def check_code_safety(class_name: str, inner: dict, custom_objects: dict | None) -> None:
    """Resolve every function a config holds before the object is built: a lambda or a
    function from a module outside keras/ndflow is refused in safe mode (the same resolution
    that the object's ``from_config`` uses, so what runs is what was checked)."""
    for owner, fn_cfg in _function_configs(inner, class_name, 0):
        _fn.load_function(fn_cfg, custom_objects, where=owner)


def _function_configs(value: Any, owner: str, depth: int) -> list:
    """``[(owner label, function config)]`` inside a config (the owner is the nearest
    enclosing object, e.g. ``"Lambda 'lam'"``)."""
    out: list = []
    if depth > MAX_CONFIG_DEPTH:
        raise ValueError("deserialize_keras_object: the config is nested too deeply")
    if isinstance(value, dict):
        cn = value.get("class_name")
        if cn in ("__lambda__", "function"):
            out.append((owner, value))
            return out
        if isinstance(cn, str) and isinstance(value.get("config"), dict):
            name = value["config"].get("name")
            owner = f"{cn} {name!r}" if isinstance(name, str) else cn
        for v in value.values():
            out.extend(_function_configs(v, owner, depth + 1))
    elif isinstance(value, list):
        for v in value:
            out.extend(_function_configs(v, owner, depth + 1))
    return out


_BASE_LAYER_KEYS = frozenset({"trainable", "dtype", "name", "activity_regularizer", "autocast",
                              "input_shape", "input_dim", "batch_input_shape", "batch_size",
                              "weights"})


def _drop_keras_only_defaults(cls: type, inner: dict) -> dict:
    """Keras 3 writes some arguments ndflow does not have (``ragged``, ``lora_rank``,
    ``quantization_config`` ...). When they hold their neutral value (None/False/0/empty) they
    change nothing and are dropped; any other value is kept so the error names it."""
    if not cls.__module__.startswith("ndflow."):
        return inner
    from ndflow.keras.layers.layer import Layer

    accepted = constructor_keys(cls)
    if accepted is None:
        return inner
    if issubclass(cls, Layer):
        accepted = accepted | _BASE_LAYER_KEYS
    out = {}
    for k, v in inner.items():
        if k not in accepted and (v is None or v is False or v == 0 or v in ("", [], {})):
            continue
        out[k] = v
    return out


def normalize_keras_config(config: Any, depth: int = 0) -> Any:
    """A copy of a (Keras-written) config with Keras-only neutral arguments of ndflow's
    built-in classes removed at every level (see `_drop_keras_only_defaults`)."""
    if depth > MAX_CONFIG_DEPTH:
        raise ValueError(f"deserialize_keras_object: the config is nested more than "
                         f"{MAX_CONFIG_DEPTH} levels deep")
    if isinstance(config, list):
        return [normalize_keras_config(v, depth + 1) for v in config]
    if not isinstance(config, dict):
        return config
    out = {k: normalize_keras_config(v, depth + 1) for k, v in config.items()}
    _check_object_header(out)
    cn, inner = out.get("class_name"), out.get("config")
    if isinstance(cn, str) and isinstance(inner, dict) and not cn.startswith("__"):
        module, reg = out.get("module"), out.get("registered_name")
        cls = retrieve_class(cn, reg if isinstance(reg, str) else None,
                             module if isinstance(module, str) else None)
        if inspect.isclass(cls):
            out["config"] = _drop_keras_only_defaults(cls, inner)
            check_builtin_config(cls, out["config"])
    return out


def check_builtin_config(cls: type, inner: dict) -> None:
    """Check the config of a built-in ndflow class against its constructor (see
    `config_checks`); user classes build from their configs as they choose."""
    if not cls.__module__.startswith("ndflow."):
        return
    from ndflow.keras.layers.layer import Layer
    from ndflow.keras.optimizers.base_optimizer import Optimizer

    if not _has_own_from_config(cls):
        check_init_config(cls, inner, _BASE_LAYER_KEYS if issubclass(cls, Layer)
                          else frozenset())
    elif issubclass(cls, Optimizer):  # its from_config only turns a schedule into one
        check_init_config(cls, {k: v for k, v in inner.items() if k != "learning_rate"})
    elif not issubclass(cls, Layer) and _from_config_is_plain(cls):
        check_init_config(cls, inner)


@functools.lru_cache(maxsize=1024)
def _from_config_is_plain(cls: type) -> bool:
    """True when ``cls.from_config(config)`` is ``cls(**config)`` (Keras's base behaviour for
    initializers, regularizers, constraints, losses, metrics)."""
    try:
        src = inspect.getsource(cls.from_config)
    except (OSError, TypeError):
        return False
    return bool(re.search(r"return cls\(\*\*config\)\s*$", src.strip()))


def _check_object_header(config: dict) -> None:
    """An object config's ``class_name`` / ``module`` / ``registered_name`` are strings."""
    if "class_name" not in config or "config" not in config:
        return
    cn = config["class_name"]
    if not isinstance(cn, str) or not cn:
        raise ConfigError(f"deserialize_keras_object: 'class_name' must be a non-empty string, "
                          f"got {_short(cn, 60)} (in {_short(config, 120)})")
    for key in ("module", "registered_name"):
        value = config.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"deserialize_keras_object: {key!r} of {cn} must be a string or "
                              f"null, got {_short(value, 60)}")


def _instantiate(cls: type, inner: dict, custom_objects: dict | None) -> Any:
    inner = _drop_keras_only_defaults(cls, inner)
    check_builtin_config(cls, inner)
    if not hasattr(cls, "from_config"):
        try:
            return cls(**inner)
        except TypeError as e:
            raise ValueError(f"{cls.__name__}: could not create it from config "
                             f"{_short(inner)}: {e}") from e
    fn = cls.from_config
    kwargs: dict = {}
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}
    if "custom_objects" in params:
        kwargs["custom_objects"] = custom_objects
    if "safe_mode" in params:
        kwargs["safe_mode"] = _safe_now()
    try:
        return fn(dict(inner), **kwargs)
    except TypeError as e:  # the constructor refused the config's values
        raise ConfigError(f"{cls.__name__}: the config cannot create it: {e}") from e


@functools.lru_cache(maxsize=1024)
def _has_own_from_config(cls: type) -> bool:
    """True when ``cls`` (or a base below Layer/Optimizer...) rewrites its config in
    ``from_config`` before calling the constructor, so the raw config is not the arguments."""
    for klass in cls.__mro__:
        if "from_config" in klass.__dict__:
            return klass.__module__ not in _GENERIC_FROM_CONFIG
    return False


# Modules whose from_config passes the config straight to the constructor.
_GENERIC_FROM_CONFIG = frozenset({"ndflow.keras.layers.layer"})


def compile_from_config(model: Any, compile_config: dict, custom_objects: dict | None) -> None:
    """Compile ``model`` from Keras 3's ``compile_config`` (optimizer, loss, metrics ...)."""
    if not isinstance(compile_config, dict):
        raise ValueError(f"compile_config of model '{getattr(model, 'name', '?')}' must be a "
                         f"dict (optimizer, loss, metrics ...), got {_short(compile_config, 60)}")
    if not compile_config or compile_config.get("optimizer") is None:
        return  # the model was saved uncompiled
    from ndflow.keras.trainer.trainer import Trainer

    fn = getattr(type(model), "compile_from_config", None)
    if fn is not None and fn is not Trainer.compile_from_config:
        model.compile_from_config(compile_config)  # the subclass's own
        return
    default_compile_from_config(model, compile_config, custom_objects)


def default_compile_from_config(model: Any, compile_config: dict,
                                custom_objects: dict | None) -> None:
    """What `Model.compile_from_config` does by default: deserialize the optimizer, losses and
    metrics and call `compile` with them. As in Keras, a model whose class overrides
    `compile` (but not `compile_from_config`) is left uncompiled, with a warning."""
    from ndflow.keras.trainer.trainer import Trainer

    if not compile_config or compile_config.get("optimizer") is None:
        return
    compile_fn = getattr(type(model), "compile", None)
    if compile_fn is not None and compile_fn is not Trainer.compile:
        warnings.warn(
            f"compile() was not called as part of loading model '{getattr(model, 'name', '?')}'"
            " because its compile() method is custom. Subclassed models that override "
            "compile() should also override get_compile_config() and "
            "compile_from_config(config); or call compile() after loading.", stacklevel=3)
        return
    cfg = dict(compile_config)
    opt = cfg.get("optimizer")
    from ndflow.keras import optimizers

    if isinstance(opt, dict):
        opt = _deserialize(opt, custom_objects, 1)
    elif isinstance(opt, str):
        opt = optimizers.get(opt)
    kwargs: dict = {"optimizer": opt}
    for key in ("loss", "loss_weights", "metrics", "weighted_metrics"):
        if cfg.get(key) is not None:
            kwargs[key] = _deserialize(cfg[key], custom_objects, 1)
    try:
        params = inspect.signature(model.compile).parameters
    except (TypeError, ValueError):
        params = {}
    for key in ("run_eagerly", "steps_per_execution", "jit_compile"):
        if key in cfg and key in params and not isinstance(cfg[key], (dict, list)):
            kwargs[key] = cfg[key]
    kwargs = {k: v for k, v in kwargs.items() if k in params or not params}
    model.compile(**kwargs)


def _short(value: Any, limit: int = 300) -> str:
    r = repr(value)
    return r if len(r) <= limit else r[:limit] + "..."
