"""Run real Keras 3 (torch backend) image layers on fixed inputs and save the results.

Usage: KERAS_BACKEND=torch python keras_augment_script.py ref DIR    (writes DIR/ref.npz and
                                                                      DIR/keras_aug.keras)
       KERAS_BACKEND=torch python keras_augment_script.py load DIR   (reads DIR/ndflow_aug.keras,
                                                                      writes DIR/back.npz)

Deterministic layers run through `layer(x)`; random layers run their `transform_images`
with explicit transformation parameters (saved too), so ndflow's kernels can be compared
with the same parameters. A model holding every augmentation layer moves between Keras and
ndflow through .keras files.
"""

from __future__ import annotations

import os
import sys

import numpy as np


def model_layers(layers) -> list:
    # CLAHE first: it bins values, so it takes the integer-valued input (a float32 rounding
    # difference upstream could move a value across a bin edge)
    return [layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2)),
            layers.AutoContrast(), layers.RandomShear(0.2, 0.1), layers.RandAugment(),
            layers.AugMix(), layers.RandomColorJitter(brightness_factor=0.2,
                                                      contrast_factor=0.3, hue_factor=0.1),
            layers.RandomErasing(), layers.RandomGaussianBlur(), layers.RandomGrayscale(),
            layers.RandomHue(0.2), layers.RandomInvert(), layers.RandomPerspective(),
            layers.RandomPosterization(4), layers.RandomSaturation(0.5),
            layers.RandomSharpness(0.5), layers.Solarization(0.1, 0.2), layers.CutMix(),
            layers.MixUp(), layers.RandomElasticTransform(), layers.RandomColorDegeneration(0.5),
            # not Equalization: in a Keras model it forms a graph cycle (its
            # compute_output_spec returns its input tensor)
            layers.MaxNumBoundingBoxes(4, bounding_box_format="xyxy")]


