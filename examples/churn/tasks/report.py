"""Render metrics.json as a short Markdown report (report.md)."""
import json
import os
import sys

if len(sys.argv) != 4:
    sys.stderr.write("usage: report.py <metrics_dir> <out_dir> <title>\n")
    sys.exit(2)
metrics_dir, out_dir, title = sys.argv[1:]

with open(os.path.join(metrics_dir, "metrics.json")) as f:
    metrics = json.load(f)

lines = [
    "# %s" % title,
    "",
    "Gradient-boosted churn classifier, scored on %d held-out customers." % metrics["test_rows"],
    "",
    "| metric | value |",
    "| --- | ---: |",
]
for name in ("accuracy", "precision", "recall", "roc_auc"):
    lines.append("| %s | %.4f |" % (name, metrics[name]))

with open(os.path.join(out_dir, "report.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("report: wrote %s" % os.path.join(out_dir, "report.md"))
