"""Render metrics.json and profile.json as a short Markdown report (report.md)."""
import json
import os
import sys

if len(sys.argv) != 5:
    sys.stderr.write("usage: report.py <metrics_dir> <profile_dir> <out_dir> <title>\n")
    sys.exit(2)
metrics_dir, profile_dir, out_dir, title = sys.argv[1:]

with open(os.path.join(metrics_dir, "metrics.json")) as f:
    metrics = json.load(f)
with open(os.path.join(profile_dir, "profile.json")) as f:
    profile = json.load(f)

lines = [
    "# %s" % title,
    "",
    "%d customers, churn rate %.1f%%." % (profile["rows"], 100 * profile["churn_rate"]),
    "Gradient-boosted classifier against a logistic-regression baseline,",
    "scored on %d held-out customers." % metrics["test_rows"],
    "",
    "| metric | model | baseline |",
    "| --- | ---: | ---: |",
]
for name in ("accuracy", "precision", "recall", "roc_auc"):
    lines.append("| %s | %.4f | %.4f |" % (name, metrics[name], metrics["baseline"][name]))
lines += ["", "| contract | churn rate |", "| --- | ---: |"]
for contract, rate in profile["churn_by_contract"].items():
    lines.append("| %s | %.1f%% |" % (contract, 100 * rate))

with open(os.path.join(out_dir, "report.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("report: wrote %s" % os.path.join(out_dir, "report.md"))
