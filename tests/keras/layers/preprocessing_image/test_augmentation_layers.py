"""The Keras 3 augmentation layers: harness (shapes, config round trip, errors), seeding,
`training`, use in models, compiled steps and `Dataset.map`, the statistics of the random
ones, and bounding boxes moving with the image."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers as L
from ndflow.keras.layers.preprocessing.image import bounding_boxes as bbox
from tests.keras.layers.harness import run_layer_test

RNG = np.random.default_rng(5)
IMG = RNG.uniform(0, 255, (4, 12, 12, 3)).astype("float32")

LAYERS = [
    (L.AugMix, {}), (L.AutoContrast, {}), (L.ContrastLimitedAdaptiveHistogramEqualization,
                                           {"tile_grid_size": (2, 2)}),
    (L.CutMix, {}), (L.Equalization, {}), (L.MixUp, {"alpha": 0.4}), (L.RandAugment, {}),
    (L.RandomColorDegeneration, {"factor": 0.5}),
    (L.RandomColorJitter, {"brightness_factor": 0.2, "contrast_factor": 0.3,
                           "saturation_factor": 0.5, "hue_factor": 0.2}),
    (L.RandomElasticTransform, {}), (L.RandomErasing, {}), (L.RandomGaussianBlur, {}),
    (L.RandomGrayscale, {"factor": 0.5}), (L.RandomHue, {"factor": 0.5}), (L.RandomInvert, {}),
    (L.RandomPerspective, {"scale": 0.5}), (L.RandomPosterization, {"factor": 4}),
    (L.RandomSaturation, {"factor": 0.5}), (L.RandomSharpness, {"factor": 0.5}),
    (L.RandomShear, {"x_factor": 0.3, "y_factor": 0.2}),
    (L.Solarization, {"addition_factor": 0.2, "threshold_factor": 0.5}),
]
DETERMINISTIC = (L.AutoContrast, L.Equalization, L.ContrastLimitedAdaptiveHistogramEqualization)
ALWAYS = (L.AutoContrast, L.ContrastLimitedAdaptiveHistogramEqualization)


def _make(cls, kwargs, seed=3):
    return cls(**kwargs) if cls in DETERMINISTIC else cls(seed=seed, **kwargs)


def test_all_keras_names_are_exported_layers():
    names = ["AugMix", "AutoContrast", "CutMix", "Equalization", "MixUp", "RandAugment",
             "RandomColorDegeneration", "RandomColorJitter", "RandomElasticTransform",
             "RandomErasing", "RandomGaussianBlur", "RandomGrayscale", "RandomHue",
             "RandomInvert", "RandomPerspective", "RandomPosterization", "RandomSaturation",
             "RandomSharpness", "RandomShear", "Solarization",
             "ContrastLimitedAdaptiveHistogramEqualization", "MaxNumBoundingBoxes"]
    for n in names:
        assert n in L.__all__ and issubclass(getattr(L, n), L.Layer), n


@pytest.mark.parametrize("cls,kwargs", LAYERS, ids=[c.__name__ for c, _ in LAYERS])
def test_harness_seeding_and_training(cls, kwargs):
    if cls in DETERMINISTIC:  # the harness compares a fresh clone's draws with the layer's
        run_layer_test(cls, kwargs, (2, 8, 8, 3), (2, 8, 8, 3), wrong_input_shape=(5,),
                       run_training_check=False)
    layer = _make(cls, kwargs)
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    assert cls.from_config(config).get_config() == config
    assert tuple(layer(keras.Input((8, 8, 3))).shape) == (None, 8, 8, 3)
    y = layer(IMG).numpy()  # a direct call augments (Keras's training default)
    assert y.shape == IMG.shape and y.dtype == np.float32 and np.isfinite(y).all()
    again = cls.from_config(layer.get_config())
    np.testing.assert_array_equal(again(IMG).numpy(), y)  # same seed, same output
    inference = layer(IMG, training=False).numpy()
    if cls in ALWAYS:
        np.testing.assert_allclose(inference, _make(cls, kwargs)(IMG).numpy())
    else:
        np.testing.assert_array_equal(inference, IMG)
    if cls not in DETERMINISTIC:  # successive calls draw fresh parameters
        draws = [layer(IMG).numpy() for _ in range(3)]
        assert any(not np.array_equal(d, y) for d in draws)
    single = layer(IMG[0])
    assert tuple(single.shape) == IMG.shape[1:]


def test_channels_first_equals_channels_last():
    x_cf = np.transpose(IMG, (0, 3, 1, 2))
    for cls, kwargs in [(L.RandomHue, {"factor": 0.5}), (L.RandomShear, {"x_factor": 0.4}),
                        (L.RandomErasing, {}), (L.RandomSharpness, {"factor": 0.8})]:
        last = cls(seed=7, **kwargs)(IMG).numpy()
        first = cls(seed=7, data_format="channels_first", **kwargs)(x_cf).numpy()
        np.testing.assert_allclose(np.transpose(first, (0, 2, 3, 1)), last, atol=1e-4)


def test_inside_compiled_fit_and_dataset_map():
    x = RNG.uniform(0, 1, (16, 8, 8, 3)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype("float32")
    model = keras.Sequential([
        keras.Input((8, 8, 3)),
        L.RandAugment(value_range=(0, 1), seed=1), L.RandomShear(0.2, seed=2),
        L.RandomGaussianBlur(value_range=(0, 1), seed=3),
        keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    hist = model.fit(x, y, epochs=2, batch_size=8, verbose=0)  # compiled steps
    assert np.isfinite(hist.history["loss"]).all()
    np.testing.assert_allclose(model.predict(x, verbose=0),  # inference: no augmentation
                               keras.Sequential(model.layers[3:])(x).numpy(), rtol=1e-5)
    mix = L.MixUp(seed=4)
    onehot = np.eye(4, dtype="float32")[np.arange(16) % 4]
    ds = tf.data.Dataset.from_tensor_slices({"images": x, "labels": onehot})
    batches = list(ds.batch(8).map(lambda d: mix(d)))
    assert len(batches) == 2
    for b in batches:
        lab = b["labels"].numpy()
        np.testing.assert_allclose(lab.sum(-1), 1.0, rtol=1e-5)
        assert b["images"].shape == (8, 8, 8, 3) and b["labels"].dtype == tf.float32
    assert not np.array_equal(np.concatenate([b["labels"].numpy() for b in batches]), onehot)
    # boxes through Dataset.map: a per-image pipeline (rank-3 images, (num_boxes, 4) boxes)
    scene, boxes = _square_scene(n=4)
    shear = L.RandomShear(0.3, fill_mode="constant", bounding_box_format="xyxy", seed=5)
    ds = tf.data.Dataset.from_tensor_slices(
        {"images": scene, "bounding_boxes": {"boxes": boxes, "labels": np.ones((4, 1), "int32")}})
    for d in ds.map(lambda d: shear(d)):
        img, b = d["images"].numpy(), d["bounding_boxes"]["boxes"].numpy()
        ys, xs = np.nonzero(img.max(-1) > 128)
        assert b.shape == (1, 4) and b[0, 0] - 1 <= xs.min() and xs.max() <= b[0, 2] + 1


def test_compiled_function_draws_fresh_parameters_per_call():
    layer = L.RandomHue(0.8, seed=0)
    f = tf.function(lambda t: layer(t, training=True))
    a, b = f(tf.constant(IMG)).numpy(), f(tf.constant(IMG)).numpy()
    assert not np.array_equal(a, b)
    # tracing does not consume draws: the compiled calls repeat an eager twin's sequence
    twin = L.RandomHue(0.8, seed=0)
    np.testing.assert_array_equal(a, twin(IMG).numpy())
    np.testing.assert_array_equal(b, twin(IMG).numpy())


# --- statistics of the random layers ---------------------------------------------------------

def test_mixup_lambda_follows_beta_and_images_follow_labels():
    alpha, n = 0.4, 64
    layer = L.MixUp(alpha=alpha, seed=0)
    x = np.broadcast_to(np.arange(n, dtype="float32").reshape(n, 1, 1, 1), (n, 2, 2, 1))
    lams = []
    for _ in range(10):
        out = layer({"images": x, "labels": np.eye(n, dtype="float32")})
        lab, img = out["labels"].numpy(), out["images"].numpy()
        for i in range(n):
            j = int(np.argmax(np.where(np.arange(n) == i, -1, lab[i])))
            if lab[i, j] > 0:  # a partner other than itself
                lam = lab[i, i]
                np.testing.assert_allclose(img[i, 0, 0, 0], lam * i + (1 - lam) * j, atol=1e-3)
                lams.append(lam)
    lams = np.array(lams)
    assert len(lams) > 500
    assert abs(lams.mean() - 0.5) < 0.04
    want_var = 1.0 / (4 * (2 * alpha + 1))  # Beta(a, a)
    assert abs(lams.var() - want_var) / want_var < 0.15


def test_random_erasing_area_within_scale():
    x = np.ones((200, 40, 40, 1), "float32")
    y = L.RandomErasing(factor=(1.0, 1.0), scale=(0.1, 0.3), fill_value=0.0, seed=2)(x).numpy()
    frac = (y == 0).mean(axis=(1, 2, 3))
    # side lengths are continuous, the mask counts whole pixels: up to one row and column
    assert frac.min() > 0.1 - 2 * 0.55 / 40 and frac.max() < 0.3 + 2 * 0.55 / 40 + 1e-9
    assert 0.15 < frac.mean() < 0.25
    # factor (0, 1): the erase probability itself is uniform, so about half are erased
    some = L.RandomErasing(factor=1.0, fill_value=0.0, seed=3)(x).numpy()
    assert 0.35 < (some == 0).any(axis=(1, 2, 3)).mean() < 0.65


def test_random_erasing_noise_fill_is_clipped_to_value_range():
    y = L.RandomErasing(factor=(1.0, 1.0), value_range=(0, 1), seed=1)(
        np.full((8, 20, 20, 3), 0.5, "float32")).numpy()
    assert y.min() >= 0 and y.max() <= 1 and (y != 0.5).any()


def test_random_hue_keeps_greys_saturation_and_value():
    greys = np.broadcast_to(RNG.uniform(0, 255, (6, 5, 5, 1)), (6, 5, 5, 3)).astype("float32")
    np.testing.assert_allclose(L.RandomHue(1.0, seed=0)(greys).numpy(), greys, atol=1e-3)
    from ndflow.keras.layers.preprocessing.image.augment_kernels import rgb_to_hsv

    layer = L.RandomHue((0.4, 0.4), seed=1)
    y = layer(IMG).numpy()
    hx, hy = rgb_to_hsv(IMG / 255), rgb_to_hsv(y / 255)
    np.testing.assert_allclose(hy[..., 1:], hx[..., 1:], atol=2e-4)  # S and V kept
    shift = np.mod(hy[..., 0] - hx[..., 0] + 0.5, 1.0) - 0.5
    for i in range(len(IMG)):  # one hue shift of +-0.2 turns per image
        s = shift[i][hx[i, ..., 1] > 0.05]
        assert np.allclose(np.abs(s), 0.2, atol=2e-3) and len(set(np.sign(s))) == 1


def test_random_grayscale_and_invert_probabilities():
    x = np.broadcast_to(np.array([200.0, 50.0, 10.0], "float32"), (400, 2, 2, 3))
    g = L.RandomGrayscale(factor=0.3, seed=0)(x).numpy()
    grey = np.isclose(g[..., 0], g[..., 1]).all(axis=(1, 2))
    assert abs(grey.mean() - 0.3) < 0.06
    np.testing.assert_allclose(g[grey][..., 0], 0.2989 * 200 + 0.587 * 50 + 0.114 * 10,
                               rtol=1e-5)
    inv = L.RandomInvert(factor=1.0, seed=1)(x).numpy()  # Keras: p ~ U(0, 1), so 1/2
    flipped = np.isclose(inv[:, 0, 0, 0], 55.0)
    assert abs(flipped.mean() - 0.5) < 0.07
    assert np.all(np.isclose(inv[:, 0, 0, 0], 55.0) | np.isclose(inv[:, 0, 0, 0], 200.0))


def test_posterization_and_solarization_values():
    x = RNG.integers(0, 256, (50, 4, 4, 3)).astype("float32")
    y = L.RandomPosterization(factor=(2, 6), seed=0)(x).numpy()
    for i in range(50):  # bits in [2, 6): values are multiples of 2 ** (8 - bits)
        step = max(2 ** (8 - b) for b in range(2, 6) if np.all(y[i] % 2 ** (8 - b) == 0))
        assert step >= 4 and np.all(y[i] <= x[i]) and np.all(x[i] - y[i] < step)
    s = L.Solarization(threshold_factor=(0.5, 0.5), seed=0)(x).numpy()
    # threshold uniform in [0.5, 127.5] (Keras's rule): values stay or become 255 - v
    assert np.all(np.isclose(s, x) | np.isclose(s, 255 - x))
    assert np.all(s[x > 128] == 255 - x[x > 128])


def test_cutmix_label_weights_equal_pasted_area():
    n = 32
    x = np.broadcast_to(np.arange(n, dtype="float32").reshape(n, 1, 1, 1), (n, 30, 30, 1))
    out = L.CutMix(seed=0)({"images": x, "labels": np.eye(n, dtype="float32")})
    img, lab = out["images"].numpy(), out["labels"].numpy()
    for i in range(n):
        kept = (img[i] == i).mean()
        src = set(np.unique(img[i]).tolist())
        assert len(src) <= 2 and i in src or kept == 0
        # continuous rectangle vs whole pixels: up to one row and column of 30
        assert abs(lab[i, i] - kept) < 2 / 30 + 1e-6 or len(src) == 1
    np.testing.assert_allclose(lab.sum(-1), 1.0, rtol=1e-5)


def test_elastic_transform_identity_cases_and_smoothness():
    x = RNG.uniform(0, 255, (2, 24, 24, 1)).astype("float32")
    np.testing.assert_array_equal(L.RandomElasticTransform(scale=0.0, seed=0)(x).numpy(), x)
    np.testing.assert_array_equal(
        L.RandomElasticTransform(factor=(0.0, 0.0), seed=0)(x).numpy(), x)
    ramp = np.broadcast_to(np.arange(24, dtype="float32").reshape(1, 1, 24, 1),
                           (2, 24, 24, 1)).copy() * 10
    y = L.RandomElasticTransform(factor=(1.0, 1.0), scale=(0.5, 0.5), fill_mode="nearest",
                                 seed=1)(ramp).numpy()
    assert not np.allclose(y, ramp)
    # a smooth field: a ramp stays monotone-ish and locally close to the original
    assert np.abs(y - ramp).max() < 24 * 10 * 0.2


def test_random_shear_maps_a_known_point():
    x = np.zeros((1, 21, 21, 1), "float32")
    x[0, 10, 5] = 255.0
    boxes = {"boxes": np.array([[[4.0, 9.0, 7.0, 12.0]]], "float32"),
             "labels": np.array([[1]], "int32")}
    layer = L.RandomShear(x_factor=(0.4, 0.4), interpolation="nearest", fill_mode="constant",
                          bounding_box_format="xyxy", seed=0)
    seen = set()
    for _ in range(8):
        out = layer({"images": x, "bounding_boxes": boxes})
        yy, xx = np.unravel_index(np.argmax(out["images"].numpy()[0, ..., 0]), (21, 21))
        # output (x, y) reads input (x + s y, y): the pixel moves to x = 5 - s * 10
        assert yy == 10 and xx in (1, 9)
        seen.add(int(xx))
        b = out["bounding_boxes"]["boxes"].numpy()[0, 0]
        assert b[0] <= xx and xx + 1 <= b[2] and b[1] <= yy and yy + 1 <= b[3]
    assert seen == {1, 9}


# --- bounding boxes --------------------------------------------------------------------------

def _square_scene(n=6, h=32, w=40):
    x = np.zeros((n, h, w, 3), "float32")
    x[:, 10:18, 14:24] = 255.0
    boxes = np.tile(np.array([[[14.0, 10.0, 24.0, 18.0]]], "float32"), (n, 1, 1))
    return x, boxes


@pytest.mark.parametrize("layer", [
    L.RandomShear(0.3, 0.3, fill_mode="constant", bounding_box_format="rel_yxyx", seed=1),
    L.RandomPerspective(scale=0.6, bounding_box_format="center_xywh", seed=2),
    L.RandAugment(num_ops=3, factor=0.6, bounding_box_format="xywh", seed=3),
    L.RandomColorJitter(hue_factor=0.3, bounding_box_format="xyxy", seed=4),
], ids=["shear", "perspective", "randaugment", "jitter"])
def test_boxes_follow_the_bright_square(layer):
    x, boxes = _square_scene()
    h, w = x.shape[1:3]
    fmt = layer.bounding_box_format
    given = bbox.from_xyxy(boxes, fmt, h, w).astype("float32")
    for _ in range(3):
        out = layer({"images": x, "bounding_boxes": {"boxes": given,
                                                     "labels": np.ones((6, 1), "int32")},
                     "segmentation_masks": (x[..., :1] > 128).astype("int32")})
        got = bbox.to_xyxy(out["bounding_boxes"]["boxes"].numpy(), fmt, h, w)
        # the square's pixels: its mask (moved with nearest sampling) and the image where
        # only geometry changes it
        img = out["segmentation_masks"].numpy()[..., 0] > 0
        if isinstance(layer, L.RandomShear):
            assert (img == (out["images"].numpy().max(-1) > 128)).mean() > 0.97
        for i in range(len(x)):
            ys, xs = np.nonzero(img[i])
            if len(ys) == 0:
                continue
            x1, y1, x2, y2 = got[i, 0]
            assert x1 - 1 <= xs.min() and xs.max() + 1 <= x2 + 1 and y1 - 1 <= ys.min() \
                and ys.max() + 1 <= y2 + 1, (i, got[i, 0], xs.min(), xs.max(), ys.min(),
                                             ys.max())
            # and it stays tight: no more than 2.5x the bright pixels' extent
            assert (x2 - x1) * (y2 - y1) <= 2.5 * (np.ptp(xs) + 1) * (np.ptp(ys) + 1) + 4


def test_box_formats_round_trip_and_clipping():
    b = np.array([[2.0, 3.0, 12.0, 9.0]])
    for fmt in bbox.FORMATS:
        np.testing.assert_allclose(bbox.to_xyxy(bbox.from_xyxy(b, fmt, 20, 16), fmt, 20, 16), b)
    clipped, labels = bbox.clip_to_image(np.array([[[-5.0, 2, 3, 4], [30, 0, 40, 5]]]),
                                         np.array([[1, 2]]), 10, 20)
    np.testing.assert_allclose(clipped[0, 0], [0, 2, 3, 4])
    assert labels.tolist() == [[1, -1]]  # pushed out of the image: no area left


def test_boxes_single_image_ragged_lists_mixup_and_max_boxes():
    x, boxes = _square_scene(n=2)
    ragged = {"boxes": [[[1.0, 1, 4, 4]], [[2.0, 2, 5, 5], [0.0, 0, 1, 1]]],
              "labels": [[3], [4, 5]]}
    out = L.MixUp(seed=0, bounding_box_format="xyxy")({"images": x, "bounding_boxes": ragged})
    lab = out["bounding_boxes"]["labels"].numpy()
    assert out["bounding_boxes"]["boxes"].shape == (2, 4, 4) and lab.shape == (2, 4)
    assert sorted(lab[0][lab[0] >= 0].tolist() + lab[1][lab[1] >= 0].tolist()) == \
        sorted([3, 4, 5] * 2)
    single = L.RandomShear(0.2, bounding_box_format="xyxy", seed=1)(
        {"images": x[0], "bounding_boxes": {"boxes": boxes[0], "labels": np.array([7])}})
    assert single["bounding_boxes"]["boxes"].shape == (1, 4)
    kept = L.RandomHue(0.3, bounding_box_format="xyxy", seed=1)(
        {"images": x, "bounding_boxes": {"boxes": boxes, "labels": np.ones((2, 1), "int32")}})
    np.testing.assert_array_equal(kept["bounding_boxes"]["boxes"].numpy(), boxes)
    cut = L.MaxNumBoundingBoxes(3, bounding_box_format="xyxy")(
        {"images": x, "bounding_boxes": ragged})
    assert cut["bounding_boxes"]["labels"].numpy().tolist() == [[3, -1, -1], [4, 5, -1]]


def test_segmentation_masks_follow_geometric_layers():
    x, _ = _square_scene(n=3)
    masks = (x[..., :1] > 0).astype("int32")
    out = L.RandomShear(0.3, 0.3, fill_mode="constant", seed=5)(
        {"images": x, "segmentation_masks": masks})
    img, m = out["images"].numpy(), out["segmentation_masks"].numpy()
    assert m.dtype == np.int32 and set(np.unique(m)) <= {0, 1}
    agree = ((img[..., :1] > 200) == (m == 1)).mean()
    assert agree > 0.97


def test_errors_are_clear():
    with pytest.raises(ValueError, match="RandomInvert.*factor"):
        L.RandomInvert(factor=1.5)
    with pytest.raises(ValueError, match="bounding_box_format"):
        L.RandomShear(0.2, bounding_box_format="corners")
    with pytest.raises(ValueError, match="RandomShear.*bounding_box_format='xyxy'"):
        L.RandomShear(0.2)({"images": IMG, "bounding_boxes": {"boxes": np.zeros((4, 1, 4)),
                                                               "labels": np.zeros((4, 1))}})
    with pytest.raises(ValueError, match="CutMix does not transform bounding boxes"):
        L.CutMix(bounding_box_format="xyxy")(
            {"images": IMG, "bounding_boxes": {"boxes": np.zeros((4, 1, 4)),
                                               "labels": np.zeros((4, 1))}})
    with pytest.raises(ValueError, match="dict with keys 'boxes' and 'labels'"):
        L.RandomShear(0.2, bounding_box_format="xyxy")(
            {"images": IMG, "bounding_boxes": np.zeros((4, 1, 4))})
    with pytest.raises(ValueError, match="kernel_size"):
        L.RandomGaussianBlur(kernel_size=4)
    with pytest.raises(ValueError, match="RandomGrayscale: expected 3"):
        L.RandomGrayscale(factor=1.0)(np.ones((1, 4, 4, 1)))
    with pytest.raises(ValueError, match="rank 3"):
        L.AutoContrast()(np.ones((4, 4)))


@pytest.mark.parametrize("layer,kwargs", [
    (L.RandomFlip("horizontal", seed=1, bounding_box_format="xyxy"), {"training": True}),
    (L.RandomRotation(0.2, seed=1, bounding_box_format="xyxy", fill_mode="constant"),
     {"training": True}),
    (L.RandomTranslation(0.2, 0.2, seed=1, bounding_box_format="rel_xywh",
                         fill_mode="constant"), {"training": True}),
    (L.RandomZoom(0.3, seed=1, bounding_box_format="center_yxhw", fill_mode="constant"),
     {"training": True}),
    (L.RandomCrop(12, 16, seed=1, bounding_box_format="xyxy"), {"training": True}),
    (L.RandomCrop(12, 16, seed=1, bounding_box_format="yxyx"), {}),
    (L.CenterCrop(12, 16, bounding_box_format="xyxy"), {}),
    (L.Resizing(10, 10, bounding_box_format="rel_xyxy"), {}),
    (L.Resizing(10, 10, pad_to_aspect_ratio=True, bounding_box_format="xyxy"), {}),
    (L.Resizing(10, 10, crop_to_aspect_ratio=True, bounding_box_format="xyxy"), {}),
], ids=["flip", "rotation", "translation", "zoom", "crop", "crop_infer", "center_crop",
        "resize", "resize_pad", "resize_crop"])
def test_existing_geometric_layers_take_keras_dicts(layer, kwargs):
    x = np.zeros((4, 20, 30, 3), "float32")
    x[:, 5:9, 6:14] = 255.0
    fmt = layer.bounding_box_format
    boxes = bbox.from_xyxy(np.tile(np.array([[[6.0, 5, 14, 9]]]), (4, 1, 1)), fmt, 20, 30)
    data = {"images": x, "labels": np.arange(4),
            "bounding_boxes": {"boxes": boxes.astype("float32"),
                               "labels": np.ones((4, 1), "int32")},
            "segmentation_masks": (x[..., :1] > 0).astype("int32")}
    out = layer(data, **kwargs)
    # the pixels are those of the tensor path (same draws for a seeded twin)
    twin = type(layer).from_config(layer.get_config())
    np.testing.assert_allclose(out["images"].numpy(), twin(x, **kwargs).numpy(), atol=1e-4)
    np.testing.assert_array_equal(out["labels"].numpy(), np.arange(4))
    oh, ow = out["images"].shape[1:3]
    got = bbox.to_xyxy(out["bounding_boxes"]["boxes"].numpy(), fmt, oh, ow)[:, 0]
    masks = out["segmentation_masks"].numpy()[..., 0]
    assert out["segmentation_masks"].dtype == tf.int32
    for i in range(4):
        ys, xs = np.nonzero(masks[i])
        assert len(ys)
        x1, y1, x2, y2 = got[i]
        assert x1 - 1 <= xs.min() and xs.max() + 1 <= x2 + 1 and y1 - 1 <= ys.min() \
            and ys.max() + 1 <= y2 + 1, (i, got[i], xs.min(), xs.max(), ys.min(), ys.max())


def test_composite_layers():
    x = np.full((3, 6, 6, 3), 100.0, "float32")
    jit = L.RandomColorJitter(brightness_factor=(0.2, 0.2), seed=0)(x).numpy()
    np.testing.assert_allclose(jit, 100.0 + 0.2 * 255)  # RandomBrightness's rule
    np.testing.assert_array_equal(L.RandAugment(num_ops=0, seed=0)(IMG).numpy(), IMG)
    y = L.AugMix(value_range=(0, 255), seed=0)(IMG).numpy()
    assert y.min() >= 0 and y.max() <= 255 and not np.allclose(y, IMG)
    # RandAugment with only the rotation available at strength (0.25, 0.25) is a quarter turn
    ra = L.RandAugment(num_ops=1, factor=(0.25, 0.25), interpolation="nearest", seed=0)
    ra._ops = [ra._ops[2]]  # random_rotation
    sq = RNG.uniform(0, 255, (1, 5, 5, 1)).astype("float32")
    np.testing.assert_allclose(ra(sq).numpy()[0, ..., 0], np.rot90(sq[0, ..., 0]), atol=1e-4)


def test_gaussian_blur_smooths_and_keeps_the_mean():
    x = RNG.uniform(0, 255, (4, 24, 24, 3)).astype("float32")
    y = L.RandomGaussianBlur(factor=(1.0, 1.0), kernel_size=5, sigma=(1.0, 1.0), seed=0)(x)
    y = y.numpy()
    inner = (slice(None), slice(3, -3), slice(3, -3))
    assert y[inner].std() < 0.6 * x[inner].std()
    assert abs(y[inner].mean() - x[inner].mean()) < 2.0
