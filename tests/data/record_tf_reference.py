"""Record TensorFlow's outputs for tests/data/tf_cases.py (run with a Python that has
TensorFlow, e.g. `/work/tfenv/bin/python tests/data/record_tf_reference.py`)."""

import json
import os
import sys

import tensorflow as tf

sys.path.insert(0, os.path.dirname(__file__))
from tf_cases import CARDINALITY, CASES, run  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
out = {
    "tensorflow": tf.__version__,
    "cases": {name: {"elements": run(tf, case), "cardinality": int(case(tf).cardinality())}
              for name, case in CASES.items()},
    "cardinality": {name: int(case(tf).cardinality()) for name, case in CARDINALITY.items()},
}
with open(os.path.join(here, "reference", "tf_data_cases.json"), "w") as f:
    json.dump(out, f, indent=0, sort_keys=True)
print("recorded", len(out["cases"]), "cases and", len(out["cardinality"]), "cardinalities")