def save_model(folder: str, res: dict) -> None:
    import keras

    x = np.random.default_rng(3).uniform(0, 255, (4, 16, 16, 3)).astype("float32")
    model = keras.Sequential([keras.Input((16, 16, 3)), *model_layers(keras.layers),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    model.save(os.path.join(folder, "keras_aug.keras"))
    res["model.x"] = x
    res["model.y"] = model.predict(x, verbose=0)


def load_model(folder: str) -> None:
    import keras

    ref = np.load(os.path.join(folder, "ref.npz"))
    model = keras.models.load_model(os.path.join(folder, "ndflow_aug.keras"))
    np.savez(os.path.join(folder, "back.npz"), y=model.predict(ref["model.x"], verbose=0),
             names=np.array([type(layer).__name__ for layer in model.layers]))


def main(folder: str) -> None:
    import keras
    from keras import layers, ops

    rng = np.random.default_rng(0)
    res: dict = {}

    def t(a: np.ndarray):
        return ops.convert_to_tensor(a)

    def save(name: str, x: np.ndarray, y, **params) -> None:
        res[name + ".x"] = np.asarray(x)
        res[name + ".y"] = np.asarray(ops.convert_to_numpy(y))
        for k, v in params.items():
            res[f"{name}.{k}"] = np.asarray(v)

    img = rng.integers(0, 256, (3, 12, 10, 3)).astype("float32")
    img[1, :, :, 2] = 77.0  # a constant channel
    unit = rng.uniform(0, 1, (2, 9, 11, 3)).astype("float32")

    # --- deterministic layers (called as users call them) ---------------------------------
    save("auto_contrast", img, layers.AutoContrast()(img))
    save("auto_contrast_unit", unit, layers.AutoContrast(value_range=(0, 1))(unit))
    save("equalization", img, layers.Equalization()(img))
    save("equalization_unit", unit, layers.Equalization(value_range=(0, 1), bins=64)(unit))
    # Keras's torch backend counts the CLAHE histograms in int64 and so truncates the clip
    # limit (clip_limit * tile pixels / 256) to an integer, and pads "symmetric" as
    # "replicate"; the cases keep the limit integral and pad by at most one pixel (where the
    # two paddings agree).
    big = rng.integers(0, 256, (2, 32, 32, 3)).astype("float32")
    save("clahe", big, layers.ContrastLimitedAdaptiveHistogramEqualization(
        clip_limit=8.0, tile_grid_size=(4, 4))(big))
    save("clahe_pad", big[:, :17, :15], layers.ContrastLimitedAdaptiveHistogramEqualization(
        clip_limit=0.0, tile_grid_size=(3, 4))(big[:, :17, :15]))
    unit16 = rng.uniform(0, 1, (2, 16, 16, 3)).astype("float32")
    save("clahe_unit", unit16, layers.ContrastLimitedAdaptiveHistogramEqualization(
        value_range=(0, 1), clip_limit=2.0, tile_grid_size=(1, 1))(unit16))
    save("solarization", img, layers.Solarization()(img))
    save("invert", img, layers.RandomInvert(factor=(1.0, 1.0))(img))
    save("invert_unit", unit, layers.RandomInvert(factor=(1.0, 1.0), value_range=(0, 1))(unit))
    save("grayscale", img, layers.RandomGrayscale(factor=1.0)(img))
    cf = np.transpose(img, (0, 3, 1, 2)).copy()
    save("grayscale_cf", cf, layers.RandomGrayscale(factor=1.0, data_format="channels_first")(cf))
    save("posterize", img, layers.RandomPosterization(factor=(3, 3))(img))
    save("posterize_unit", unit, layers.RandomPosterization(factor=(5, 5),
                                                            value_range=(0, 1))(unit))
    save("degenerate", img, layers.RandomColorDegeneration(factor=(0.6, 0.6))(img))
    save("saturation", img, layers.RandomSaturation(factor=(0.75, 0.75))(img))
    save("saturation_low", img, layers.RandomSaturation(factor=(0.2, 0.2))(img))
    boxes = np.array([[[1, 2, 5, 6], [0, 0, 3, 3], [2, 2, 4, 4]]], "float32")
    mx = layers.MaxNumBoundingBoxes(max_number=2, bounding_box_format="xyxy")(
        {"images": img[:1], "bounding_boxes": {"boxes": boxes, "labels": np.array([[1, 2, 3]])}})
    res["maxnum.boxes"] = ops.convert_to_numpy(mx["bounding_boxes"]["boxes"])
    res["maxnum.labels"] = ops.convert_to_numpy(mx["bounding_boxes"]["labels"])

    # --- random layers with explicit parameters -------------------------------------------
    shift = np.array([0.2, -0.35, 0.05], "float32")
    save("hue", img, layers.RandomHue(0.5).transform_images(t(img), {"factor": t(shift)}),
         factor=shift)
    sharp = np.array([0.1, 0.5, 0.9], "float32")
    save("sharpness", img, layers.RandomSharpness(0.5).transform_images(
        t(img), {"factor": t(sharp)}), factor=sharp)
    sigma = np.array([0.7, 1.3], "float32")
    blur = layers.RandomGaussianBlur(kernel_size=5, sigma=1.0)
    save("blur", img, blur.transform_images(
        t(img), {"should_apply_blur": t(np.array([True, False, True])),
                 "blur_factor": t(sigma)}), sigma=sigma)
    add, thr = np.array([10.0, 0.0, 40.0], "float32"), np.array([128.0, 60.0, 250.0], "float32")
    save("solarize_p", img, layers.Solarization(0.5, 0.5).transform_images(
        t(img), {"additions": t(add.reshape(-1, 1, 1, 1)),
                 "thresholds": t(thr.reshape(-1, 1, 1, 1))}), add=add, thr=thr)
    bits = np.array([1, 4, 7], "uint8")
    save("posterize_p", img, layers.RandomPosterization(8).transform_images(
        t(img), {"shift_factor": t(8 - bits)}), bits=bits)
    shear = np.array([[0.3, 0.0], [-0.2, 0.15], [0.0, -0.4]], "float32")
    save("shear", img, layers.RandomShear(0.5, 0.5, fill_mode="constant").transform_images(
        t(img), {"shear_factor": t(shear), "input_shape": img.shape}), shear=shear)
    n, h, w = img.shape[:3]
    start = np.tile(np.array([[[0.0, 0.0], [w - 1, 0.0], [0.0, h - 1], [w - 1, h - 1]]],
                             "float32"), (n, 1, 1))
    end = (start + start * rng.uniform(-0.2, 0.2, (n, 4, 2))).astype("float32")
    save("perspective", img, layers.RandomPerspective().transform_images(
        t(img), {"apply_perspective": t(np.array([True, True, False])),
                 "start_points": t(start), "end_points": t(end), "input_shape": img.shape}),
         start=start, end=end)
    perm, lam = np.array([2, 0, 1]), np.array([0.3, 0.9, 0.5], "float32")
    lab = np.eye(3, dtype="float32")
    mixup = layers.MixUp()
    tr = {"permutation_order": t(perm), "mix_weight": t(lam)}
    save("mixup", img, mixup.transform_images(t(img), tr), perm=perm, lam=lam)
    res["mixup.labels"] = ops.convert_to_numpy(mixup.transform_labels(t(lab), tr))
    # --- bounding boxes through the geometric layers --------------------------------------
    scene = np.zeros((2, 20, 30, 3), "float32")
    bx = np.array([[[6.0, 5, 14, 9], [20, 2, 29, 18]], [[0, 0, 12, 10], [3, 12, 27, 19]]],
                  "float32")
    res["boxes.x"] = bx
    for name, layer in [
            ("resize", layers.Resizing(10, 12, bounding_box_format="xyxy")),
            ("resize_crop", layers.Resizing(10, 10, crop_to_aspect_ratio=True,
                                            bounding_box_format="xyxy")),
            ("resize_pad", layers.Resizing(12, 12, pad_to_aspect_ratio=True,
                                           bounding_box_format="xyxy")),
            ("center_crop", layers.CenterCrop(12, 16, bounding_box_format="xyxy")),
            ("resize_rel", layers.Resizing(10, 12, bounding_box_format="rel_yxyx"))]:
        given = bx / np.array([30, 20, 30, 20], "float32") if name.endswith("rel") else bx
        if name.endswith("rel"):
            given = given[..., [1, 0, 3, 2]]
        got = layer({"images": scene, "bounding_boxes": {"boxes": given,
                                                         "labels": np.array([[1, 2], [3, 4]])}})
        res[f"boxes.{name}"] = ops.convert_to_numpy(got["bounding_boxes"]["boxes"])
        res[f"boxes.{name}.labels"] = ops.convert_to_numpy(got["bounding_boxes"]["labels"])
    flip = layers.RandomFlip("horizontal", bounding_box_format="xyxy")
    fb = flip.transform_bounding_boxes(
        {"boxes": t(bx), "labels": t(np.array([[1, 2], [3, 4]]))},
        {"flips": t(np.array([True, False]).reshape(2, 1, 1, 1)), "input_shape": scene.shape})
    res["boxes.flip"] = ops.convert_to_numpy(fb["boxes"])
    res["keras_version"] = np.asarray(keras.__version__)
    save_model(folder, res)
    np.savez(os.path.join(folder, "ref.npz"), **res)


if __name__ == "__main__":
    (main if sys.argv[1] == "ref" else load_model)(sys.argv[2])
