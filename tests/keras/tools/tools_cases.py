"""The table of keras.utils cases run, with the same code, on real Keras 3 (in a subprocess)
and on ndflow.keras; test_utils_vs_keras.py compares the two results.

`make_tree(root)` writes the image folders; `run_all(keras, root, arrays)` returns a JSON-able
dict of results and puts arrays into `arrays` (keys are case names)."""

from __future__ import annotations

import io
import os

import numpy as np


def make_tree(root: str) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    sizes = [(10, 12), (9, 9), (12, 7), (8, 8), (11, 13)]
    for c, cls in enumerate(["ants", "bees", "cats"]):
        os.makedirs(os.path.join(root, "imgs", cls), exist_ok=True)
        for i in range(4 + c):
            h, w = sizes[(i + c) % len(sizes)]
            arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            img = Image.fromarray(arr, "RGB")
            if (i + c) % 4 == 1:
                img = img.convert("L")
            elif (i + c) % 4 == 2:
                img = img.convert("RGBA")
            img.save(os.path.join(root, "imgs", cls, f"img_{i:02d}.png"))
    os.makedirs(os.path.join(root, "imgs", ".hidden"), exist_ok=True)
    with open(os.path.join(root, "imgs", "cats", "notes.txt"), "w") as f:
        f.write("not an image")
    Image.fromarray(rng.integers(0, 256, (6, 10, 3), dtype=np.uint8)).save(
        os.path.join(root, "one.png"))


def _np(x):
    return np.asarray(x.cpu() if hasattr(x, "cpu") else x)


def _rel(paths, root):
    return [os.path.relpath(p, root) for p in paths]


def _collect(ds):
    xs, ys = [], []
    for el in ds:
        if isinstance(el, (tuple, list)):
            xs.append(_np(el[0]))
            ys.append(_np(el[1]))
        else:
            xs.append(_np(el))
    return xs, ys


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return type(e).__name__
    return None


def image_dataset_cases(keras, root, arrays, info):
    d = os.path.join(root, "imgs")
    f = keras.utils.image_dataset_from_directory
    common = {"format": "grain", "verbose": False}
    # 1. no shuffle: every batch equal
    ds = f(d, image_size=(8, 8), batch_size=4, shuffle=False, **common)
    xs, ys = _collect(ds)
    info["ids_plain"] = {"class_names": list(ds.class_names),
                         "file_paths": _rel(ds.file_paths, root),
                         "batch_shapes": [list(x.shape) for x in xs],
                         "label_dtype": str(ys[0].dtype), "image_dtype": str(xs[0].dtype)}
    arrays["ids_plain_x"] = np.concatenate(xs)
    arrays["ids_plain_y"] = np.concatenate(ys)
    # 2. shuffled with a seed, split in two, categorical labels
    tr, va = f(d, image_size=(6, 5), batch_size=3, shuffle=True, seed=7, validation_split=0.25,
               subset="both", label_mode="categorical", **common)
    txs, tys = _collect(tr)
    vxs, vys = _collect(va)
    info["ids_split"] = {"train_files": _rel(tr.file_paths, root),
                         "val_files": _rel(va.file_paths, root),
                         "class_names": list(tr.class_names)}
    arrays["ids_split_train_x"] = np.concatenate(txs)
    arrays["ids_split_train_y"] = np.concatenate(tys)
    arrays["ids_split_val_x"] = np.concatenate(vxs)
    arrays["ids_split_val_y"] = np.concatenate(vys)
    # 3. a subset of classes, grayscale, crop to the aspect ratio, binary labels, no batching
    ds = f(d, image_size=(4, 6), batch_size=None, shuffle=False, class_names=["cats", "ants"],
           color_mode="grayscale", crop_to_aspect_ratio=True, label_mode="binary", **common)
    xs, ys = _collect(ds)
    info["ids_gray"] = {"class_names": list(ds.class_names),
                        "file_paths": _rel(ds.file_paths, root)}
    arrays["ids_gray_x"] = np.stack(xs)
    arrays["ids_gray_y"] = np.stack(ys)
    # 4. no labels, RGBA, pad to the aspect ratio, the validation subset only
    ds = f(d, labels=None, image_size=(5, 5), batch_size=2, shuffle=True, seed=3,
           validation_split=0.4, subset="validation", color_mode="rgba",
           pad_to_aspect_ratio=True, **common)
    xs, _ = _collect(ds)
    info["ids_nolabel"] = {"file_paths": _rel(ds.file_paths, root),
                           "class_names": ds.class_names}
    arrays["ids_nolabel_x"] = np.concatenate(xs)
    # 5. explicit labels, nearest-neighbour (same size: no resampling)
    n = len(info["ids_plain"]["file_paths"])
    labels = [i % 2 for i in range(n)]
    ds = f(d, labels=labels, image_size=(8, 8), batch_size=5, shuffle=False, **common)
    xs, ys = _collect(ds)
    info["ids_labels"] = {"class_names": list(ds.class_names), "y": np.concatenate(ys).tolist()}
    # argument errors
    info["ids_errors"] = [
        _error(lambda: f(d, validation_split=0.2, subset="training", **common)),
        _error(lambda: f(d, validation_split=1.5, subset="training", seed=1, **common)),
        _error(lambda: f(d, subset="training", **common)),
        _error(lambda: f(d, label_mode="binary", **common)),
        _error(lambda: f(d, color_mode="cmyk", **common)),
        _error(lambda: f(d, class_names=["dogs"], **common)),
        _error(lambda: f(d, labels=[0, 1], **common)),
    ]


