"""Functions inside configs: how they are written and the one place they are resolved.

A function in a config is ``{"module", "class_name": "function", "config": name,
"registered_name"}`` (a named function) or ``{"class_name": "__lambda__", ...}`` (Python
bytecode). Loading resolves a name only through, in order, ``custom_objects`` and the
registered objects (`register_keras_serializable`), then ndflow's table of built-in Keras
functions (activations, losses, metrics and the numeric ops). A module named in a file is never
imported in safe mode, and a foreign module name never falls back to a built-in of the same
name: the function that runs is the one the check saw. With ``safe_mode=False`` (the user's
explicit opt-in for files they trust) lambdas load and other modules are imported, as in Keras.

>>> from ndflow import keras
>>> cfg = dump_function(keras.activations.relu)
>>> cfg["module"], cfg["config"]
('keras.activations', 'relu')
>>> load_function(cfg) is keras.activations.relu
True
"""

from __future__ import annotations

import base64
import importlib
import inspect
import marshal
import types
from typing import Any

from ndflow.keras.saving import object_registration as _reg

__all__ = ["dump_function", "load_function", "builtin_functions", "UNSAFE_HINT"]

UNSAFE_HINT = ("If you trust the source of the file, pass safe_mode=False to the loading "
               "function (e.g. keras.models.load_model(path, safe_mode=False)) or call "
               "keras.config.enable_unsafe_deserialization().")

# Where built-in functions that a file may name come from: (Keras public module, ndflow module,
# modules the functions must be defined in). Only pure numeric functions: nothing that takes a
# callable, does I/O or touches global state (keras.ops.core's cond/while_loop/scan are left
# out on purpose).
_SOURCES: tuple = (
    ("keras.activations", "ndflow.keras.activations", ("ndflow.keras.activations.",)),
    ("keras.losses", "ndflow.keras.losses", ("ndflow.keras.losses.",)),
    ("keras.metrics", "ndflow.keras.metrics", ("ndflow.keras.metrics.",)),
    ("keras.ops", "ndflow.keras.ops", ("ndflow.keras.ops.numpy", "ndflow.keras.ops.nn",
                                       "ndflow.keras.ops.math", "ndflow.keras.ops.image",
                                       "ndflow.keras.ops.linalg")),
    ("ndflow", "ndflow", ("ndflow.ops.math", "ndflow.ops.array", "ndflow.ops.reduce",
                          "ndflow.ops.creation", "ndflow.ops.linalg", "ndflow.ops.shape_ops",
                          "ndflow.ops.nn", "ndflow.ops.image", "ndflow.ops.conv",
                          "ndflow.ops.pooling")),
    ("ndflow.nn", "ndflow.nn", ("ndflow.ops.",)),
    ("ndflow.math", "ndflow.math", ("ndflow.ops.",)),
)

_TABLE: dict[str, dict[str, Any]] | None = None


def builtin_functions() -> dict[str, dict[str, Any]]:
    """``{public module: {name: function}}`` of the built-in functions a file may name."""
    global _TABLE
    if _TABLE is None:
        table: dict[str, dict[str, Any]] = {}
        for public, module_name, origins in _SOURCES:
            module = importlib.import_module(module_name)
            names = getattr(module, "__all__", None) or dir(module)
            found: dict[str, Any] = {}
            for name in names:
                if name.startswith("_"):
                    continue
                fn = getattr(module, name, None)
                if not isinstance(fn, types.FunctionType):
                    continue
                if (getattr(fn, "__module__", None) or "").startswith(origins):
                    found[name] = fn
            extra = getattr(module, "ALL_OBJECTS_DICT", None)  # aliases (swish, hard_swish)
            if isinstance(extra, dict):
                for name, fn in extra.items():
                    if isinstance(fn, types.FunctionType):
                        found.setdefault(name, fn)
            table[public] = found
        _TABLE = table
    return _TABLE


