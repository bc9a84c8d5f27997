"""Linear algebra: `matmul` (batched, with transposes), `tensordot`, `einsum`, `norm`.

>>> import ndflow as tf
>>> a = tf.ones([2, 3])
>>> tf.matmul(a, a, transpose_b=True).numpy().tolist()
[[3.0, 3.0], [3.0, 3.0]]
"""

from __future__ import annotations

import math
import string
from typing import Any

import numpy as np

from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor, constant
from ndflow.ops import math as m
from ndflow.ops._util import (
    binary, broadcast_shapes, known_size, mm, norm_axis, npdt, shape_of, t,
)
from ndflow.ops.array import transpose
from ndflow.ops.reduce import reduce_max, reduce_sum
from ndflow.ops.shape_ops import broadcast_to, reshape, unbroadcast


def _mm_fwd(xp: Any, a: Any, b: Any, ta: bool, tb: bool) -> Any:
    if ta:
        a = xp.swapaxes(a, -1, -2)
    if tb:
        b = xp.swapaxes(b, -1, -2)
    return mm(xp, a, b)


def _mm_infer(a: Spec, b: Spec, ta: bool, tb: bool) -> Spec:
    if a.ndim < 2 or b.ndim < 2:
        raise fail("matmul", "inputs of rank >= 2", f"ranks {a.ndim} and {b.ndim}",
                   "Use tf.expand_dims for vectors, or tf.tensordot.")
    if a.dtype != b.dtype:
        raise fail("matmul", "inputs of the same dtype", f"{a.dtype.name} and {b.dtype.name}",
                   "Cast one of them with tf.cast.")
    m_, ka = (a.shape[-1], a.shape[-2]) if ta else (a.shape[-2], a.shape[-1])
    kb, n = (b.shape[-1], b.shape[-2]) if tb else (b.shape[-2], b.shape[-1])
    if ka is not None and kb is not None and ka != kb:
        raise fail("matmul", "the inner dimensions to match", f"a with shape {list(a.shape)} and "
                   f"b with shape {list(b.shape)} (inner dims {ka} and {kb})",
                   "Check transpose_a/transpose_b or the layer sizes.")
    batch = broadcast_shapes("matmul", a.shape[:-2], b.shape[:-2])
    return Spec(tuple(batch) + (m_, n), a.dtype)


def _shared_matrix_grad(a: Tensor, b: Tensor, g: Tensor, tb: bool) -> Tensor | None:
    """The gradient of a matrix `b` shared by every matrix of a stack `a` (a Dense kernel on
    a sequence), as one product over all rows, ``a.reshape(-1, K).T @ g.reshape(-1, N)``,
    instead of a product per stack entry summed afterwards; None when it does not apply."""
    sa, sb, sg = shape_of(a), shape_of(b), shape_of(g)
    if len(sb) != 2 or len(sa) < 3 or None in sb or sa[-1] is None or sg[-1] is None:
        return None
    rows_a, rows_g = reshape(a, [-1, sa[-1]]), reshape(g, [-1, sg[-1]])
    return matmul(rows_g, rows_a, transpose_a=True) if tb \
        else matmul(rows_a, rows_g, transpose_a=True)


def _mm_grad(node: Any, g: Tensor) -> tuple:
    a, b = node.inputs
    ta, tb = node.attrs["ta"], node.attrs["tb"]
    na, nb = node.needs
    shared = _shared_matrix_grad(a, b, g, tb) if nb and not ta else None
    if shared is not None:  # (a's gradient then has a's shape: b is one matrix)
        return (matmul(g, b, transpose_b=not tb) if na else None, shared)
    ga = gb = None
    if not ta and not tb:
        ga = matmul(g, b, transpose_b=True) if na else None
        gb = matmul(a, g, transpose_a=True) if nb else None
    elif ta and not tb:
        ga = matmul(b, g, transpose_b=True) if na else None
        gb = matmul(a, g) if nb else None
    elif not ta and tb:
        ga = matmul(g, b) if na else None
        gb = matmul(g, a, transpose_a=True) if nb else None
    else:
        ga = matmul(b, g, transpose_a=True, transpose_b=True) if na else None
        gb = matmul(g, a, transpose_a=True, transpose_b=True) if nb else None
    return (unbroadcast(ga, shape_of(a)) if ga is not None else None,
            unbroadcast(gb, shape_of(b)) if gb is not None else None)


