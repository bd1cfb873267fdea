"""Summarise the cleaned data: churn rate overall and per contract type (profile.json)."""
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import io  # noqa: E402

in_dir, out_dir = io.args(2, "<in_dir> <out_dir>")
df = io.read_pickle(os.path.join(in_dir, "frame.pkl"))

by_contract = df.groupby("contract", observed=True)["churned"].mean()
profile = {
    "rows": int(len(df)),
    "churn_rate": round(float(df["churned"].mean()), 4),
    "churn_by_contract": {str(k): round(float(v), 4) for k, v in sorted(by_contract.items())},
}
io.write_json(profile, os.path.join(out_dir, "profile.json"))
print("profile: %d rows, churn rate %.3f" % (profile["rows"], profile["churn_rate"]))
