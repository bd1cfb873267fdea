"""Score the trained model and the baseline on test.pkl; write metrics.json (4 decimals)."""
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import io  # noqa: E402

from sklearn.metrics import (accuracy_score, precision_score,  # noqa: E402
                             recall_score, roc_auc_score)

features_dir, model_dir, baseline_dir, out_dir = io.args(
    4, "<features_dir> <model_dir> <baseline_dir> <out_dir>")
test = io.read_pickle(os.path.join(features_dir, "test.pkl"))
X, y = test.drop(columns=["churned"]), test["churned"]


def score(model_path):
    model = io.read_pickle(model_path)
    pred = model.predict(X)
    proba = model.predict_proba(X)[:, 1]
    metrics = {
        "accuracy": accuracy_score(y, pred),
        "precision": precision_score(y, pred),
        "recall": recall_score(y, pred),
        "roc_auc": roc_auc_score(y, proba),
    }
    return {k: round(float(v), 4) for k, v in metrics.items()}


metrics = score(os.path.join(model_dir, "model.pkl"))
metrics["baseline"] = score(os.path.join(baseline_dir, "model.pkl"))
metrics["test_rows"] = int(len(y))

io.write_json(metrics, os.path.join(out_dir, "metrics.json"))
print("evaluate: roc_auc %.4f (baseline %.4f), accuracy %.4f (baseline %.4f)"
      % (metrics["roc_auc"], metrics["baseline"]["roc_auc"],
         metrics["accuracy"], metrics["baseline"]["accuracy"]))