def _mm_blas(attrs: dict, specs: list) -> list:
    """The ``blas`` trait of matmul: one product (a stack of matrices against one matrix is
    one product over all its rows), or a stack of products."""
    (sa, _), (sb, _) = specs
    m_, k = (sa[-1], sa[-2]) if attrs["ta"] else (sa[-2], sa[-1])
    n = sb[-2] if attrs["tb"] else sb[-1]
    stacked = len(sb) > 2 or (len(sa) > 2 and attrs["ta"])
    if len(sa) > 2 and not stacked:
        m_ = known_size(sa[:-2] + (m_,))
    return [(stacked, m_, k, n)]


_MATMUL = register_op("matmul", _mm_fwd, _mm_infer, _mm_grad, blas=_mm_blas)


def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False,
           adjoint_a: bool = False, adjoint_b: bool = False, a_is_sparse: bool = False,
           b_is_sparse: bool = False, output_type: Any = None, name: str | None = None) -> Tensor:
    """Matrix product over the last two axes, broadcasting leading (batch) axes."""
    x, y = binary("matmul", a, b)
    ta, tb = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)
    sx, sy = shape_of(x), shape_of(y)
    if len(sx) < 2 or len(sy) < 2:
        raise fail("matmul", "inputs of rank >= 2", f"shapes {list(sx)} and {list(sy)}",
                   "Use tf.expand_dims for vectors, or tf.tensordot.")
    ka = sx[-2] if ta else sx[-1]
    kb = sy[-1] if tb else sy[-2]
    if ka != kb and ka is not None and kb is not None:
        raise fail("matmul", "the inner dimensions to match",
                   f"a with shape {list(sx)} and b with shape {list(sy)} (inner dims {ka} "
                   f"and {kb})", "Check transpose_a/transpose_b or the layer sizes.")
    return execute(_MATMUL, (x, y), {"ta": ta, "tb": tb})


def tensordot(a: Any, b: Any, axes: Any, name: str | None = None) -> Tensor:
    """Sum products over `axes` (an int N: last N of a with first N of b; or two lists)."""
    x, y = binary("tensordot", a, b)
    sx, sy = list(shape_of(x)), list(shape_of(y))
    if isinstance(axes, (int, np.integer)):
        ax_a = list(range(len(sx) - int(axes), len(sx)))
        ax_b = list(range(int(axes)))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, int) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, int) else list(ax_b)
        ax_a = [a_ % len(sx) for a_ in ax_a]
        ax_b = [b_ % len(sy) for b_ in ax_b]
    if len(ax_a) != len(ax_b) or any(sx[i] != sy[j] and None not in (sx[i], sy[j])
                                     for i, j in zip(ax_a, ax_b)):
        raise fail("tensordot", "contracted dimensions of equal sizes",
                   f"a{sx} axes {ax_a} and b{sy} axes {ax_b}")
    free_a = [i for i in range(len(sx)) if i not in ax_a]
    free_b = [j for j in range(len(sy)) if j not in ax_b]
    if None in sx or None in sy:  # unknown sizes (symbolic): let einsum work out the shape
        letters = string.ascii_letters
        sub_a = [letters[i] for i in range(len(sx))]
        sub_b = [letters[len(sx) + j] for j in range(len(sy))]
        for i, j in zip(ax_a, ax_b):
            sub_b[j] = sub_a[i]
        out_sub = "".join(sub_a[i] for i in free_a) + "".join(sub_b[j] for j in free_b)
        return einsum(f"{''.join(sub_a)},{''.join(sub_b)}->{out_sub}", x, y)
    k = int(np.prod([sx[i] for i in ax_a])) if ax_a else 1
    xa = reshape(transpose(x, free_a + ax_a), [-1, k])
    yb = reshape(transpose(y, ax_b + free_b), [k, -1])
    out = matmul(xa, yb)
    return reshape(out, [sx[i] for i in free_a] + [sy[j] for j in free_b])


# --- einsum -------------------------------------------------------------------------------------


