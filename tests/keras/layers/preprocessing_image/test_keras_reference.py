"""The augmentation layers against real Keras 3 (torch backend) on the same inputs.

Deterministic layers are called as users call them; random layers run Keras's
`transform_images` with explicit parameters and ndflow's host kernels with the same ones.
Keras runs once in a subprocess (keras_augment_script.py).

Tolerances: 1e-4 relative / 2e-3 absolute on the 0..255 scale: both sides compute in float32
but sum in different orders (grey weights, 3x3 and Gaussian filters, HSV round trips,
bilinear weights), and the homography of RandomPerspective is solved in float32 by Keras and
float64 by ndflow (differences up to ~3e-4). Integer-valued results (posterization,
equalization, inversion, solarization) match exactly.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from ndflow.keras import layers as L

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("keras") is None or importlib.util.find_spec("torch") is None,
    reason="needs the keras-interop extra (keras + torch==2.13.0)")

SCRIPT = os.path.join(os.path.dirname(__file__), "keras_augment_script.py")


def _keras(mode: str, folder: str) -> None:
    env = dict(os.environ, KERAS_BACKEND="torch", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, SCRIPT, mode, folder], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"keras subprocess failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> str:
    out = str(tmp_path_factory.mktemp("keras_aug"))
    _keras("ref", out)
    return out


@pytest.fixture(scope="module")
def ref(folder) -> dict:
    return dict(np.load(os.path.join(folder, "ref.npz"), allow_pickle=False))


CALLED = {
    "auto_contrast": lambda: L.AutoContrast(),
    "auto_contrast_unit": lambda: L.AutoContrast(value_range=(0, 1)),
    "equalization": lambda: L.Equalization(),
    "equalization_unit": lambda: L.Equalization(value_range=(0, 1), bins=64),
    "clahe": lambda: L.ContrastLimitedAdaptiveHistogramEqualization(
        clip_limit=8.0, tile_grid_size=(4, 4)),
    "clahe_pad": lambda: L.ContrastLimitedAdaptiveHistogramEqualization(
        clip_limit=0.0, tile_grid_size=(3, 4)),
    "clahe_unit": lambda: L.ContrastLimitedAdaptiveHistogramEqualization(
        value_range=(0, 1), clip_limit=2.0, tile_grid_size=(1, 1)),
    "solarization": lambda: L.Solarization(),
    "invert": lambda: L.RandomInvert(factor=(1.0, 1.0)),
    "invert_unit": lambda: L.RandomInvert(factor=(1.0, 1.0), value_range=(0, 1)),
    "grayscale": lambda: L.RandomGrayscale(factor=1.0),
    "grayscale_cf": lambda: L.RandomGrayscale(factor=1.0, data_format="channels_first"),
    "posterize": lambda: L.RandomPosterization(factor=(3, 3)),
    "posterize_unit": lambda: L.RandomPosterization(factor=(5, 5), value_range=(0, 1)),
    "degenerate": lambda: L.RandomColorDegeneration(factor=(0.6, 0.6)),
    "saturation": lambda: L.RandomSaturation(factor=(0.75, 0.75)),
    "saturation_low": lambda: L.RandomSaturation(factor=(0.2, 0.2)),
}


def _close(got, want, name: str) -> None:
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4, atol=2e-3, err_msg=name)


@pytest.mark.parametrize("name", sorted(CALLED))
def test_deterministic_layers_match_keras(ref, name):
    x = ref[name + ".x"]
    layer = CALLED[name]()
    _close(layer(x).numpy(), ref[name + ".y"], name)
    # and the same through a Functional model's predict (training=False): Equalization and
    # the random layers are then identities, as in Keras; AutoContrast and CLAHE are not
    from ndflow import keras

    inp = keras.Input(x.shape[1:])
    pred = keras.Model(inp, layer(inp)).predict(x, verbose=0)
    applies = name.startswith(("auto_contrast", "clahe"))
    _close(pred, ref[name + ".y"] if applies else x, name + " (predict)")


def _f32(a):
    return np.asarray(a, np.float32)


def test_random_layers_with_fixed_parameters_match_keras(ref):
    r = ref
    cases = {
        "hue": L.RandomHue(0.5).augment_images(_f32(r["hue.x"]), r["hue.factor"]),
        "sharpness": L.RandomSharpness(0.5).augment_images(_f32(r["sharpness.x"]),
                                                           r["sharpness.factor"]),
        "blur": L.RandomGaussianBlur(kernel_size=5).augment_images(
            _f32(r["blur.x"]), {"apply": np.array([True, False, True]), "sigma": r["blur.sigma"]}),
        "solarize_p": L.Solarization(0.5, 0.5).augment_images(
            _f32(r["solarize_p.x"]), {"add": r["solarize_p.add"], "thr": r["solarize_p.thr"]}),
        "posterize_p": L.RandomPosterization(8).augment_images(
            _f32(r["posterize_p.x"]), r["posterize_p.bits"].astype(int)),
        "shear": L.RandomShear(0.5, 0.5, fill_mode="constant").augment_images(
            _f32(r["shear.x"]), {"sx": r["shear.shear"][:, 0], "sy": r["shear.shear"][:, 1]}),
        "perspective": L.RandomPerspective().augment_images(
            _f32(r["perspective.x"]), {"apply": np.array([True, True, False]),
                                       "start": r["perspective.start"],
                                       "end": r["perspective.end"]}),
    }
    for name, got in cases.items():
        _close(got, r[name + ".y"], name)
    mix = L.MixUp()
    p = {"perm": r["mixup.perm"], "lam": r["mixup.lam"]}
    _close(mix.augment_images(_f32(r["mixup.x"]), p), r["mixup.y"], "mixup")
    _close(mix.augment_labels(np.eye(3, dtype="float32"), p), r["mixup.labels"], "mixup labels")


def test_max_num_bounding_boxes_matches_keras(ref):
    boxes = np.array([[[1, 2, 5, 6], [0, 0, 3, 3], [2, 2, 4, 4]]], "float32")
    out = L.MaxNumBoundingBoxes(2, bounding_box_format="xyxy")(
        {"images": ref["auto_contrast.x"][:1],
         "bounding_boxes": {"boxes": boxes, "labels": np.array([[1, 2, 3]])}})
    np.testing.assert_array_equal(out["bounding_boxes"]["boxes"].numpy(), ref["maxnum.boxes"])
    np.testing.assert_array_equal(out["bounding_boxes"]["labels"].numpy(), ref["maxnum.labels"])


def test_bounding_boxes_of_resizing_crop_and_flip_match_keras(ref):
    """Boxes through Resizing (stretch, relative format), CenterCrop and a horizontal flip
    match Keras to float32 rounding. Not compared: Resizing with crop_to_aspect_ratio /
    pad_to_aspect_ratio, where Keras floors its offsets on the output scale (off by up to a
    pixel from where its own images put the content); ndflow maps boxes with the same window
    as the pixels (checked in test_augmentation_layers.py)."""
    bx = ref["boxes.x"]
    scene = np.zeros((2, 20, 30, 3), "float32")
    labels = np.array([[1, 2], [3, 4]])
    for name, layer in [("resize", L.Resizing(10, 12, bounding_box_format="xyxy")),
                        ("center_crop", L.CenterCrop(12, 16, bounding_box_format="xyxy")),
                        ("resize_rel", L.Resizing(10, 12, bounding_box_format="rel_yxyx"))]:
        given = bx
        if name.endswith("rel"):
            given = (bx / np.array([30, 20, 30, 20], "float32"))[..., [1, 0, 3, 2]]
        out = layer({"images": scene, "bounding_boxes": {"boxes": given, "labels": labels}})
        np.testing.assert_allclose(out["bounding_boxes"]["boxes"].numpy(),
                                   ref[f"boxes.{name}"], atol=1e-5, err_msg=name)
        np.testing.assert_array_equal(out["bounding_boxes"]["labels"].numpy(),
                                      ref[f"boxes.{name}.labels"])
    from ndflow.keras.layers.preprocessing.image.host_ops import HostFlip

    flips = np.zeros((2, 8))
    flips[:, 0] = flips[:, 4] = 1.0
    flips[0, 0], flips[0, 2] = -1.0, 29.0  # the first image flipped left-right
    got, _ = HostFlip(L.RandomFlip("horizontal")).augment_boxes(
        bx.astype(float), labels, flips, 20, 30)
    np.testing.assert_allclose(got, ref["boxes.flip"], atol=1e-5)


def test_keras_files_with_every_augmentation_layer_load_both_ways(folder, ref):
    """A Keras model holding the augmentation layers (all but Equalization, which Keras
    cannot put in a model: its output spec is its input tensor, a graph cycle) loads in
    ndflow and predicts the same (random layers are identities at inference; CLAHE and
    AutoContrast act); saved back by ndflow, Keras loads it and predicts the same."""
    from ndflow import keras

    model = keras.models.load_model(os.path.join(folder, "keras_aug.keras"))
    names = [type(layer).__name__ for layer in model.layers]
    assert "RandAugment" in names and "MaxNumBoundingBoxes" in names and len(names) == 23
    y = model.predict(ref["model.x"], verbose=0)
    # float32 sums of 768 inputs in another order: ~1e-6 relative
    np.testing.assert_allclose(y, ref["model.y"], rtol=1e-5, atol=1e-5 * np.abs(y).max())
    model.save(os.path.join(folder, "ndflow_aug.keras"))
    _keras("load", folder)
    back = np.load(os.path.join(folder, "back.npz"), allow_pickle=False)
    assert back["names"].tolist() == names
    np.testing.assert_allclose(back["y"], y, rtol=1e-5, atol=1e-5 * np.abs(y).max())
