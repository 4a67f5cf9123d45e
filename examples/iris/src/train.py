"""Fit one classifier on build/features/train.csv and record its accuracy on the test split.

Metrics are reported without any library: JSON lines appended to the file named by $MLW_METRICS,
and a final JSON file under build/metrics/ that the task declares under `metrics:`.
"""
import argparse
import csv
import json
import os
import pickle

from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def load(path: str) -> tuple[list[list[float]], list[str]]:
    with open(path, newline="") as source:
        rows = list(csv.DictReader(source))
    return [[float(row[f]) for f in FEATURES] for row in rows], [row["species"] for row in rows]


def report(point: dict) -> None:
    metrics_path = os.environ.get("MLW_METRICS")
    if metrics_path:
        with open(metrics_path, "a") as sink:
            sink.write(json.dumps(point) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=["rf", "gb"], required=True)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    x_train, y_train = load("build/features/train.csv")
    x_test, y_test = load("build/features/test.csv")
    if args.model == "rf":
        model = RandomForestClassifier(n_estimators=100, random_state=args.seed)
    else:
        model = GradientBoostingClassifier(n_estimators=100, random_state=args.seed)
    model.fit(x_train, y_train)
    accuracy = sum(p == y for p, y in zip(model.predict(x_test), y_test)) / len(y_test)
    report({"step": 1, "accuracy": accuracy})

    os.makedirs("build/models", exist_ok=True)
    os.makedirs("build/metrics", exist_ok=True)
    with open(f"build/models/{args.model}.pkl", "wb") as target:
        pickle.dump(model, target)
    with open(f"build/metrics/{args.model}.json", "w") as target:
        json.dump({"model": args.model, "accuracy": accuracy}, target)
    print(f"train {args.model}: accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
