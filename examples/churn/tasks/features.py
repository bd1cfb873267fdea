"""One-hot encode categoricals, add derived features, split train/test; write train.pkl, test.pkl."""
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import io  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

TEST_FRACTION = 0.25

in_dir, out_dir, seed = io.args(3, "<in_dir> <out_dir> <seed>")
df = io.read_pickle(os.path.join(in_dir, "frame.pkl"))

df["avg_charge"] = df["total_charges"] / df["tenure_months"]
df["calls_per_year"] = df["support_calls"] * 12.0 / df["tenure_months"]
df["new_customer"] = (df["tenure_months"] <= 6).astype("int64")
df = pd.get_dummies(df, columns=["contract", "internet"], dtype="int64")
df = df.drop(columns=["customer_id"])
df = df[sorted(c for c in df.columns if c != "churned") + ["churned"]]

rng = np.random.RandomState(int(seed))
order = rng.permutation(len(df))
n_test = int(round(len(df) * TEST_FRACTION))
test = df.iloc[np.sort(order[:n_test])].reset_index(drop=True)
train = df.iloc[np.sort(order[n_test:])].reset_index(drop=True)

io.write_pickle(train, os.path.join(out_dir, "train.pkl"))
io.write_pickle(test, os.path.join(out_dir, "test.pkl"))
print("features: %d features, %d train rows, %d test rows"
      % (df.shape[1] - 1, len(train), len(test)))
