"""Load the raw customer CSV, drop incomplete rows, fix dtypes, write frame.pkl."""
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import io  # noqa: E402

import pandas as pd  # noqa: E402

csv_path, out_dir = io.args(2, "<csv> <out_dir>")
df = pd.read_csv(csv_path)
print("load: read %d rows from %s" % (len(df), csv_path))

df["total_charges"] = pd.to_numeric(df["total_charges"], errors="coerce")
df = df.dropna().reset_index(drop=True)
df = df.astype({
    "customer_id": "string",
    "tenure_months": "int64",
    "monthly_charges": "float64",
    "total_charges": "float64",
    "contract": "category",
    "support_calls": "int64",
    "internet": "category",
    "churned": "int64",
})

io.write_pickle(df, os.path.join(out_dir, "frame.pkl"))
print("load: kept %d rows, churn rate %.3f" % (len(df), df["churned"].mean()))
