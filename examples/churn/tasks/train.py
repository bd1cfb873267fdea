"""Train a GradientBoostingClassifier on train.pkl; write model.pkl and params.json."""
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import io  # noqa: E402

from sklearn.ensemble import GradientBoostingClassifier  # noqa: E402

features_dir, out_dir, lr, trees, seed = io.args(
    5, "<features_dir> <out_dir> <learning_rate> <n_estimators> <seed>")
params = {
    "learning_rate": float(lr),
    "n_estimators": int(trees),
    "max_depth": 3,
    "random_state": int(seed),
}

train = io.read_pickle(os.path.join(features_dir, "train.pkl"))
X, y = train.drop(columns=["churned"]), train["churned"]
print("train: fitting %d trees (lr=%g) on %d rows"
      % (params["n_estimators"], params["learning_rate"], len(X)))

model = GradientBoostingClassifier(**params).fit(X, y)

io.write_pickle(model, os.path.join(out_dir, "model.pkl"))
io.write_json(dict(params, features=list(X.columns)), os.path.join(out_dir, "params.json"))
print("train: training accuracy %.4f" % model.score(X, y))