def _parse_einsum(equation: str, ranks: list[int]) -> tuple[list[str], str]:
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(ranks):
        raise fail("einsum", f"{len(ins)} operands for equation {equation!r}",
                   f"{len(ranks)} operands")
    unused = [c for c in string.ascii_letters if c not in eq]
    ell = ""
    if "..." in eq:
        n_ell = max(r - (len(s) - 3) for s, r in zip(ins, ranks) if "..." in s)
        ell = "".join(unused[:n_ell])
        ins = [s.replace("...", ell[len(ell) - (r - (len(s) - 3)):]) if "..." in s else s
               for s, r in zip(ins, ranks)]
    for s, r in zip(ins, ranks):
        if len(s) != r:
            raise fail("einsum", f"operand subscripts {s!r} to match the operand's rank",
                       f"rank {r}")
    if arrow:
        out = rhs.replace("...", ell)
    else:
        letters = "".join(ins)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                   and c not in ell))
    return ins, out


def _einsum_infer(*xs: Spec, ins: tuple, out: str) -> Spec:
    sizes: dict[str, Any] = {}
    for s, x in zip(ins, xs):
        for c, d in zip(s, x.shape):
            prev = sizes.get(c)
            if prev is not None and d is not None and prev != d and 1 not in (d, prev):
                raise fail("einsum", f"dimension {c!r} to have one size", f"{sizes[c]} and {d}")
            if sizes.get(c) in (None, 1):
                sizes[c] = d
    return Spec(tuple(sizes[c] for c in out), xs[0].dtype)


def _einsum_grad(node: Any, g: Tensor) -> tuple:
    ins, out = node.attrs["ins"], node.attrs["out"]
    xs = node.inputs
    grads = []
    for i, (s, x) in enumerate(zip(ins, xs)):
        if not node.needs[i]:
            grads.append(None)
            continue
        others = [(ins[j], xs[j]) for j in range(len(xs)) if j != i]
        avail = set(out) | {c for o, _ in others for c in o}
        first = [k for k, c in enumerate(s) if s.index(c) == k]  # first occurrence of a letter
        kept = "".join(s[k] for k in first if s[k] in avail)
        gi = execute(_EINSUM, (g,) + tuple(o for _, o in others),
                     {"ins": (out,) + tuple(o for o, _ in others), "out": kept})
        shape_x = tuple(shape_of(x))
        if kept != s:
            # Letters summed away come back by broadcasting; a repeated letter (a diagonal,
            # as in "ii->i") gets its gradient only on the diagonal.
            tmp_shape = [shape_x[k] if k in first and c in kept else 1 for k, c in enumerate(s)]
            gi = broadcast_to(reshape(gi, tmp_shape), shape_x)
            if len(first) != len(s):
                gi = m.multiply(gi, constant(_diagonal_mask(s, shape_x, npdt(gi))))
        gi = unbroadcast(gi, shape_x) if tuple(shape_of(gi)) != shape_x else gi
        grads.append(gi)
    return tuple(grads)


def _diagonal_mask(subscripts: str, shape: tuple, dtype: Any) -> np.ndarray:
    """1 where every repeated subscript has equal indices, else 0."""
    mask = np.ones(shape, dtype=bool)
    grids = np.indices(shape, sparse=True)
    for k, c in enumerate(subscripts):
        k0 = subscripts.index(c)
        if k0 != k:
            mask &= grids[k] == grids[k0]
    return mask.astype(dtype)


def _pair_plan(a: str, b: str, out: str) -> tuple | None:
    """How `einsum(a,b->out)` runs as one batched matmul, or None where it cannot (a repeated
    letter within an operand, or a letter kept from both operands but absent from one).

    Letters split into batch (in a, b and out), left (a and out), right (b and out) and
    contracted (a and b, not out); letters in one operand only and not in out are summed
    first. Returns (sum axes of a, of b, order of a, order of b, group sizes, out perm, swap):
    with swap the operands trade places, so that the product comes out in the output's order.
    """
    if len(set(a)) != len(a) or len(set(b)) != len(b) or len(set(out)) != len(out):
        return None
    if any(c not in a and c not in b for c in out):
        return None
    batch = [c for c in out if c in a and c in b]
    free = [c for c in out if c not in batch]
    if not free:
        return None  # row-wise dot products: einsum's sum-of-products loop beats 1x1 matmuls
    if free and free[0] not in a:
        # b's letters come first in the output: b @ a gives that order without a transpose
        plan = _pair_plan(b, a, out)
        return None if plan is None else plan[:-1] + (not plan[-1],)
    left = [c for c in out if c in a and c not in b]
    right = [c for c in out if c in b and c not in a]
    contract = [c for c in a if c in b and c not in out]
    sum_a = tuple(k for k, c in enumerate(a) if c not in b and c not in out)
    sum_b = tuple(k for k, c in enumerate(b) if c not in a and c not in out)
    a_kept = [c for c in a if c in b or c in out]
    b_kept = [c for c in b if c in a or c in out]
    order_a = tuple(a_kept.index(c) for c in batch + left + contract)
    order_b = tuple(b_kept.index(c) for c in batch + contract + right)
    res = batch + left + right
    perm = tuple(res.index(c) for c in out)
    return sum_a, sum_b, order_a, order_b, (len(batch), len(left), len(contract)), perm, False


