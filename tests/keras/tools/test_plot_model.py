"""keras.utils.plot_model / model_to_dot through pydot and Graphviz: for Sequential,
Functional, subclassed and nested models the DOT text has one node per layer with its shapes,
edges along the data flow, and Graphviz draws the PNG/SVG."""

from __future__ import annotations

import os
import re
import shutil

import numpy as np
import pytest

pydot = pytest.importorskip("pydot", reason='needs ndflow[viz] (pip install pydot)')

from ndflow import keras  # noqa: E402
from ndflow.keras import layers  # noqa: E402

# CI installs Graphviz (.ci/run), so there a missing `dot` fails instead of skipping
_NO_DOT = shutil.which("dot") is None and not os.environ.get("CI")
needs_dot = pytest.mark.skipif(_NO_DOT, reason="Graphviz is not installed (apt-get install "
                               "graphviz)")


def _nodes(dot):
    return [n for n in dot.get_nodes() if n.get_name() not in ("node", "edge", "graph")]


def _labels(dot):
    out = {}
    for n in _nodes(dot):
        out[n.get_name()] = n.get("label")
    return out


def _all_nodes(dot):
    nodes = list(_nodes(dot))
    for sg in dot.get_subgraphs():
        nodes += _all_nodes(sg)
    return nodes


def _all_edges(dot):
    edges = [(e.get_source(), e.get_destination()) for e in dot.get_edges()]
    for sg in dot.get_subgraphs():
        edges += _all_edges(sg)
    return edges


def sequential():
    return keras.Sequential([keras.Input((8,)), layers.Dense(16, activation="relu", name="h"),
                             layers.Dropout(0.1), layers.Dense(3, name="out")], name="seq")


def functional():
    a = keras.Input((8,), name="a")
    b = keras.Input((4,), name="b")
    x = layers.Dense(6, name="da")(a)
    y = layers.Dense(6, name="db")(b)
    z = layers.Concatenate(name="cat")([x, y])
    return keras.Model([a, b], layers.Dense(1, name="out")(z), name="fun")


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__(name="sub")
        self.d = layers.Dense(2)

    def call(self, x):
        return self.d(x)


def nested():
    inner = keras.Sequential([keras.Input((8,)), layers.Dense(5, name="inner_dense"),
                              layers.Dense(4, name="inner_out")], name="inner")
    inp = keras.Input((8,), name="x")
    h = inner(inp)
    out = layers.Dense(2, name="head")(h)
    return keras.Model(inp, out, name="outer"), inner


def test_sequential_one_node_per_layer_with_shapes():
    m = sequential()
    dot = keras.utils.model_to_dot(m, show_shapes=True, show_dtype=True,
                                   show_layer_activations=True, show_trainable=True)
    labels = _labels(dot)
    assert len(labels) == len(m.layers) == 3
    text = dot.to_string()
    for layer in m.layers:
        assert labels[str(id(layer))].count(f"<b>{layer.name}</b>") == 1
    h = labels[str(id(m.layers[0]))]
    assert "Input shape: <b>(None, 8)</b>" in h and "Output shape: <b>(None, 16)</b>" in h
    assert "Activation: <b>relu</b>" in h and "float32" in h and "Trainable" in h
    assert "Output shape: <b>(None, 3)</b>" in labels[str(id(m.layers[2]))]
    assert len(_all_edges(dot)) == 2 and "rankdir=TB" in text


def test_functional_edges_follow_the_graph():
    m = functional()
    dot = keras.utils.model_to_dot(m, show_shapes=True, rankdir="LR")
    labels = _labels(dot)
    assert len(labels) == len(m.layers) == 6  # two InputLayers, da, db, cat, out
    by_name = {layer.name: str(id(layer)) for layer in m.layers}
    assert "Output shape: <b>(None, 12)</b>" in labels[by_name["cat"]]
    assert "Input shape: <b>[(None, 6), (None, 6)]</b>" in labels[by_name["cat"]]
    assert "Input shape" not in labels[by_name["a"]]  # as Keras: inputs show only outputs
    edges = set(_all_edges(dot))
    assert edges == {(by_name["a"], by_name["da"]), (by_name["b"], by_name["db"]),
                     (by_name["da"], by_name["cat"]), (by_name["db"], by_name["cat"]),
                     (by_name["cat"], by_name["out"])}


def test_subclassed_is_one_box_and_nested_expands():
    sub = Subclassed()
    sub(np.zeros((1, 3), "float32"))
    assert len(_labels(keras.utils.model_to_dot(sub))) == 1
    outer, inner = nested()
    flat = keras.utils.model_to_dot(outer, show_shapes=True)
    assert len(_labels(flat)) == 3  # x, inner (one box), head
    assert "Output shape: <b>(None, 4)</b>" in _labels(flat)[str(id(inner))]
    deep = keras.utils.model_to_dot(outer, show_shapes=True, expand_nested=True)
    names = {n.get_name() for n in _all_nodes(deep)}
    assert names == {str(id(x)) for x in (outer.layers[0], *inner.layers, outer.layers[-1])}
    assert len(deep.get_subgraphs()) == 1 and deep.get_subgraphs()[0].get("label") == "inner"
    edges = set(_all_edges(deep))
    x_id, d1, d2, head = (str(id(outer.layers[0])), str(id(inner.layers[0])),
                          str(id(inner.layers[1])), str(id(outer.layers[-1])))
    assert edges == {(x_id, d1), (d1, d2), (d2, head)}


def test_bad_arguments():
    m = sequential()
    with pytest.raises(ValueError, match="rankdir"):
        keras.utils.model_to_dot(m, rankdir="XY")
    with pytest.raises(ValueError, match="unrecognized keyword"):
        keras.utils.model_to_dot(m, colour=True)
    with pytest.raises(ValueError, match="not built"):
        keras.utils.plot_model(keras.Sequential([layers.Dense(2)]), "x.png")


@needs_dot
@pytest.mark.parametrize("make", [sequential, functional, lambda: nested()[0]],
                         ids=["sequential", "functional", "nested"])
def test_plot_model_draws_png_with_graphviz(tmp_path, make):
    m = make()
    path = tmp_path / "model.png"
    keras.utils.plot_model(m, to_file=str(path), show_shapes=True, expand_nested=True, dpi=72)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert w > 100 and h > 100
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".plot_model")]


@needs_dot
def test_plot_model_svg_names_every_layer(tmp_path):
    m = functional()
    path = tmp_path / "model.svg"
    keras.utils.plot_model(m, to_file=str(path), show_layer_names=True)
    svg = path.read_text()
    for layer in m.layers:
        assert re.search(rf">{layer.name}<", svg), layer.name


def test_missing_graphviz_names_apt_get(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ImportError, match="apt-get install graphviz"):
        keras.utils.plot_model(sequential(), to_file=str(tmp_path / "m.png"))
