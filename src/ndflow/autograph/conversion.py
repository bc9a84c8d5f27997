"""Converting functions: source → AST → transformed AST → a new function with the original's
globals, closure cells and defaults; which functions are converted (user code, not ndflow,
NumPy, the standard library or installed packages); the switch `ndflow.function` flips."""

from __future__ import annotations

import ast
import functools
import inspect
import os
import sys
import sysconfig
import textwrap
import threading
import types
import warnings
import weakref
from collections.abc import Callable
from typing import Any

from ndflow.autograph import operators
from ndflow.autograph.transformer import FunctionConverter, NotConvertible

_state = threading.local()


def is_enabled() -> bool:
    """True while a function traced with AutoGraph on runs (converted calls convert)."""
    return getattr(_state, "enabled", False)


class _Switch:
    def __init__(self, on: bool) -> None:
        self.on = on

    def __enter__(self) -> None:
        self.prev = is_enabled()
        _state.enabled = self.on

    def __exit__(self, *exc: Any) -> None:
        _state.enabled = self.prev


# --- which functions convert ------------------------------------------------------------------

_SKIP_PACKAGES = frozenset({"numpy", "keras", "torch", "h5py", "scipy", "cupy",
                            "tensorflow", "jax", "pytest", "_pytest", "pluggy", "hypothesis",
                            "mnist1d", "numba"})
_NDFLOW_DIR = os.path.realpath(os.path.dirname(os.path.dirname(__file__))) + os.sep
_SKIP_DIRS = tuple(os.path.realpath(p) + os.sep for p in {
    sysconfig.get_paths().get("stdlib", ""), sysconfig.get_paths().get("purelib", ""),
    sysconfig.get_paths().get("platlib", "")} if p)
_failed: dict = {}


_decided: dict = {}  # code object -> whether functions with that code convert


def _should_convert(fn: types.FunctionType) -> bool:
    if getattr(fn, "__ag_do_not_convert__", False) or getattr(fn, "__ag_converted__", False):
        return False
    hit = _decided.get(fn.__code__)
    if hit is None:
        hit = _decided[fn.__code__] = _is_user_code(fn)
    return hit


def _is_user_code(fn: types.FunctionType) -> bool:
    module = (getattr(fn, "__module__", None) or "").split(".")[0]
    if module in _SKIP_PACKAGES or module in sys.stdlib_module_names:
        return False
    code = fn.__code__
    if code.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE
                        | inspect.CO_ASYNC_GENERATOR):
        return False
    if fn.__name__ == "<lambda>" or fn.__qualname__.startswith("__ag_factory"):
        return False  # lambdas stay; defs inside converted code were converted with it
    path = os.path.realpath(code.co_filename)
    if path.startswith(_NDFLOW_DIR):  # e.g. an ndflow wrapper made with functools.wraps
        return False
    return not path.startswith(_SKIP_DIRS)


# --- conversion --------------------------------------------------------------------------------

_by_code: dict = {}  # code object -> (converted code, converted source) or None
_by_fn: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _parse(fn: types.FunctionType) -> ast.FunctionDef:
    src = textwrap.dedent(inspect.getsource(fn))
    tree = ast.parse(src)
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef) or node.name != fn.__code__.co_name:
        raise NotConvertible("the source is not a plain def (lambda or generated code)")
    ast.increment_lineno(tree, fn.__code__.co_firstlineno - node.lineno)
    return node


def _strip_signature_extras(node: ast.FunctionDef) -> None:
    """Defaults and annotations are not re-evaluated: the original's are kept."""
    node.decorator_list = []
    node.returns = None
    a = node.args
    for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
        if arg is not None:
            arg.annotation = None
    a.defaults = []
    a.kw_defaults = [None] * len(a.kwonlyargs)


