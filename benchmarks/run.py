"""Measure the course's speed and accuracy bars; print a table; save JSON.

    python -m benchmarks.run                  # everything (several minutes)
    python -m benchmarks.run --only lesson01  # one lesson's figures
    python -m benchmarks.run --no-notebooks   # skip the lessons' notebook runs

Writes benchmarks/results.json: one key per figure, plus the machine's core
count and the TensorFlow version. Exit status 1 if a bar is missed.
"""

import argparse
import importlib
import json
import os
import sys

from benchmarks.common import ROOT, Row, cpu_description

# Six minutes for lessons 01-04, seven with lesson 05.
NOTEBOOK_BAR_SECONDS = 420


def bench_modules(only=None):
    names = sorted(path.stem for path in (ROOT / "benchmarks").glob(
        "bench_*.py"))
    if only:
        names = [name for name in names if name.endswith(only)]
    return [importlib.import_module(f"benchmarks.{name}") for name in names]


def course_rows(rows):
    """The bar about the whole course: all notebooks end to end."""
    notebook_seconds = [row.value for row in rows
                        if row.key.startswith("notebook")]
    total = sum(notebook_seconds)
    return [
        Row("notebooks_total_seconds",
            f"all {len(notebook_seconds)} solution notebooks, full data",
            total, "s", f"<= {NOTEBOOK_BAR_SECONDS}",
            total <= NOTEBOOK_BAR_SECONDS),
    ]


def format_value(value):
    if isinstance(value, float):
        return f"{value:.4f}" if value < 10 else f"{value:.1f}"
    return str(value)


def print_table(rows):
    width = max(len(row.what) for row in rows)
    machine = cpu_description()
    print(f"{os.cpu_count()} cores, {machine['cpu_model']}, AVX-512: "
          f"{'yes' if machine['cpu_avx512'] else 'no'}")
    print(f"{'figure':<{width}}  {'value':>14}  {'bar':<10} met")
    print("-" * (width + 32))
    for row in rows:
        value = f"{format_value(row.value)} {row.unit}".strip()
        verdict = {True: "yes", False: "NO", None: ""}[row.met]
        print(f"{row.what:<{width}}  {value:>14}  {row.bar:<10} {verdict}")


def save(rows, path, partial):
    """Write the figures; a partial run (--only) updates existing ones."""
    from cnn_course import import_tensorflow

    tf, _ = import_tensorflow()
    results = {}
    if partial and path.exists():
        results = json.loads(path.read_text())
    results.update({row.key: row.value for row in rows})
    notebooks = [value for key, value in results.items()
                 if key.startswith("notebook0") and key.endswith("_seconds")]
    if partial and len(notebooks) == 5:
        # The sum of the latest figure of each notebook.
        results["notebooks_total_seconds"] = sum(notebooks)
    results["cpu_count"] = os.cpu_count()
    results.update(cpu_description())
    results["tensorflow_version"] = tf.__version__
    path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="e.g. lesson01 or grading")
    parser.add_argument("--no-notebooks", action="store_true")
    args = parser.parse_args(argv)
    rows = []
    for module in bench_modules(args.only):
        rows += module.run(notebooks=not args.no_notebooks)
    if not args.no_notebooks and not args.only:
        rows += course_rows(rows)
    print_table(rows)
    save(rows, ROOT / "benchmarks" / "results.json",
         partial=bool(args.only or args.no_notebooks))
    return 1 if any(row.met is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