def image_utils_cases(keras, root, arrays, info):
    u = keras.utils
    path = os.path.join(root, "one.png")
    for name, kw in [("plain", {}), ("gray", {"color_mode": "grayscale"}),
                     ("rgba", {"color_mode": "rgba"}),
                     ("resize", {"target_size": (4, 5)}),
                     ("bilinear", {"target_size": (5, 3), "interpolation": "bilinear"}),
                     ("keep", {"target_size": (4, 4), "keep_aspect_ratio": True,
                               "interpolation": "bicubic"})]:
        img = u.load_img(path, **kw)
        arrays[f"load_{name}"] = u.img_to_array(img)
        info[f"load_{name}_mode"] = img.mode
    with open(path, "rb") as fh:
        arrays["load_bytesio"] = u.img_to_array(u.load_img(io.BytesIO(fh.read())))
    img = u.load_img(path)
    arrays["img_to_array_cf"] = u.img_to_array(img, data_format="channels_first")
    arrays["img_to_array_int"] = u.img_to_array(img, dtype="int32")
    x = np.linspace(-3, 5, 4 * 6 * 3).reshape(4, 6, 3)
    arrays["a2i_scale"] = u.img_to_array(u.array_to_img(x))
    arrays["a2i_noscale"] = u.img_to_array(u.array_to_img(np.abs(x) * 30, scale=False))
    arrays["a2i_gray"] = u.img_to_array(u.array_to_img(x[:, :, :1]))
    arrays["a2i_cf"] = u.img_to_array(u.array_to_img(x.transpose(2, 0, 1),
                                                     data_format="channels_first"))
    info["a2i_gray_big_mode"] = u.array_to_img(np.full((2, 2, 1), 1000.0), scale=False).mode
    out = os.path.join(root, f"saved_{keras.__name__}.png")
    u.save_img(out, x)
    arrays["save_png"] = u.img_to_array(u.load_img(out))
    info["image_errors"] = [
        _error(lambda: u.array_to_img(np.zeros((2, 2)))),
        _error(lambda: u.array_to_img(np.zeros((2, 2, 2)))),
        _error(lambda: u.load_img(path, color_mode="cmyk")),
        _error(lambda: u.load_img(path, target_size=(3, 3), interpolation="magic")),
        _error(lambda: u.load_img(12)),
        _error(lambda: u.img_to_array(np.zeros((2, 2, 2, 2)))),
    ]


