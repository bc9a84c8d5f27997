"""NASNet's arguments as Keras checks them, and its ImageNet files as Keras names them."""

from __future__ import annotations

import urllib.error

import pytest

from ndflow import keras
from ndflow.keras.utils import file_utils

nasnet = keras.applications.nasnet


def test_imagenet_weights_offline_error_names_url_and_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    asked = []

    def no_network(url, timeout=None):
        asked.append(url)
        raise urllib.error.URLError("network is unreachable (test)")

    monkeypatch.setattr(file_utils.urllib.request, "urlopen", no_network)
    with pytest.raises(ConnectionError) as e:
        keras.applications.NASNetMobile(weights="imagenet", include_top=False)
    url = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/" \
          "NASNet-mobile-no-top.h5"
    assert asked == [url]
    assert str(tmp_path / "models" / "nasnet_mobile_no_top.h5") in str(e.value)


def test_default_input_shapes_and_pooling():
    m = keras.applications.NASNetMobile(weights=None, include_top=False, pooling="avg")
    assert m.input_shape == (None, 224, 224, 3) and m.output_shape == (None, 1056)
    assert m.name == "nasnet_mobile"


@pytest.mark.parametrize("kwargs, match", [
    ({"weights": "imagenet", "classes": 10}, "classes=1000"),
    ({"weights": "imagenet", "include_top": False, "input_shape": (None, None, 3)},
     "static input_shape"),
    ({"weights": None, "penultimate_filters": 1000}, "multiple of 24"),
    ({"weights": "imagenet", "include_top": False, "default_size": 100,
      "input_shape": (32, 32, 3), "penultimate_filters": 96, "num_blocks": 1,
      "stem_block_filters": 8}, "default_size 224"),
])
def test_argument_errors(kwargs, match, monkeypatch):
    monkeypatch.setattr(file_utils, "get_file", lambda *a, **k: pytest.fail("downloaded"))
    with pytest.raises(ValueError, match=match):
        nasnet.NASNet(**kwargs)
