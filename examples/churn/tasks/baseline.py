"""Train a LogisticRegression baseline on train.pkl; write model.pkl (the bar train must beat)."""
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import io  # noqa: E402

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

features_dir, out_dir = io.args(2, "<features_dir> <out_dir>")
train = io.read_pickle(os.path.join(features_dir, "train.pkl"))
X, y = train.drop(columns=["churned"]), train["churned"]

model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
io.write_pickle(model, os.path.join(out_dir, "model.pkl"))
print("baseline: logistic regression, training accuracy %.4f" % model.score(X, y))