def split_cases(keras, root, arrays, info):
    x = np.arange(10)
    y = np.arange(10) * 10
    res = []
    table = [({"left_size": 0.7}, (x, y)), ({"right_size": 3}, (x, y)),
             ({"left_size": 4, "right_size": 0.5}, (x, y)),
             ({"left_size": 0.3, "shuffle": True, "seed": 5}, (x, y)),
             ({"left_size": 0.55, "shuffle": True, "seed": 11}, x),
             ({"left_size": 0.25}, [x, y])]
    split = _keras_split_samples if keras.__name__ == "keras" else keras.utils.split_dataset
    for kw, data in table:
        left, right = split(data, **kw)
        res.append([[np.asarray(_np_el(e)).tolist() for e in part] for part in (left, right)])
    info["split"] = res
    errs = []
    for kw in [{}, {"left_size": 0, "right_size": 0}, {"left_size": 10},
               {"left_size": 1.5}, {"left_size": "half"}, {"left_size": 0.6, "right_size": 0.6},
               {"left_size": 6, "right_size": 6}, {"left_size": 0.01}]:
        errs.append(_error(lambda kw=kw: split((x, y), **kw)))
    info["split_errors"] = errs


def _keras_split_samples(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Keras's split_dataset on its tf.data path (the documented one), built from Keras's own
    helpers, up to the samples it hands to tf.data (TensorFlow is not installed here; the
    torch path permutes even without shuffle)."""
    import random

    from keras.src.utils import dataset_utils as du

    spec = du._get_type_spec(dataset)
    if right_size is None and left_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be specified.")
    samples = du._convert_dataset_to_list(dataset, spec)
    if shuffle:
        random.seed(seed)
        random.shuffle(samples)
    left, right = du._rescale_dataset_split_sizes(left_size, right_size, len(samples))
    return list(samples[:left]), list(samples[-right:])


def _np_el(e):
    if isinstance(e, (tuple, list)):
        return [_np(v).tolist() for v in e]
    return _np(e).tolist()


def dtype_cases(keras, root, arrays, info):
    import torch

    table = [None, "float32", "float64", "int8", "uint16", "bool", "string", "bfloat16",
             "complex64", int, float, bool, str, complex, "int", np.float64, np.int16,
             np.dtype("uint8"), np.dtype("float16"), torch.float16, torch.int64, torch.bool,
             "float128", "int128", "double", object]
    out = []
    for t in table:
        try:
            out.append(keras.utils.standardize_dtype(t))
        except Exception as e:  # noqa: BLE001
            out.append("error:" + type(e).__name__)
    info["dtypes"] = out


def misc_cases(keras, root, arrays, info):
    u = keras.utils
    c = u.Config(learning_rate=0.1, momentum=0.9)
    c.seed = 3
    c["name"] = "run"
    rec = {"json": c.to_json(), "iter": list(c), "len": len(c), "get": c.get("missing", 7),
           "contains": "seed" in c, "items": sorted(c.items()),
           "as_dict": c.as_dict(), "pop": c.pop("name")}
    c.freeze()
    rec["frozen"] = c.frozen
    rec["errors"] = [_error(lambda: setattr(c, "x", 1)), _error(lambda: c.update(a=1)),
                     _error(lambda: c.__setitem__("a", 1)), _error(lambda: c.pop("seed")),
                     _error(lambda: c.__delitem__("seed")), _error(lambda: c.learnin_rate)]
    try:
        _ = c.learnin_rate
    except AttributeError as e:
        rec["suggest"] = "Did you mean 'learning_rate'" in str(e)
    c.unfreeze()
    c.extra = 1
    rec["after_unfreeze"] = c.as_dict()
    info["config"] = rec

    # pack / unpack
    a, b, w = np.ones(2), np.zeros(2), np.full(2, 0.5)
    packed = []
    for args in [(a,), (a, b), (a, b, w), ([a, b],), ((a, b),), ([a, b], b)]:
        p = u.pack_x_y_sample_weight(*args)
        packed.append(_shape_of(p))
    info["pack"] = packed
    unpacked = []
    for data in [a, (a,), (a, b), (a, b, w), [a, b], [a, b, w]]:
        unpacked.append(_shape_of(u.unpack_x_y_sample_weight(data)))
    unpacked.append(_error(lambda: u.unpack_x_y_sample_weight((a, b, w, a))))
    info["unpack"] = unpacked

    # symbolic tensors
    i1 = keras.Input((3,), name="in_a")
    i2 = keras.Input((2,), name="in_b")
    i3 = keras.Input((4,), name="in_c")
    h = keras.layers.Dense(4, name="h")(i1)
    z = keras.layers.Concatenate(name="cat")([i2, h])
    out = keras.layers.Dense(1, name="o")(z)
    names = {id(i1): "in_a", id(i2): "in_b", id(i3): "in_c"}
    info["source_inputs"] = [[names.get(id(t), "?") for t in u.get_source_inputs(t0)]
                             for t0 in (out, h, i3, z)]
    info["source_non_symbolic"] = type(u.get_source_inputs(np.ones(2))).__name__
    info["is_keras_tensor"] = [bool(u.is_keras_tensor(v)) for v in
                               (i1, out, np.ones(2), 3.0)]

    # interactive logging switches
    states = [u.is_interactive_logging_enabled()]
    u.disable_interactive_logging()
    states.append(u.is_interactive_logging_enabled())
    u.enable_interactive_logging()
    states.append(u.is_interactive_logging_enabled())
    info["logging"] = states

    # clear_session resets automatic layer names
    keras.layers.Dense(2)
    u.clear_session()
    info["clear_session"] = [keras.layers.Dense(2).name, keras.layers.Dense(2).name]
    info["sequence_is_pydataset"] = u.Sequence is u.PyDataset


def _shape_of(p):
    if isinstance(p, (tuple, list)):
        return [type(p).__name__, [_shape_of(v) for v in p]]
    if p is None:
        return None
    return ["array", list(np.shape(p))]


def callbacks_cases(keras, root, arrays, info):
    """SwapEMAWeights during fit (validation on the averages, averages in the model between
    epochs) and around evaluate/predict, on a linear model with fixed initial weights."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.3).astype("float32")
    xv, yv = x[:8] + 0.1, y[:8]

    def model():
        m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        m.layers[0].set_weights([np.full((3, 1), 0.1, "float32"), np.zeros(1, "float32")])
        m.compile(keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.8), "mse")
        return m

    m = model()
    h = m.fit(x, y, batch_size=8, epochs=3, shuffle=False, validation_data=(xv, yv),
              verbose=0, callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True)])
    info["ema_history"] = {k: [round(float(v), 6) for v in vals]
                           for k, vals in h.history.items()}
    arrays["ema_swap_on_epoch_weights"] = np.asarray(m.layers[0].get_weights()[0])
    m = model()
    for i in range(4):  # train_on_batch does not finalize: raw weights and averages differ
        m.train_on_batch(x[8 * i:8 * i + 8], y[8 * i:8 * i + 8])
    raw = [np.asarray(w) for w in m.layers[0].get_weights()]
    cb = keras.callbacks.SwapEMAWeights()
    info["ema_eval"] = [round(float(m.evaluate(xv, yv, verbose=0)), 6),
                        round(float(m.evaluate(xv, yv, verbose=0, callbacks=[cb])), 6)]
    info["ema_eval_restores"] = all(np.array_equal(np.asarray(a), b) for a, b in
                                    zip(m.layers[0].get_weights(), raw))
    plain = model()
    plain.compile(keras.optimizers.SGD(0.1), "mse")
    info["ema_error"] = _error(lambda: plain.evaluate(
        xv, yv, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()]))