def _public_module(module: str | None) -> str | None:
    """The table key a (Keras or ndflow) module name points to, or None if foreign."""
    if not module:
        return None
    m = module
    if m.startswith("ndflow.keras"):
        m = "keras" + m[len("ndflow.keras"):]
    if m.startswith("keras.src."):
        m = "keras." + m[len("keras.src."):]
    for key in ("keras.activations", "keras.losses", "keras.metrics", "keras.ops"):
        if m == key or m.startswith(key + "."):
            return key
    if m in ("keras", "ndflow") or m.startswith("ndflow.ops"):
        return "ndflow"
    if m in ("ndflow.nn", "ndflow.math"):
        return m
    return None


def is_keras_module(module: str | None) -> bool:
    """True for module names inside keras/ndflow (never imported from a file either way)."""
    return bool(module) and (module in ("keras", "ndflow") or
                             module.startswith(("keras.", "ndflow.")))


def dump_function(fn: Any) -> dict:
    """The config of ``fn``: by registered or built-in name, else its module and name, else
    (a lambda or nested function) its bytecode, which loads only with ``safe_mode=False``."""
    registered = _reg.GLOBAL_CUSTOM_NAMES.get(fn) if _hashable(fn) else None
    name = getattr(fn, "__name__", None)
    if registered is not None:
        return {"module": getattr(fn, "__module__", None) or "", "class_name": "function",
                "config": registered, "registered_name": registered}
    if isinstance(fn, (types.FunctionType, types.BuiltinFunctionType)) and name and \
            name != "<lambda>" and "<locals>" not in getattr(fn, "__qualname__", ""):
        for public, table in builtin_functions().items():
            if table.get(name) is fn:
                return {"module": public, "class_name": "function", "config": name,
                        "registered_name": name}
        return {"module": getattr(fn, "__module__", None) or "", "class_name": "function",
                "config": name, "registered_name": name}
    if isinstance(fn, types.FunctionType):
        code = base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")
        closure = [c.cell_contents for c in fn.__closure__] if fn.__closure__ else None
        return {"class_name": "__lambda__",
                "config": {"value": [code, list(fn.__defaults__ or ()) or None, closure]}}
    raise ValueError(f"cannot serialize the function {fn!r}: use a plain named function, or "
                     "register it with @keras.saving.register_keras_serializable()")


def _hashable(obj: Any) -> bool:
    try:
        hash(obj)
    except TypeError:
        return False
    return True


def resolve_named_function(name: Any, module: Any = None, registered_name: Any = None,
                           custom_objects: dict | None = None, safe_mode: bool | None = None,
                           where: str = "deserialize_keras_object") -> Any:
    """The function a ``{"class_name": "function"}`` config names; raises ValueError.

    Resolution never imports a module named in the file unless ``safe_mode`` is False."""
    from ndflow.keras.saving.serialization_lib import _safe_now

    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}: a function config must name the function with a string, "
                         f"got {_short(name)}")
    if module is not None and not isinstance(module, str):
        raise ValueError(f"{where}: the 'module' of function {name!r} must be a string, got "
                         f"{_short(module)}")
    if registered_name is not None and not isinstance(registered_name, str):
        raise ValueError(f"{where}: the 'registered_name' of function {name!r} must be a "
                         f"string, got {_short(registered_name)}")
    for key in (registered_name, name):
        obj = _reg.lookup_exact(key, custom_objects) if key else None
        if obj is not None:
            if inspect.isclass(obj) or not callable(obj):
                raise ValueError(f"{where}: {key!r} is registered as {type(obj).__name__}, "
                                 "not a function")
            return obj
    public = _public_module(module)
    if public is not None or not module:
        tables = builtin_functions()
        order = [public] if public else []
        order += [k for k in tables if k not in order] if not module else []
        for key in order:
            fn = tables.get(key, {}).get(name)
            if fn is not None:
                return fn
        raise ValueError(
            f"{where}: unknown function {name!r}{f' of module {module!r}' if module else ''}: "
            "it is not a built-in Keras activation, loss, metric or op, nor a registered "
            "object. Register your function with @keras.saving.register_keras_serializable() "
            "or pass it in custom_objects={'" + name + "': fn}.")
    # any other module: only a registered object defined there, or an import the user allowed
    # (a keras/ndflow module that is not a source of built-in functions, such as keras.utils or
    # keras.config, is refused like a foreign one: its functions touch files and settings)
    for key, obj in _reg.GLOBAL_CUSTOM_OBJECTS.items():
        if key.split(">", 1)[-1] == name and getattr(obj, "__module__", None) == module and \
                not inspect.isclass(obj):
            return obj
    if _safe_now(safe_mode):
        what = ("not a module of activations, losses, metrics or ops" if is_keras_module(module)
                else "outside keras/ndflow")
        raise ValueError(
            f"{where}: the file asks for function {name!r} from module {module!r}, which is "
            f"{what}. Importing a module named in a file can run arbitrary code, "
            "so it is refused in safe mode. Register the function with "
            "@keras.saving.register_keras_serializable() or pass it in custom_objects. "
            + UNSAFE_HINT)
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"{where}: could not find function {name!r} in module {module!r} "
                         f"({e})") from None
    if not callable(fn):
        raise ValueError(f"{where}: {module}.{name} is not callable")
    return fn