def _convert_code(fn: types.FunctionType) -> tuple[types.CodeType, str]:
    key = fn.__code__
    hit = _by_code.get(key)
    if hit is not None:
        return hit
    node = _parse(fn)
    _strip_signature_extras(node)
    node = FunctionConverter().convert(node)
    freevars = list(fn.__code__.co_freevars)
    factory = ast.FunctionDef(
        name="__ag_factory",
        args=ast.arguments(posonlyargs=[], args=[ast.arg("ag__")] + [ast.arg(n) for n in freevars],
                           vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=[node, ast.Return(ast.Name(node.name, ast.Load()))], decorator_list=[],
        returns=None)
    if "type_params" in ast.FunctionDef._fields:
        factory.type_params = []
    module = ast.Module(body=[factory], type_ignores=[])
    ast.fix_missing_locations(module)
    code = compile(module, fn.__code__.co_filename, "exec", dont_inherit=True)
    ns: dict = {}
    exec(code, {"__builtins__": __builtins__}, ns)  # defines the factory only
    inner = ns["__ag_factory"](_AG, *([None] * len(freevars)))
    out = (inner.__code__, ast.unparse(node))
    _by_code[key] = out
    return out


def convert(fn: Callable) -> Callable:
    """`fn` converted (methods stay bound); `fn` itself when it is not converted."""
    if isinstance(fn, types.MethodType):
        conv = convert(fn.__func__)
        return fn if conv is fn.__func__ else types.MethodType(conv, fn.__self__)
    if isinstance(fn, functools.partial):
        conv = convert(fn.func)
        return fn if conv is fn.func else functools.partial(conv, *fn.args, **fn.keywords)
    if not isinstance(fn, types.FunctionType) or not _should_convert(fn):
        return fn
    hit = _by_fn.get(fn)
    if hit is not None:
        return hit
    if fn.__code__ in _failed:
        return fn
    try:
        code, _ = _convert_code(fn)
    except (NotConvertible, OSError, TypeError, SyntaxError, IndentationError) as e:
        _failed[fn.__code__] = True
        warnings.warn(f"AutoGraph could not transform {fn.__qualname__} and will run it as-is "
                      f"(Python control flow on tensors will fail there): {e}", stacklevel=3)
        return fn
    cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
    closure = tuple(cells[n] if n in cells else types.CellType(_AG)
                    for n in code.co_freevars)
    new = types.FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__, closure)
    new.__kwdefaults__ = fn.__kwdefaults__
    new.__dict__.update(fn.__dict__)
    new.__qualname__ = fn.__qualname__
    new.__module__ = fn.__module__
    new.__doc__ = fn.__doc__
    new.__wrapped__ = fn  # type: ignore[attr-defined]
    new.__ag_converted__ = True  # type: ignore[attr-defined]
    _by_fn[fn] = new
    return new


def converted_call(f: Any, args: tuple, kwargs: dict) -> Any:
    """A call in converted code: user functions it reaches are converted too."""
    if is_enabled() and isinstance(f, (types.FunctionType, types.MethodType,
                                       functools.partial)):
        f = convert(f)
    return f(*args, **kwargs)


_AG = types.SimpleNamespace(converted_call=converted_call,
                            **{n: getattr(operators, n) for n in operators.__all__})


class Entry:
    """What `ndflow.function` traces: the user's function, converted when AutoGraph is on."""

    def __init__(self, fn: Callable, autograph: bool = True) -> None:
        self.fn = fn
        self.autograph = autograph
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with _Switch(self.autograph):
            f = convert(self.fn) if self.autograph else self.fn
            return f(*args, **kwargs)

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        return self if instance is None else functools.partial(self, instance)


def to_source(fn: Callable) -> str:
    fn = getattr(fn, "python_function", fn)
    fn = fn.fn if isinstance(fn, Entry) else fn
    fn = fn.__func__ if isinstance(fn, types.MethodType) else fn
    if not isinstance(fn, types.FunctionType):
        raise TypeError(f"to_code: expected a Python function, got {type(fn).__name__}")
    return _convert_code(fn)[1] + "\n"
