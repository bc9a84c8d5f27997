"""The shared machinery of keras.applications: `weights=` ("imagenet" through the Keras cache
with Keras's URLs and hashes, a clear offline error, local files), argument checks as Keras
makes them, `input_tensor`, and `preprocess_input`/`decode_predictions` equal to Keras's."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import urllib.error

import h5py
import numpy as np
import pytest

from ndflow import keras
from ndflow.keras.applications import imagenet_utils
from ndflow.keras.utils import file_utils
from tests.keras.applications.interop import SCRIPT, needs_keras, perturb

apps = keras.applications
FAMILIES = ["vgg16", "vgg19", "resnet", "resnet50", "resnet_v2", "mobilenet", "mobilenet_v2",
            "densenet", "efficientnet"]
FAMILIES += [m for m in ("mobilenet_v3", "xception", "inception_v3", "inception_resnet_v2",
                         "convnext", "efficientnet_v2", "nasnet", "regnet")
             if hasattr(apps, m)]


def write_legacy_h5(model: keras.Model, path: str) -> None:
    """Keras's legacy HDF5 weights layout (the one of the files Keras downloads)."""
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [la.name.encode() for la in model.layers]
        for la in model.layers:
            g = f.create_group(la.name)
            ws = list(la.trainable_weights) + list(la.non_trainable_weights)
            names = [f"{la.name}/{w.name}_{i}:0".encode() for i, w in enumerate(ws)]
            g.attrs["weight_names"] = names
            for n, w in zip(names, ws):
                g.create_dataset(n.decode(), data=w.numpy())


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """An empty Keras cache and no network; records the URLs asked for."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    asked = []

    def no_network(url, timeout=None):
        asked.append(url)
        raise urllib.error.URLError("network is unreachable (test)")

    monkeypatch.setattr(file_utils.urllib.request, "urlopen", no_network)
    return tmp_path / "keras_home" / "models", asked


def test_imagenet_weights_offline_error_names_url_and_cache(offline):
    models_dir, asked = offline
    with pytest.raises(ConnectionError) as e:
        apps.ResNet50(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    fname = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    url = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/" + fname
    assert asked == [url]
    assert str(models_dir / fname) in str(e.value) and url in str(e.value)


def test_imagenet_weights_read_from_cache(offline):
    models_dir, asked = offline
    ref = apps.MobileNet(weights=None, include_top=False, alpha=0.25, input_shape=(32, 32, 3))
    perturb(ref, 3)
    os.makedirs(models_dir)
    write_legacy_h5(ref, str(models_dir / "mobilenet_2_5_224_tf_no_top.h5"))
    with pytest.warns(UserWarning, match="224x224"):
        model = apps.MobileNet(weights="imagenet", include_top=False, alpha=0.25,
                               input_shape=(32, 32, 3))
    assert asked == []  # found in the cache: nothing downloaded
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), ref.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)


def test_cached_file_with_wrong_hash_is_downloaded_again(offline):
    models_dir, asked = offline
    os.makedirs(models_dir)
    fname = "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5"
    (models_dir / fname).write_bytes(b"not the published file")
    with pytest.raises(ConnectionError):
        apps.DenseNet121(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert asked == ["https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
                     + fname]


def test_weights_path_loads_keras3_and_legacy_files(tmp_path):
    ref = apps.ResNet50V2(weights=None, include_top=False, input_shape=(32, 32, 3))
    perturb(ref, 5)
    new_path = str(tmp_path / "w.weights.h5")
    old_path = str(tmp_path / "w.h5")
    ref.save_weights(new_path)
    write_legacy_h5(ref, old_path)
    x = np.random.default_rng(1).uniform(0, 255, (1, 32, 32, 3)).astype("float32")
    want = ref.predict(x, verbose=0)
    for path in (new_path, old_path):
        got = apps.ResNet50V2(weights=path, include_top=False, input_shape=(32, 32, 3))
        np.testing.assert_allclose(got.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="layers that have weights"):
        apps.ResNet50(weights=old_path, include_top=False, input_shape=(32, 32, 3))


@pytest.mark.parametrize("kwargs, match", [
    ({"weights": "no/such/file.h5"}, "path of an existing weights file"),
    ({"weights": "imagenet", "classes": 10}, "classes=1000"),
    ({"weights": None, "input_shape": (16, 16, 3), "include_top": False}, "at least 32x32"),
    ({"weights": None, "input_shape": (32, 32)}, "three integers"),
    ({"weights": None, "input_shape": (None, None, 3)}, "static shape"),
    ({"weights": "imagenet", "input_shape": (32, 32, 3)}, r"\(224, 224, 3\)"),
    ({"weights": "imagenet", "input_shape": (64, 64, 1), "include_top": False}, "3 channels"),
])
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        apps.VGG16(**kwargs)


def test_classifier_activation(tmp_path):
    m = apps.MobileNetV2(weights=None, input_shape=(32, 32, 3), classes=4, alpha=0.35,
                         classifier_activation=None)
    x = np.random.default_rng(2).uniform(0, 255, (3, 32, 32, 3)).astype("float32")
    logits = m.predict(x, verbose=0)
    assert not np.allclose(logits.sum(-1), 1.0)
    path = str(tmp_path / "m.weights.h5")
    m.save_weights(path)
    with pytest.raises(ValueError, match="None or 'softmax'"):
        apps.MobileNetV2(weights=path, input_shape=(32, 32, 3), classes=4, alpha=0.35,
                         classifier_activation="relu")
    soft = apps.MobileNetV2(weights=path, input_shape=(32, 32, 3), classes=4, alpha=0.35)
    p = soft.predict(x, verbose=0)
    np.testing.assert_allclose(p, np.exp(logits) / np.exp(logits).sum(-1, keepdims=True),
                               rtol=1e-4, atol=1e-6)


def test_input_tensor_and_pooling():
    inp = keras.Input((40, 40, 3))
    x = keras.layers.Rescaling(1.0)(inp)
    m = apps.DenseNet121(weights=None, include_top=False, input_tensor=x, pooling="max")
    assert m.inputs[0] is inp and m.output_shape == (None, 1024)
    assert apps.ResNet50(weights=None, include_top=False, pooling="avg").output_shape == \
        (None, 2048)
    assert apps.VGG19(weights=None, include_top=False).input_shape == (None, None, None, 3)


def test_decode_predictions_uses_the_cached_class_index(offline, monkeypatch):
    models_dir, asked = offline
    os.makedirs(models_dir)
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    path = models_dir / "imagenet_class_index.json"
    path.write_text(json.dumps(index))
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_HASH",
                        hashlib.md5(path.read_bytes()).hexdigest())
    preds = np.zeros((2, 1000), "float32")
    preds[0, [5, 7, 9]] = [0.2, 0.5, 0.3]
    preds[1, 999] = 1.0
    out = apps.resnet.decode_predictions(preds, top=3)
    assert [r[1] for r in out[0]] == ["class_7", "class_9", "class_5"]
    assert out[1][0] == ("n00000999", "class_999", np.float32(1.0))
    assert asked == []
    with pytest.raises(ValueError, match=r"\(samples, 1000\)"):
        apps.vgg16.decode_predictions(np.zeros((2, 10)))


def test_decode_predictions_offline_error(offline, monkeypatch):
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    with pytest.raises(ConnectionError, match="imagenet_class_index.json"):
        imagenet_utils.decode_predictions(np.zeros((1, 1000)))


def test_preprocess_input_modes_numpy_and_tensor():
    x = np.random.default_rng(3).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    caffe = imagenet_utils.preprocess_input(x.copy(), mode="caffe")
    np.testing.assert_allclose(caffe, x[..., ::-1] - [103.939, 116.779, 123.68], rtol=1e-6)
    torch_mode = imagenet_utils.preprocess_input(x.copy(), mode="torch")
    np.testing.assert_allclose(torch_mode, (x / 255 - [0.485, 0.456, 0.406])
                               / [0.229, 0.224, 0.225], rtol=1e-5)
    for mode in ("caffe", "tf", "torch"):
        t = imagenet_utils.preprocess_input(keras.ops.convert_to_tensor(x), mode=mode)
        np.testing.assert_allclose(np.asarray(t), imagenet_utils.preprocess_input(
            x.copy(), mode=mode), rtol=1e-5, atol=1e-5)
    first = imagenet_utils.preprocess_input(np.moveaxis(x, -1, 1).copy(),
                                            data_format="channels_first")
    np.testing.assert_allclose(np.moveaxis(first, 1, -1), caffe, rtol=1e-6)
    u8 = imagenet_utils.preprocess_input(x.astype("uint8"), mode="tf")
    assert u8.dtype == np.float32
    with pytest.raises(ValueError, match="mode one of"):
        imagenet_utils.preprocess_input(x, mode="bgr")


@needs_keras
def test_preprocess_and_decode_equal_keras(tmp_path):
    folder = str(tmp_path)
    x = np.random.default_rng(4).uniform(0, 255, (2, 5, 5, 3)).astype("float32")
    np.save(os.path.join(folder, "pre_x.npy"), x)
    index = {str(i): [f"n{i:08d}", f"c{i}"] for i in range(1000)}
    with open(os.path.join(folder, "class_index.json"), "w") as f:
        json.dump(index, f)
    preds = np.random.default_rng(5).random((3, 1000)).astype("float32")
    np.save(os.path.join(folder, "preds.npy"), preds)
    with open(os.path.join(folder, "pre.json"), "w") as f:
        json.dump({"modules": FAMILIES, "top": 4}, f)
    env = dict(os.environ, KERAS_BACKEND="torch", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, SCRIPT, folder], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    for name in FAMILIES:
        want = np.load(os.path.join(folder, f"pre_{name}.npy"))
        got = getattr(apps, name).preprocess_input(x.copy())
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-5, err_msg=name)
    with open(os.path.join(folder, "decoded.json")) as f:
        want = json.load(f)
    imagenet_utils.CLASS_INDEX = index
    try:
        for name in FAMILIES:
            got = getattr(apps, name).decode_predictions(preds, top=4)
            assert [[[a, b, pytest.approx(float(s))] for a, b, s in row] for row in got] \
                == want
    finally:
        imagenet_utils.CLASS_INDEX = None