def load_function(config: Any, custom_objects: dict | None = None,
                  safe_mode: bool | None = None, where: str = "deserialize_keras_object"
                  ) -> Any:
    """The function a config holds (see the module docstring); raises ValueError."""
    from ndflow.keras.saving.serialization_lib import _safe_now

    if isinstance(config, str):
        return resolve_named_function(config, None, None, custom_objects, safe_mode, where)
    if not isinstance(config, dict):
        raise ValueError(f"{where}: expected a function config (a dict or a name), got "
                         f"{_short(config)}")
    kind = config.get("class_name")
    if kind == "__lambda__":
        if _safe_now(safe_mode):
            raise ValueError(
                f"{where}: the file holds a Python lambda (bytecode). Loading it can run "
                "arbitrary code, so it is refused in safe mode. " + UNSAFE_HINT)
        return _load_bytecode(config.get("config"), where)
    if kind != "function":
        raise ValueError(f"{where}: expected a function config (class_name 'function' or "
                         f"'__lambda__'), got class_name {_short(kind)}")
    return resolve_named_function(config.get("config"), config.get("module"),
                                  config.get("registered_name"), custom_objects, safe_mode,
                                  where)


def _cell(value: Any) -> Any:
    return (lambda: value).__closure__[0]


def _load_bytecode(inner: Any, where: str) -> Any:
    value = inner.get("value") if isinstance(inner, dict) else None
    if not isinstance(value, list) or len(value) != 3 or not isinstance(value[0], str):
        raise ValueError(f"{where}: a __lambda__ config needs a 'value' of [code, defaults, "
                         f"closure], got {_short(value)}")
    code_b64, defaults, closure = value
    try:
        code = marshal.loads(base64.b64decode(code_b64))
    except (ValueError, EOFError, TypeError) as e:
        raise ValueError(f"{where}: the lambda's bytecode cannot be read ({e}); it was "
                         "probably saved by another Python version") from None
    if not isinstance(code, types.CodeType):
        raise ValueError(f"{where}: the lambda's bytecode is not a code object")
    cells = tuple(_cell(v) for v in closure) if isinstance(closure, list) and closure else None
    import ndflow

    g = {"__builtins__": __builtins__, "tf": ndflow, "ndflow": ndflow}
    try:
        return types.FunctionType(code, g, code.co_name,
                                  tuple(defaults) if isinstance(defaults, list) else None, cells)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: the lambda cannot be rebuilt ({e})") from None


def _short(value: Any, limit: int = 200) -> str:
    r = repr(value)
    return r if len(r) <= limit else r[:limit] + "..."