_PLANS: dict = {}


def _einsum_pair(xp: Any, x: Any, y: Any, a: str, b: str, out: str) -> Any:
    key = (a, b, out)
    plan = _PLANS.get(key, False)
    if plan is False:
        plan = _PLANS[key] = _pair_plan(a, b, out)
    if plan is None:
        return None
    sum_a, sum_b, order_a, order_b, (nb, nl, nk), perm, swap = plan
    if swap:
        x, y = y, x
    if sum_a:
        x = x.sum(axis=sum_a)
    if sum_b:
        y = y.sum(axis=sum_b)
    x = x.transpose(order_a)
    y = y.transpose(order_b)
    bx, by = x.shape[:nb], y.shape[:nb]
    if bx != by or x.shape[nb + nl:] != y.shape[nb:nb + nk]:
        return None  # broadcasting of size-1 letters: leave it to einsum
    ls, ks, rs = x.shape[nb:nb + nl], x.shape[nb + nl:], y.shape[nb + nk:]
    lsz, ksz, rsz = math.prod(ls), math.prod(ks), math.prod(rs)
    x, y = x.reshape(bx + (lsz, ksz)), y.reshape(bx + (ksz, rsz))
    if nb:
        # a stack of small products runs faster on contiguous operands; copy those no larger
        # than the result (the copy is then cheap beside the product)
        limit = math.prod(bx) * lsz * rsz
        x = xp.ascontiguousarray(x) if x.size <= limit else x
        y = xp.ascontiguousarray(y) if y.size <= limit else y
    r = mm(xp, x, y)
    r = r.reshape(bx + ls + rs)
    return r.transpose(perm) if perm != tuple(range(len(perm))) else r


def _einsum_fwd(xp: Any, *arrays: Any, ins: tuple, out: str) -> Any:
    if len(arrays) == 2:
        r = _einsum_pair(xp, arrays[0], arrays[1], ins[0], ins[1], out)
        if r is not None:
            return r
    return xp.einsum(",".join(ins) + "->" + out, *arrays, optimize=len(arrays) > 2)


def _einsum_blas(attrs: dict, specs: list) -> Any:
    """The ``blas`` trait of einsum: the one product of a pair (`_einsum_pair`); NumPy's
    einsum loops for one operand or a pair without a product plan; "any" for more."""
    ins, out = attrs["ins"], attrs["out"]
    if len(ins) > 2:
        return "any"
    plan = _pair_plan(ins[0], ins[1], out) if len(ins) == 2 else None
    if plan is None:
        return []
    sum_a, sum_b, order_a, order_b, (nb, nl, nk), _, swap = plan
    (a, sa), (b, sb) = (ins[0], specs[0][0]), (ins[1], specs[1][0])
    if swap:
        (a, sa), (b, sb) = (b, sb), (a, sa)
    xa = [sa[i] for i in range(len(a)) if i not in sum_a]
    xb = [sb[i] for i in range(len(b)) if i not in sum_b]
    x, y = [xa[i] for i in order_a], [xb[i] for i in order_b]
    batch = known_size(x[:nb])
    return [(batch != 1, known_size(x[nb:nb + nl]), known_size(x[nb + nl:]),
             known_size(y[nb + nk:]))]


_EINSUM = register_op("einsum", _einsum_fwd, _einsum_infer, _einsum_grad, blas=_einsum_blas)


def einsum(equation: str, *inputs: Any, name: str | None = None, **kwargs: Any) -> Tensor:
    """Einstein summation, e.g. `einsum("bij,bjk->bik", a, b)`."""
    xs = [t(x) for x in inputs]
    for x in xs[1:]:
        if npdt(x) != npdt(xs[0]):
            raise fail("einsum", f"operands of one dtype ({npdt(xs[0]).name})",
                       f"{npdt(x).name}", "Cast with tf.cast.")
    ins, out = _parse_einsum(equation, [len(shape_of(x)) for x in xs])
    return execute(_EINSUM, tuple(xs), {"ins": tuple(ins), "out": out})


