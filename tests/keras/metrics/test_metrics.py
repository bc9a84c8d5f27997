"""Metrics vs NumPy references over several `update_state` batches, resets, configs, errors."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras import metrics

rng = np.random.default_rng(0)
C = 5
BATCHES = []
for n in (7, 5, 9):
    logits = rng.standard_normal((n, C)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    ids = rng.integers(0, C, n)
    BATCHES.append({
        "ids": ids, "onehot": np.eye(C, dtype=np.float32)[ids], "probs": probs,
        "logits": logits, "ybin": rng.integers(0, 2, (n, 3)).astype(np.float32),
        "pbin": rng.uniform(0, 1, (n, 3)).astype(np.float32),
        "yreg": rng.standard_normal((n, 3)).astype(np.float32),
        "preg": rng.standard_normal((n, 3)).astype(np.float32),
        "sw": rng.uniform(0, 2, n).astype(np.float32),
    })


def cat(key):
    return np.concatenate([b[key] for b in BATCHES]).astype(np.float64)


def wmean(per, w=None):
    return per.mean() if w is None else (per * w).sum() / w.sum()


def run(metric, ykey, pkey, weighted):
    for b in BATCHES:
        metric.update_state(b[ykey], b[pkey], sample_weight=b["sw"] if weighted else None)
    return metric.result().numpy()


def ref_topk(ids, p, k):
    tv = p[np.arange(len(ids)), ids]
    return ((p > tv[:, None]).sum(-1) < k).astype(np.float64)


def l2n(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


MEAN_CASES = [
    ("accuracy", lambda: metrics.Accuracy(), "ids", "ids",
     lambda: np.ones(len(cat("ids")))),
    ("binary_accuracy", lambda: metrics.BinaryAccuracy(threshold=0.4), "ybin", "pbin",
     lambda: ((cat("pbin") > 0.4) == cat("ybin")).mean(-1)),
    ("categorical_accuracy", lambda: metrics.CategoricalAccuracy(), "onehot", "probs",
     lambda: (cat("ids") == cat("probs").argmax(-1)).astype(float)),
    ("sparse_categorical_accuracy", lambda: metrics.SparseCategoricalAccuracy(), "ids",
     "probs", lambda: (cat("ids") == cat("probs").argmax(-1)).astype(float)),
    ("top_k", lambda: metrics.TopKCategoricalAccuracy(k=2), "onehot", "probs",
     lambda: ref_topk(cat("ids").astype(int), cat("probs"), 2)),
    ("sparse_top_k", lambda: metrics.SparseTopKCategoricalAccuracy(k=3), "ids", "probs",
     lambda: ref_topk(cat("ids").astype(int), cat("probs"), 3)),
    ("mse", lambda: metrics.MeanSquaredError(), "yreg", "preg",
     lambda: ((cat("yreg") - cat("preg")) ** 2).mean(-1)),
    ("mae", lambda: metrics.MeanAbsoluteError(), "yreg", "preg",
     lambda: np.abs(cat("yreg") - cat("preg")).mean(-1)),
    ("mape", lambda: metrics.MeanAbsolutePercentageError(), "yreg", "preg",
     lambda: 100 * np.abs((cat("yreg") - cat("preg")) / np.abs(cat("yreg"))).mean(-1)),
    ("msle", lambda: metrics.MeanSquaredLogarithmicError(), "pbin", "ybin",
     lambda: ((np.log1p(np.maximum(cat("ybin"), 1e-7)) - np.log1p(cat("pbin"))) ** 2).mean(-1)),
    ("cosine", lambda: metrics.CosineSimilarity(), "yreg", "preg",
     lambda: (l2n(cat("yreg")) * l2n(cat("preg"))).sum(-1)),
    ("logcosh", lambda: metrics.LogCoshError(), "yreg", "preg",
     lambda: np.log(np.cosh(cat("preg") - cat("yreg"))).mean(-1)),
    ("bce", lambda: metrics.BinaryCrossentropy(), "ybin", "pbin",
     lambda: -(cat("ybin") * np.log(np.clip(cat("pbin"), 1e-7, 1 - 1e-7)) + (1 - cat("ybin"))
               * np.log(np.clip(1 - cat("pbin"), 1e-7, 1))).mean(-1)),
    ("cce", lambda: metrics.CategoricalCrossentropy(), "onehot", "probs",
     lambda: -np.log(cat("probs")[np.arange(len(cat("ids"))), cat("ids").astype(int)])),
    ("scce_logits", lambda: metrics.SparseCategoricalCrossentropy(from_logits=True), "ids",
     "logits", lambda: -(cat("logits")[np.arange(len(cat("ids"))), cat("ids").astype(int)]
                         - np.log(np.exp(cat("logits")).sum(-1)))),
    ("kld", lambda: metrics.KLDivergence(), "probs", "probs", lambda: np.zeros(21)),
    ("poisson", lambda: metrics.Poisson(), "pbin", "pbin",
     lambda: (cat("pbin") - cat("pbin") * np.log(cat("pbin") + 1e-7)).mean(-1)),
    ("hinge", lambda: metrics.Hinge(), "ybin", "preg",
     lambda: np.maximum(1 - (2 * cat("ybin") - 1) * cat("preg"), 0).mean(-1)),
    ("squared_hinge", lambda: metrics.SquaredHinge(), "ybin", "preg",
     lambda: (np.maximum(1 - (2 * cat("ybin") - 1) * cat("preg"), 0) ** 2).mean(-1)),
    ("categorical_hinge", lambda: metrics.CategoricalHinge(), "onehot", "logits",
     lambda: np.maximum(((1 - cat("onehot")) * cat("logits")).max(-1)
                        - (cat("onehot") * cat("logits")).sum(-1) + 1, 0)),
]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name,make,yk,pk,ref", MEAN_CASES, ids=[c[0] for c in MEAN_CASES])
def test_mean_metrics(name, make, yk, pk, ref, weighted):
    per = ref()
    m = make()
    got = run(m, yk, pk, weighted)
    np.testing.assert_allclose(got, wmean(per, cat("sw") if weighted else None),
                               rtol=1e-5, atol=1e-6)
    m.reset_state()
    assert float(m.result()) == 0.0
    b = BATCHES[0]
    np.testing.assert_allclose(float(m(b[yk], b[pk])), wmean(per[:7]), rtol=1e-5, atol=1e-6)


def test_mean_sum_rmse():
    m, s = metrics.Mean(), metrics.Sum()
    for b in BATCHES:
        m.update_state(b["yreg"], sample_weight=b["sw"])
        s.update_state(b["yreg"], sample_weight=b["sw"])
    y, w = cat("yreg"), cat("sw")
    np.testing.assert_allclose(float(m.result()), (y.mean(-1) * w).sum() / w.sum(), rtol=1e-5)
    np.testing.assert_allclose(float(s.result()), (y * w[:, None]).sum(), rtol=1e-5)
    r = metrics.RootMeanSquaredError()
    got = run(r, "yreg", "preg", True)
    per = ((cat("yreg") - cat("preg")) ** 2).mean(-1)
    np.testing.assert_allclose(got, np.sqrt(wmean(per, w)), rtol=1e-5)
    m = metrics.Mean()
    m.update_state(tf.constant(3.0))
    m.update_state(5.0)
    assert float(m.result()) == 4.0


def ref_counts(y, p, th, w=None):
    w = np.ones_like(p) if w is None else np.broadcast_to(w[:, None], p.shape)
    pos, pred = y != 0, p > th
    return ((w * (pos & pred)).sum(), (w * (~pos & pred)).sum(),
            (w * (~pos & ~pred)).sum(), (w * (pos & ~pred)).sum())


@pytest.mark.parametrize("weighted", [False, True])
def test_confusion_counts_precision_recall(weighted):
    y, p = cat("ybin"), cat("pbin")
    w = cat("sw") if weighted else None
    for th in (0.5, 0.3):
        tp, fp, tn, fn = ref_counts(y, p, th, w)
        for cls, want in ((metrics.TruePositives, tp), (metrics.FalsePositives, fp),
                          (metrics.TrueNegatives, tn), (metrics.FalseNegatives, fn)):
            np.testing.assert_allclose(run(cls(thresholds=th), "ybin", "pbin", weighted), want,
                                       rtol=1e-5)
        np.testing.assert_allclose(run(metrics.Precision(thresholds=th), "ybin", "pbin",
                                       weighted), tp / (tp + fp), rtol=1e-5)
        np.testing.assert_allclose(run(metrics.Recall(thresholds=th), "ybin", "pbin",
                                       weighted), tp / (tp + fn), rtol=1e-5)
    multi = run(metrics.Precision(thresholds=[0.7, 0.2]), "ybin", "pbin", weighted)
    want = [ref_counts(y, p, t, w) for t in (0.7, 0.2)]
    np.testing.assert_allclose(multi, [a / (a + b) for a, b, _, _ in want], rtol=1e-5)


def test_precision_recall_top_k_and_class_id():
    y, p = cat("onehot"), cat("probs")
    # top_k=1: only each row's arg-max counts as predicted positive
    pred = np.zeros_like(p)
    pred[np.arange(len(p)), p.argmax(-1)] = 1
    tp = (pred * y).sum()
    np.testing.assert_allclose(run(metrics.Precision(top_k=1), "onehot", "probs", False),
                               tp / pred.sum(), rtol=1e-5)
    np.testing.assert_allclose(run(metrics.Recall(top_k=1), "onehot", "probs", False),
                               tp / y.sum(), rtol=1e-5)
    k = 2
    predc = p[:, k] > 0.5
    tpc = (predc & (y[:, k] == 1)).sum()
    got = run(metrics.Recall(class_id=k), "onehot", "probs", False)
    np.testing.assert_allclose(got, tpc / max(y[:, k].sum(), 1), rtol=1e-5)


def ref_roc_auc(y, s):
    pos, neg = s[y == 1], s[y == 0]
    gt = (pos[:, None] > neg[None, :]).mean()
    eq = (pos[:, None] == neg[None, :]).mean()
    return gt + 0.5 * eq


def test_auc_roc_and_pr():
    y, p = cat("ybin").ravel(), cat("pbin").ravel()
    m = metrics.AUC(num_thresholds=2000)
    got = run(m, "ybin", "pbin", False)
    np.testing.assert_allclose(got, ref_roc_auc(y, p), atol=2e-3)
    # PR AUC approximates average precision
    order = np.argsort(-p)
    ys = y[order]
    prec = np.cumsum(ys) / np.arange(1, len(ys) + 1)
    ap = (prec * ys).sum() / ys.sum()
    got = run(metrics.AUC(curve="PR", num_thresholds=2000), "ybin", "pbin", False)
    np.testing.assert_allclose(got, ap, atol=0.03)
    # exact small case (checked by hand): interpolated ROC with 3 thresholds
    m = metrics.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0.0, 0.5, 0.3, 0.9])
    assert float(m.result()) == pytest.approx(0.75)
    # from_logits gives the same as probabilities
    a = metrics.AUC(from_logits=True)
    b = metrics.AUC()
    lg = rng.standard_normal(50)
    yy = rng.integers(0, 2, 50)
    a.update_state(yy, lg)
    b.update_state(yy, 1 / (1 + np.exp(-lg)))
    assert float(a.result()) == pytest.approx(float(b.result()), abs=1e-6)


def test_auc_minoring_majoring_and_multilabel():
    y, p = cat("ybin"), cat("pbin")
    lo = run(metrics.AUC(summation_method="minoring"), "ybin", "pbin", False)
    hi = run(metrics.AUC(summation_method="majoring"), "ybin", "pbin", False)
    mid = run(metrics.AUC(), "ybin", "pbin", False)
    assert lo <= mid <= hi
    ml = run(metrics.AUC(multi_label=True, num_thresholds=2000), "ybin", "pbin", False)
    per = [ref_roc_auc(y[:, j], p[:, j]) for j in range(3)]
    np.testing.assert_allclose(ml, np.mean(per), atol=3e-3)
    lw = [1.0, 2.0, 0.0]
    ml = run(metrics.AUC(multi_label=True, num_thresholds=2000, label_weights=lw), "ybin",
             "pbin", False)
    np.testing.assert_allclose(ml, (per[0] + 2 * per[1]) / 3, atol=3e-3)
    w = run(metrics.AUC(num_thresholds=2000), "ybin", "pbin", True)
    # weighted ROC AUC vs pairwise weighted reference
    wf = np.broadcast_to(cat("sw")[:, None], y.shape).ravel()
    yf, pf = y.ravel(), p.ravel()
    wp, wn = wf[yf == 1], wf[yf == 0]
    pair = wp[:, None] * wn[None, :]
    gt = (pf[yf == 1][:, None] > pf[yf == 0][None, :])
    np.testing.assert_allclose(w, (pair * gt).sum() / pair.sum(), atol=3e-3)


def ref_f(y, pred, beta, average):
    tp = (pred * y).sum(0)
    fp = (pred * (1 - y)).sum(0)
    fn = ((1 - pred) * y).sum(0)
    if average == "micro":
        tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
    pr = tp / (tp + fp + 1e-7)
    rc = tp / (tp + fn + 1e-7)
    f = (1 + beta ** 2) * pr * rc / (beta ** 2 * pr + rc + 1e-7)
    if average == "macro":
        return f.mean()
    if average == "weighted":
        return (f * y.sum(0)).sum() / y.sum()
    return f


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_fbeta_and_f1(average):
    y, p = cat("onehot"), cat("probs")
    pred = (p >= p.max(-1, keepdims=True)).astype(float)
    got = run(metrics.F1Score(average=average), "onehot", "probs", False)
    np.testing.assert_allclose(got, ref_f(y, pred, 1.0, average), rtol=1e-5, atol=1e-6)
    pred = (p > 0.3).astype(float)
    got = run(metrics.FBetaScore(average=average, beta=2.0, threshold=0.3), "onehot", "probs",
              False)
    np.testing.assert_allclose(got, ref_f(y, pred, 2.0, average), rtol=1e-5, atol=1e-6)


def test_r2_score():
    y, p, w = cat("yreg"), cat("preg"), cat("sw")
    ss_res = ((y - p) ** 2).sum(0)
    ss_tot = ((y - y.mean(0)) ** 2).sum(0)
    raw = 1 - ss_res / ss_tot
    np.testing.assert_allclose(run(metrics.R2Score(), "yreg", "preg", False), raw.mean(),
                               rtol=1e-5)
    np.testing.assert_allclose(run(metrics.R2Score(class_aggregation=None), "yreg", "preg",
                                   False), raw, rtol=1e-5)
    vw = (ss_tot * raw).sum() / ss_tot.sum()
    np.testing.assert_allclose(run(metrics.R2Score(class_aggregation="variance_weighted_average"),
                                   "yreg", "preg", False), vw, rtol=1e-5)
    n = y.size
    adj = 1 - (1 - raw.mean()) * (n - 1) / (n - 2 - 1)
    np.testing.assert_allclose(run(metrics.R2Score(num_regressors=2), "yreg", "preg", False),
                               adj, rtol=1e-5)
    mw = ((y - np.average(y, axis=0, weights=w)) ** 2 * w[:, None]).sum(0)
    rw = 1 - ((y - p) ** 2 * w[:, None]).sum(0) / mw
    np.testing.assert_allclose(run(metrics.R2Score(), "yreg", "preg", True), rw.mean(),
                               rtol=1e-4)


def test_mean_iou():
    m = metrics.MeanIoU(num_classes=C)
    got = run(m, "ids", "ids", False)
    assert got == pytest.approx(1.0, abs=1e-6)
    yt, yp = cat("ids").astype(int), cat("probs").argmax(-1)
    cm = np.zeros((C, C))
    np.add.at(cm, (yt, yp), 1)
    tp = np.diag(cm)
    den = cm.sum(0) + cm.sum(1) - tp
    want = (tp[den > 0] / den[den > 0]).mean()
    m = metrics.MeanIoU(num_classes=C, sparse_y_pred=False)
    np.testing.assert_allclose(run(m, "ids", "probs", False), want, rtol=1e-5)
    m = metrics.MeanIoU(num_classes=C, sparse_y_true=False, sparse_y_pred=False,
                        ignore_class=0)
    keep = yt != 0
    cm = np.zeros((C, C))
    np.add.at(cm, (yt[keep], yp[keep]), 1)
    tp = np.diag(cm)
    den = cm.sum(0) + cm.sum(1) - tp
    np.testing.assert_allclose(run(m, "onehot", "probs", False),
                               (tp[den > 0] / den[den > 0]).mean(), rtol=1e-5)


ALL = [metrics.Mean, metrics.Sum, metrics.Accuracy, metrics.BinaryAccuracy,
       metrics.CategoricalAccuracy, metrics.SparseCategoricalAccuracy,
       metrics.TopKCategoricalAccuracy, metrics.SparseTopKCategoricalAccuracy, metrics.AUC,
       metrics.Precision, metrics.Recall, metrics.TruePositives, metrics.FalsePositives,
       metrics.TrueNegatives, metrics.FalseNegatives, metrics.MeanSquaredError,
       metrics.RootMeanSquaredError, metrics.MeanAbsoluteError,
       metrics.MeanAbsolutePercentageError, metrics.MeanSquaredLogarithmicError,
       metrics.CosineSimilarity, metrics.LogCoshError, metrics.R2Score, metrics.F1Score,
       metrics.FBetaScore, metrics.BinaryCrossentropy, metrics.CategoricalCrossentropy,
       metrics.SparseCategoricalCrossentropy, metrics.KLDivergence, metrics.Poisson,
       metrics.Hinge, metrics.SquaredHinge, metrics.CategoricalHinge]


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_config_round_trip(cls):
    obj = cls(name="my_metric")
    cfg = obj.get_config()
    assert cfg["name"] == "my_metric"
    again = cls.from_config(cfg)
    assert again.get_config() == cfg
    d = metrics.deserialize(metrics.serialize(obj))
    assert type(d) is cls and d.get_config() == cfg


def test_config_with_arguments():
    for obj in (metrics.AUC(num_thresholds=50, curve="PR", multi_label=True, num_labels=3,
                            from_logits=True),
                metrics.AUC(thresholds=[0.2, 0.6]), metrics.Precision(thresholds=[0.2, 0.4],
                                                                      top_k=2, class_id=1),
                metrics.MeanIoU(4, ignore_class=0), metrics.BinaryAccuracy(threshold=0.7),
                metrics.TopKCategoricalAccuracy(k=3), metrics.FBetaScore("macro", 0.5, 0.4)):
        again = type(obj).from_config(obj.get_config())
        assert again.get_config() == obj.get_config()


def test_get_names():
    for name, cls in [("auc", metrics.AUC), ("precision", metrics.Precision),
                      ("recall", metrics.Recall), ("binary_accuracy", metrics.BinaryAccuracy),
                      ("categorical_accuracy", metrics.CategoricalAccuracy),
                      ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy),
                      ("mse", metrics.MeanSquaredError), ("mae", metrics.MeanAbsoluteError),
                      ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
                      ("F1Score", metrics.F1Score), ("rmse", metrics.RootMeanSquaredError)]:
        assert type(metrics.get(name)) is cls
    m = metrics.Mean()
    assert metrics.get(m) is m
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        metrics.get("acuracy")


def test_custom_metric_and_variables():
    class Max(metrics.Metric):
        def __init__(self, name="max", **kw):
            super().__init__(name=name, **kw)
            self.best = self.add_variable((), initializer="zeros", name="best")

        def update_state(self, values):
            self.best.assign(max(float(self.best.numpy()), float(np.max(values))))

        def result(self):
            return self.best.value()

    m = Max()
    m.update_state([1.0, 4.0])
    m.update_state([2.0])
    assert float(m.result()) == 4.0
    assert [v.name for v in m.variables] == ["best"]
    assert all(not v.trainable for v in metrics.AUC().variables)
    m.reset_state()
    assert float(m.result()) == 0.0


def test_metric_update_under_tape_records_nothing():
    v = tf.Variable(np.ones((4, 3), np.float32))
    acc = metrics.SparseCategoricalAccuracy()
    with tf.GradientTape() as tape:
        y = v * 2.0
        acc.update_state(np.array([0, 1, 2, 0]), y)
        n = len(tape._nodes)
    assert n == 1


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"threshold values in \[0, 1\]"):
        metrics.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="XY")
    with pytest.raises(ValueError, match="average"):
        metrics.F1Score(average="mean")
    with pytest.raises(ValueError, match="class_aggregation"):
        metrics.R2Score(class_aggregation="sum")
    with pytest.raises(ValueError, match="categorical_accuracy.*sparse"):
        metrics.CategoricalAccuracy().update_state(np.array([0, 1]), np.eye(2))
    with pytest.raises(ValueError, match=r"MeanIoU.*class ids in \[0, 2\)"):
        metrics.MeanIoU(2).update_state([0, 3], [0, 1])
    with pytest.raises(ValueError, match="sample_weight"):
        metrics.Mean().update_state(np.ones((4, 2)), sample_weight=np.ones(3))


def _iou_ref(yt, yp, n, ids):
    cm = np.zeros((n, n))
    np.add.at(cm, (yt, yp), 1)
    tp = np.diag(cm)
    den = (cm.sum(0) + cm.sum(1) - tp)[ids]
    tp = tp[ids]
    return (tp[den > 0] / den[den > 0]).mean()


def test_iou_family():
    yt, yp = cat("ids").astype(int), cat("probs").argmax(-1)
    m = metrics.IoU(num_classes=C, target_class_ids=[0, 2], sparse_y_pred=False)
    np.testing.assert_allclose(run(m, "ids", "probs", False), _iou_ref(yt, yp, C, [0, 2]),
                               rtol=1e-5)
    m = metrics.OneHotIoU(num_classes=C, target_class_ids=[1, 3])
    np.testing.assert_allclose(run(m, "onehot", "probs", False), _iou_ref(yt, yp, C, [1, 3]),
                               rtol=1e-5)
    m = metrics.OneHotMeanIoU(num_classes=C)
    np.testing.assert_allclose(run(m, "onehot", "probs", False),
                               _iou_ref(yt, yp, C, list(range(C))), rtol=1e-5)
    yb, pb = cat("ybin").astype(int).ravel(), (cat("pbin") > 0.3).astype(int).ravel()
    m = metrics.BinaryIoU(target_class_ids=[1], threshold=0.3)
    np.testing.assert_allclose(run(m, "ybin", "pbin", False), _iou_ref(yb, pb, 2, [1]),
                               rtol=1e-5)
    for obj in (metrics.IoU(4, [1, 2], ignore_class=0), metrics.BinaryIoU([0], 0.4),
                metrics.OneHotIoU(3, [0]), metrics.OneHotMeanIoU(3)):
        assert type(obj).from_config(obj.get_config()).get_config() == obj.get_config()
    with pytest.raises(ValueError, match="target_class_ids"):
        metrics.IoU(3, [5])


@pytest.mark.parametrize("cls,arg,constrained,dependent", [
    (metrics.PrecisionAtRecall, 0.6, "recall", "precision"),
    (metrics.RecallAtPrecision, 0.6, "precision", "recall"),
    (metrics.SensitivityAtSpecificity, 0.7, "specificity", "recall"),
    (metrics.SpecificityAtSensitivity, 0.7, "recall", "specificity"),
])
def test_value_at_constraint(cls, arg, constrained, dependent):
    y, p, w = cat("ybin"), cat("pbin"), cat("sw")
    n = 50
    ths = [0.0] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1.0]
    best = 0.0
    for th in ths:
        tp, fp, tn, fn = ref_counts(y, p, th, w)
        vals = {"recall": tp / (tp + fn) if tp + fn else 0.0,
                "precision": tp / (tp + fp) if tp + fp else 0.0,
                "specificity": tn / (tn + fp) if tn + fp else 0.0}
        if vals[constrained] >= arg:
            best = max(best, vals[dependent])
    m = cls(arg, num_thresholds=n)
    np.testing.assert_allclose(run(m, "ybin", "pbin", True), best, rtol=1e-5)
    assert cls.from_config(m.get_config()).get_config() == m.get_config()
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        cls(1.5)


def test_book_style_custom_metric():
    class RootMeanSquaredError(metrics.Metric):
        def __init__(self, name="rmse", **kwargs):
            super().__init__(name=name, **kwargs)
            self.mse_sum = self.add_weight(name="mse_sum", initializer="zeros")
            self.total_samples = self.add_weight(name="total_samples", initializer="zeros",
                                                 dtype="int32")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true = tf.one_hot(y_true, depth=tf.shape(y_pred)[1])
            mse = tf.reduce_sum(tf.square(y_true - y_pred))
            self.mse_sum.assign_add(mse)
            self.total_samples.assign_add(tf.shape(y_pred)[0])

        def result(self):
            return tf.sqrt(self.mse_sum / tf.cast(self.total_samples, tf.float32))

        def reset_state(self):
            self.mse_sum.assign(0.0)
            self.total_samples.assign(0)

    m = RootMeanSquaredError()
    for b in BATCHES:
        m.update_state(tf.constant(b["ids"].astype(np.int32)), tf.constant(b["probs"]))
    want = np.sqrt(((cat("onehot") - cat("probs")) ** 2).sum() / len(cat("ids")))
    np.testing.assert_allclose(float(m.result()), want, rtol=1e-5)
    m.reset_state()
    assert int(m.total_samples.numpy()) == 0
