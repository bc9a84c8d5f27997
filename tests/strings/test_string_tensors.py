"""String tensors and `tf.strings`: expected values were produced by TensorFlow 2.21
(`tf.strings.*` on the same inputs) and are written out here; hashes are checked against
TensorFlow's to_hash_bucket_fast / to_hash_bucket_strong."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.strings.hashes import fingerprint64, siphash24


def test_constant_makes_string_tensors_of_bytes():
    x = tf.constant(["a b", "Cé"])
    assert x.dtype == tf.string and x.dtype.name == "string" and x.shape == (2,)
    assert x.numpy().dtype == object
    assert x.numpy().tolist() == [b"a b", "Cé".encode()]
    assert tf.constant("abc").numpy() == b"abc" and tf.constant("abc").shape == ()
    assert tf.constant(np.array(["x", "yy"])).numpy().tolist() == [b"x", b"yy"]
    assert tf.constant([b"q"], dtype=tf.string).numpy().tolist() == [b"q"]
    assert tf.as_dtype("string") is tf.string and tf.as_dtype(str) is tf.string
    assert tf.keras.Input(shape=(1,), dtype="string").dtype == tf.string


def test_array_ops_work_on_strings():
    x = tf.constant(["a", "b", "c"])
    assert tf.reshape(x, [3, 1]).numpy()[:, 0].tolist() == [b"a", b"b", b"c"]
    assert tf.concat([x, x], 0).shape == (6,)
    assert tf.gather(x, [2, 0]).numpy().tolist() == [b"c", b"a"]
    assert tf.expand_dims(x, -1).shape == (3, 1)
    assert (x == "b").numpy().tolist() == [False, True, False]
    assert [t.numpy() for t in x] == [b"a", b"b", b"c"]


def test_mixed_values_and_numeric_ops_fail_clearly():
    with pytest.raises(TypeError, match="str or bytes, got int"):
        tf.constant(["a", 1])
    with pytest.raises(ValueError, match="add"):
        tf.constant(["a"]) + 1
    with pytest.raises(ValueError, match="expected a string tensor.*int32"):
        tf.strings.lower([1, 2])


def test_datasets_carry_strings():
    ds = tf.data.Dataset.from_tensor_slices((["a b", "c", "dd e f"], [0, 1, 0]))
    first = next(iter(ds))[0]
    assert first.dtype == tf.string and first.numpy() == b"a b"
    batches = [x.numpy().tolist() for x, _ in ds.batch(2)]
    assert batches == [[b"a b", b"c"], [b"dd e f"]]
    mapped = [x.numpy().tolist() for x in ds.map(lambda x, y: tf.strings.upper(x)).batch(3)]
    assert mapped == [[b"A B", b"C", b"DD E F"]]
    assert ds.element_spec[0].dtype == tf.string


def test_string_ops_match_tensorflow():
    s = tf.strings
    assert s.as_string([1.5, 2.0, 1e10, -0.25]).numpy().tolist() == [
        b"1.500000", b"2.000000", b"10000000000.000000", b"-0.250000"]
    assert s.as_string([True, False]).numpy().tolist() == [b"true", b"false"]
    assert s.as_string([1.5], precision=2).numpy().tolist() == [b"1.50"]
    assert s.as_string([1.5], shortest=True).numpy().tolist() == [b"1.5"]
    assert s.as_string([1.5e9], scientific=True).numpy().tolist() == [b"1.500000e+09"]
    assert s.as_string([7], width=4, fill="0").numpy().tolist() == [b"0007"]
    assert s.split(["", "a,,b", " a  b "], sep=",").to_list() == [
        [b""], [b"a", b"", b"b"], [b" a  b "]]
    assert s.split(["", " a  b "]).to_list() == [[], [b"a", b"b"]]
    assert s.split("x y").numpy().tolist() == [b"x", b"y"]
    assert s.lower(["ÉA"]).numpy().tolist() == [b"\xc3\x89a"]  # ASCII only by default
    assert s.lower(["ÉA"], encoding="utf-8").numpy().tolist() == [b"\xc3\xa9a"]
    assert s.to_number(["1.5", "3"]).numpy().tolist() == [1.5, 3.0]
    assert s.to_number(["12"], out_type=tf.int64).numpy().dtype == np.int64
    r = tf.RaggedTensor.from_row_splits([b"a", b"b", b"c", b"d"], [0, 3, 4])
    assert s.ngrams(r, 2).to_list() == [[b"a b", b"b c"], []]
    assert s.ngrams(r, (1, 2)).to_list() == [[b"a", b"b", b"c", b"a b", b"b c"], [b"d"]]
    assert s.substr(["hello"], 1, 3).numpy().tolist() == [b"ell"]
    assert s.length(["hé"]).numpy().tolist() == [3]
    assert s.length(["hé"], unit="UTF8_CHAR").numpy().tolist() == [2]
    assert s.reduce_join([["a", "b"], ["c", "d"]], axis=1, separator="-").numpy().tolist() == [
        b"a-b", b"c-d"]
    assert s.reduce_join([["a", "b"], ["c", "d"]]).numpy() == b"abcd"
    assert s.join([["a", "b"], ["c", "d"]], separator="+").numpy().tolist() == [b"a+c", b"b+d"]
    assert s.strip([" a \n"]).numpy().tolist() == [b"a"]
    assert s.regex_replace(["Hello, World!"], r"[!,]", "").numpy().tolist() == [b"Hello World"]
    assert s.regex_replace(["aXbX"], "X", "y", replace_global=False).numpy().tolist() == [
        b"aybX"]
    assert s.unicode_split(["hé"], "UTF-8").to_list() == [[b"h", "é".encode()]]
    assert s.regex_full_match(["ab", "abc"], "ab").numpy().tolist() == [True, False]
    with pytest.raises(ValueError, match="to_number.*b'x'"):
        s.to_number(["x"])


def test_ragged_tensor_basics():
    r = tf.RaggedTensor.from_row_lengths([1, 2, 3], [2, 0, 1])
    assert r.to_list() == [[1, 2], [], [3]]
    assert r.to_tensor().numpy().tolist() == [[1, 2], [0, 0], [3, 0]]
    assert r.to_tensor(shape=[None, 1]).numpy().tolist() == [[1], [0], [3]]
    assert r.row_lengths().numpy().tolist() == [2, 0, 1] and len(r) == 3
    with pytest.raises(ValueError, match="row_splits"):
        tf.RaggedTensor.from_row_splits([1, 2], [0, 3])


_HASH_INPUTS = [
    b"", b"a", b"ab", b"abc", b"abcd", b"hello", b"12345678", b"123456789abcdef0", b"x" * 17,
    b"y" * 31, b"q" * 33, bytes(range(64)), bytes(range(65)), bytes(range(200)),
    "héllo wörld".encode() * 9, b"A", b"B", b"C", b"D", b"E",
]
# TensorFlow 2.21: (to_hash_bucket_fast(s, 2**62), to_hash_bucket_strong(s, 2**62, [133, 7]))
_TF_HASHES = [
    (1936946117179621455, 2406238588852964173),
    (3694432073954588131, 3279621250050176426),
    (3066228220894225694, 3050162528038198185),
    (2640714258260161385, 3025998756135636595),
    (1897425971756105985, 872885563164151667),
    (3786372426573024488, 4202290251259519856),
    (3430003927990384362, 2114889777925047208),
    (1070429167731702735, 4580844014916217661),
    (2082709914559524773, 4004412375019218919),
    (4502319106065319208, 320881890667418965),
    (337133943010535267, 2477674462320993111),
    (3856493858525203531, 2766533710599681091),
    (478270155923209662, 4554236177772738540),
    (525935771297148851, 1728771036102757629),
    (280462984436720800, 487806505434211695),
    (3080236001339896852, 150693213510778675),
    (4091874029135255624, 3015494084128837105),
    (709499339891000103, 3575744390117257792),
    (3920590405066611583, 2183614637876614409),
    (4541520914757299012, 3265049776319703836),
]


def test_hashes_match_tensorflow():
    assert len(_HASH_INPUTS) == len(_TF_HASHES)
    for data, (fast, strong) in zip(_HASH_INPUTS, _TF_HASHES):
        assert fingerprint64(data) % 2**62 == fast, data
        assert siphash24((133, 7), data) % 2**62 == strong, data
    out = tf.strings.to_hash_bucket_fast(["A", "B"], 2**62)
    assert out.numpy().dtype == np.int64 and out.numpy().tolist() == [
        _TF_HASHES[15][0], _TF_HASHES[16][0]]
    out = tf.strings.to_hash_bucket_strong(["C"], 2**62, key=[133, 7])
    assert out.numpy().tolist() == [_TF_HASHES[17][1]]


def test_string_ops_inside_a_compiled_function_fail_clearly():
    @tf.function
    def f(x):
        return tf.strings.lower(x)

    with pytest.raises(ValueError, match="tf.strings.lower: .* traced by ndflow.function.*"
                                         "Dataset.map"):
        f(tf.constant(["A"]))
    tv = tf.keras.layers.TextVectorization(vocabulary=["a"], output_mode="count")

    @tf.function
    def g(x):
        return tv(x) * 2

    assert g(tf.constant(["a A b"])).numpy().tolist() == [[2, 4]]