# --- norms ----------------------------------------------------------------------------------------


def norm(tensor: Any, ord: Any = "euclidean", axis: Any = None, keepdims: bool = False,
         name: str | None = None) -> Tensor:
    """Vector norms (`ord` = 'euclidean'/2, 1, np.inf, or p > 0) and the Frobenius norm."""
    x = t(tensor)
    nd = len(shape_of(x))
    if isinstance(axis, Tensor):
        axis = axis.numpy().tolist()
    if axis is not None and not isinstance(axis, (int, np.integer)) and len(axis) == 2:
        return _matrix_norm(x, ord, tuple(int(a) % max(nd, 1) for a in axis), keepdims)
    if ord == "fro" and axis is not None:
        raise fail("norm", "ord='fro' only for matrix norms (axis of two dims)",
                   f"ord='fro' with axis={axis}")
    if ord in ("euclidean", "fro", 2, 2.0):
        return m.sqrt(reduce_sum(m.square(x), axis=axis, keepdims=keepdims))
    if ord in (1, 1.0):
        return reduce_sum(m.abs(x), axis=axis, keepdims=keepdims)
    if ord in (np.inf, "inf"):
        return reduce_max(m.abs(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, (int, float)) and ord > 0:
        return m.pow(reduce_sum(m.pow(m.abs(x), float(ord)), axis=axis, keepdims=keepdims),
                     1.0 / ord)
    norm_axis("norm", axis, nd)
    raise fail("norm", "ord in {'euclidean', 'fro', 1, 2, inf, p > 0}", repr(ord))


def _matrix_norm(x: Tensor, ord: Any, axes: tuple, keepdims: bool) -> Tensor:
    """Frobenius, max-column-sum (1) and max-row-sum (inf) norms over two axes."""
    nd = len(shape_of(x))
    norm_axis("norm", axes, nd)  # validates the axes
    row, col = axes
    if ord in ("euclidean", "fro"):
        return m.sqrt(reduce_sum(m.square(x), axis=axes, keepdims=keepdims))
    if ord in (1, 1.0, np.inf, "inf"):
        # ord=1: sum over rows, then max over columns; ord=inf: the other way round.
        inner, outer = (row, col) if ord in (1, 1.0) else (col, row)
        s = reduce_sum(m.abs(x), axis=inner, keepdims=True)
        out = reduce_max(s, axis=outer, keepdims=True)
        if not keepdims:
            out = reshape(out, [d for i, d in enumerate(shape_of(x)) if i not in axes])
        return out
    raise fail("norm", "ord in {'euclidean', 'fro', 1, inf} for a matrix norm (axis of two "
               "dims)", f"ord={ord!r}",
               "The spectral norm (ord=2) needs a singular value decomposition, which ndflow "
               "does not have yet.")


def l2_normalize(x: Any, axis: Any = None, epsilon: float = 1e-12, name: str | None = None
                 ) -> Tensor:
    x = t(x)
    sq = reduce_sum(m.square(x), axis=axis, keepdims=True)
    return m.multiply(x, m.rsqrt(m.maximum(sq, epsilon)))


def trace(x: Any, name: str | None = None) -> Tensor:
    x = t(x)
    return reduce_sum(diag_part(x), axis=-1)


def diag_part(x: Any, name: str | None = None) -> Tensor:
    """The main diagonal of the innermost matrices: shape `[..., min(rows, cols)]`."""
    x = t(x)
    shape = shape_of(x)
    if len(shape) < 2:
        raise fail("diag_part", "an input of rank >= 2", f"shape {list(shape)}")
    rows, cols = shape[-2:]
    if rows is None or cols is None:
        raise fail("diag_part", "known sizes for the last two dimensions", f"shape {list(shape)}")
    n = min(rows, cols)
    sl = x[..., :n, :n] if rows != cols else x
    return einsum("...ii->...i", sl)


def matvec(a: Any, b: Any, transpose_a: bool = False) -> Tensor:
    from ndflow.ops.array import expand_dims, squeeze

    return squeeze(matmul(a, expand_dims(b, -1), transpose_a=transpose_a), -1)
