"""Keep notebooks in git free of outputs, execution counts and noise.

    python tools/clean_notebooks.py            # clean solutions/, notebooks/
    python tools/clean_notebooks.py --check    # exit 1 if anything is dirty
    python tools/clean_notebooks.py --record solutions/02_x/02_x.ipynb

The one exception: cells whose first line is `# NBVAL_CHECK_OUTPUT` keep
their text output and execution count 1, because nbval compares a marked
cell's output only when the stored cell has both. `--record` executes a
notebook and stores the outputs of its marked cells.
"""

import argparse
import copy
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("solutions", "notebooks")
MARKER = "# NBVAL_CHECK_OUTPUT"
TEXT_OUTPUTS = {"stream", "execute_result"}
NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)",
                   "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def is_marked(cell):
    return cell.cell_type == "code" and cell.source.startswith(MARKER)


def clean_output(output):
    """A marked cell's text output without volatile fields."""
    if output.output_type == "stream":
        return nbformat.v4.new_output("stream", name=output.name,
                                      text=output.text)
    data = {"text/plain": output.data["text/plain"]}
    return nbformat.v4.new_output("execute_result", data=data,
                                  execution_count=1)


def clean(notebook):
    """A copy of `notebook` as it belongs in git."""
    notebook = copy.deepcopy(notebook)
    keep = {key: notebook.metadata[key] for key in ("nbgrader", "course")
            if key in notebook.metadata}
    notebook.metadata = nbformat.from_dict({**NOTEBOOK_METADATA, **keep})
    for cell in notebook.cells:
        cell.metadata = nbformat.from_dict({
            key: value for key, value in cell.metadata.items()
            if key in ("nbgrader", "tags")
        })
        if cell.cell_type != "code":
            continue
        if is_marked(cell) and cell.outputs:
            cell.outputs = [clean_output(output) for output in cell.outputs
                            if output.output_type in TEXT_OUTPUTS]
            cell.execution_count = 1
        else:
            cell.outputs = []
            cell.execution_count = None
    return notebook


def notebook_paths(paths):
    if paths:
        return [Path(path) for path in paths]
    return sorted(path for folder in FOLDERS
                  for path in (ROOT / folder).rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in path.parts)


def record(path):
    """Execute `path` and store the outputs of its marked cells."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    executed = copy.deepcopy(notebook)
    NotebookClient(executed, timeout=600,
                   resources={"metadata": {"path": str(path.parent)}}
                   ).execute()
    for cell, run in zip(notebook.cells, executed.cells):
        if is_marked(cell):
            cell.outputs = run.outputs
            cell.execution_count = 1
    nbformat.write(clean(notebook), path)
    print(f"recorded marked outputs in {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args(argv)
    dirty = []
    for path in notebook_paths(args.paths):
        if args.record:
            record(path)
            continue
        text = path.read_text(encoding="utf-8")
        cleaned = nbformat.writes(clean(nbformat.reads(text, as_version=4)))
        if cleaned.rstrip("\n") != text.rstrip("\n"):
            dirty.append(path)
            if not args.check:
                path.write_text(cleaned + "\n", encoding="utf-8")
    for path in dirty:
        verb = "has outputs or noise" if args.check else "cleaned"
        print(f"{verb}: {path}")
    return 1 if (args.check and dirty) else 0


if __name__ == "__main__":
    sys.exit(main())
