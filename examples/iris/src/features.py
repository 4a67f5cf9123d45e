"""Split data/iris.csv into a stratified train/test split under build/features/."""
import argparse
import csv
import os
import random


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--test-size", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    with open("data/iris.csv", newline="") as source:
        rows = list(csv.DictReader(source))
    by_species: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_species.setdefault(row["species"], []).append(row)

    rng = random.Random(args.seed)
    train, test = [], []
    for species in sorted(by_species):
        group = by_species[species]
        rng.shuffle(group)
        cut = round(len(group) * args.test_size)
        test.extend(group[:cut])
        train.extend(group[cut:])

    os.makedirs("build/features", exist_ok=True)
    for name, split in (("train", train), ("test", test)):
        with open(f"build/features/{name}.csv", "w", newline="") as target:
            writer = csv.DictWriter(target, fieldnames=list(rows[0].keys()))
            writer.writeheader()
            writer.writerows(split)
    print(f"features: {len(train)} train rows, {len(test)} test rows (seed {args.seed})")


if __name__ == "__main__":
    main()