def bbox_cases(keras, root, arrays, info):
    bb = keras.utils.bounding_boxes
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 50, (2, 5, 2)).astype("float32")
    wh = rng.uniform(1, 30, (2, 5, 2)).astype("float32")
    boxes = np.concatenate([xy, xy + wh], axis=-1)  # xyxy, batched (2, 5, 4)
    fmts = ["xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy", "rel_yxyx",
            "rel_xywh", "rel_center_xywh"]
    for f in fmts:
        out = bb.convert_format(boxes, source="xyxy", target=f, height=80, width=100)
        arrays[f"bb_to_{f}"] = _np(out)
        back = bb.convert_format(_np(out), source=f, target="xyxy", height=80, width=100)
        arrays[f"bb_from_{f}"] = _np(back)
    arrays["bb_rel_rel"] = _np(bb.convert_format(boxes[0] / 100, "rel_xyxy", "rel_center_xywh",
                                                 height=80, width=100))
    arrays["bb_dict"] = _np(bb.convert_format({"boxes": boxes[0], "labels": np.arange(5)},
                                              "xyxy", "xywh")["boxes"])
    arrays["bb_float64"] = _np(bb.convert_format(boxes[0], "xyxy", "xywh", dtype="float64"))
    clipped = bb.clip_to_image_size({"boxes": boxes[0] - 10, "labels": np.arange(5)},
                                    height=30, width=40)
    arrays["bb_clip_boxes"] = _np(clipped["boxes"])
    arrays["bb_clip_labels"] = _np(clipped["labels"])
    arrays["bb_clip_rel"] = _np(bb.clip_to_image_size(
        {"boxes": boxes[0] / 60 - 0.2}, bounding_box_format="rel_xyxy")["boxes"])
    arrays["bb_crop"] = _np(bb.crop(boxes, top=5, left=8, height=30, width=25))
    arrays["bb_pad"] = _np(bb.pad(boxes, top=3, left=7))
    ones = np.ones(2, "float32")
    arrays["bb_affine"] = _np(bb.affine_transform(
        boxes, angle=np.array([15.0, -30.0], "float32"), translate_x=0.1 * ones,
        translate_y=-0.05 * ones, scale=np.array([1.0, 0.8], "float32"),
        shear_x=np.array([5.0, 0.0], "float32"), shear_y=np.array([0.0, 10.0], "float32"),
        height=80, width=100))
    arrays["bb_iou"] = _np(bb.compute_iou(boxes[0], boxes[1], "xyxy"))
    arrays["bb_iou_batched"] = _np(bb.compute_iou(boxes, boxes, "xyxy"))
    arrays["bb_iou_mixed"] = _np(bb.compute_iou(boxes, boxes[0], "xyxy"))
    masked = boxes[0].copy()
    masked[2] = -1
    arrays["bb_iou_masked"] = _np(bb.compute_iou(masked, boxes[1], "xyxy", use_masking=True,
                                                 mask_val=-2))
    arrays["bb_iou_rel"] = _np(bb.compute_iou(boxes[0] / 100, boxes[1] / 100, "rel_xyxy",
                                              image_shape=(100, 100, 3)))
    arrays["bb_ciou"] = _np(bb.compute_ciou(boxes[0], boxes[1], "xyxy"))
    arrays["bb_ciou_c"] = _np(bb.compute_ciou(
        bb.convert_format(boxes, "xyxy", "center_xywh"), boxes[::-1].copy(), "xyxy"))
    anchors = boxes[0]
    for enc in ("center_yxhw", "center_xywh"):
        d = bb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", encoding_format=enc,
                                    variance=[0.1, 0.1, 0.2, 0.2])
        arrays[f"bb_delta_{enc}"] = _np(d)
        arrays[f"bb_decode_{enc}"] = _np(bb.decode_deltas_to_boxes(
            anchors, d, "xyxy", "xywh", encoded_format=enc, variance=[0.1, 0.1, 0.2, 0.2]))
    zeros = keras.ops.convert_to_tensor(np.zeros((5, 4), "float32"))
    lv = bb.decode_deltas_to_boxes({"p3": anchors}, {"p3": zeros}, "xyxy", "xyxy")
    arrays["bb_decode_dict"] = _np(lv["p3"])
    info["bb_errors"] = [
        _error(lambda: bb.convert_format(boxes[..., :3], "xyxy", "xywh")),
        _error(lambda: bb.convert_format(boxes, "xyxy", "polar")),
        _error(lambda: bb.convert_format(boxes, "xyxy", "rel_xyxy")),
        _error(lambda: bb.clip_to_image_size({"boxes": boxes})),
        _error(lambda: bb.compute_iou(boxes[0, 0], boxes[0], "xyxy")),
        _error(lambda: bb.compute_iou(boxes, boxes, "rel_xyxy")),
        _error(lambda: bb.compute_ciou(boxes, boxes, "rel_xyxy")),
        _error(lambda: bb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy", variance=[1, 2])),
        _error(lambda: bb.encode_box_to_deltas(anchors, boxes, "xyxy", "xyxy",
                                               encoding_format="xyxy")),
        _error(lambda: bb.decode_deltas_to_boxes(anchors, boxes, "xyxy", "xyxy",
                                                 encoded_format="xyxy")),
    ]


def run_all(keras, root, arrays):
    info: dict = {}
    bbox_cases(keras, root, arrays, info)
    callbacks_cases(keras, root, arrays, info)
    image_dataset_cases(keras, root, arrays, info)
    image_utils_cases(keras, root, arrays, info)
    split_cases(keras, root, arrays, info)
    dtype_cases(keras, root, arrays, info)
    misc_cases(keras, root, arrays, info)
    return info
