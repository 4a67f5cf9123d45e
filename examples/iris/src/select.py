"""Pick the model with the best metric (MLW_SELECT_BY, default accuracy) and write build/best.json."""
import glob
import json
import os


def main() -> None:
    metric = os.environ.get("MLW_SELECT_BY", "accuracy")
    candidates = []
    for path in sorted(glob.glob("build/metrics/*.json")):
        with open(path) as source:
            candidates.append(json.load(source))
    if not candidates:
        raise SystemExit("select: no metrics under build/metrics/ — did the train tasks run?")
    best = max(candidates, key=lambda c: c[metric])
    with open("build/best.json", "w") as target:
        json.dump({"model": best["model"], metric: best[metric], "candidates": candidates}, target, indent=2)
    print(f"best model: {best['model']} ({metric} {best[metric]:.4f})")
    # The chosen model's score as this run's metric, so the Runs view shows it (a cached re-run
    # carries it over too).
    metrics_path = os.environ.get("MLW_METRICS")
    if metrics_path:
        with open(metrics_path, "a") as sink:
            sink.write(json.dumps({"step": 0, metric: best[metric]}) + "\n")


if __name__ == "__main__":
    main()
