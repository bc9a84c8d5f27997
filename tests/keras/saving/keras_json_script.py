"""Run by test_saving_json_api.py in a subprocess with real Keras 3 (torch backend).

usage: python keras_json_script.py FOLDER

Reads FOLDER/ndflow_*.json (Model.to_json() written by ndflow) and writes for each
FOLDER/keras_read_<name>.json: what Keras's model_from_json built (layer classes, compile
config, compiled flag). Also writes FOLDER/keras_model.json (a compiled Keras model's to_json)
and FOLDER/keras_layers.json (keras.layers.serialize of a few layers).
"""

import glob
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402


def main(folder):
    for path in sorted(glob.glob(os.path.join(folder, "ndflow_*.json"))):
        name = os.path.basename(path)[len("ndflow_"):-len(".json")]
        with open(path) as f:
            model = keras.models.model_from_json(f.read())
        report = {"layers": [type(layer).__name__ for layer in model.layers],
                  "compiled": bool(model.compiled),
                  "compile_config": model.get_compile_config(),
                  "output_shape": list(model.output_shape),
                  "params": int(model.count_params())}
        with open(os.path.join(folder, f"keras_read_{name}.json"), "w") as f:
            json.dump(report, f)
    inp = keras.Input((5,), name="x")
    h = keras.layers.Dense(8, activation="relu", name="hidden")(inp)
    h = keras.layers.Dropout(0.25)(h)
    out = keras.layers.Dense(3, activation="softmax", name="probs")(h)
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.RMSprop(0.01), loss="categorical_crossentropy",
                  metrics=["accuracy", keras.metrics.AUC(name="auc")])
    with open(os.path.join(folder, "keras_model.json"), "w") as f:
        f.write(model.to_json())
    layers = [keras.layers.Dense(4, activation="tanh", kernel_regularizer="l2"),
              keras.layers.Conv2D(3, 2, strides=2, padding="same"),
              keras.layers.LSTM(6, return_sequences=True),
              keras.layers.BatchNormalization(momentum=0.9)]
    with open(os.path.join(folder, "keras_layers.json"), "w") as f:
        json.dump([keras.layers.serialize(layer) for layer in layers], f)


if __name__ == "__main__":
    main(sys.argv[1])
