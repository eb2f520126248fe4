"""The trusted side of grading: nothing here runs in a student's kernel.

The student's kernel imports `autograder` (visible checks, the answer
recorder) and `cnn_course` (helpers, messages) and nothing of this
package; the sandbox mounts only those two, `data/` and the lesson's
inputs. Here, in three rooms and two shared modules:

- `judging`: the judge, one confined process per run that scores the
  recorded answers (the reference solutions, the hidden tests);
- `batch`: the grading command, `python -m trusted_grader grade`, from
  the submissions to grades.csv and the feedback;
- `export`: what the run hands on (merged and shared gradebooks, Canvas,
  the class report, look-alike submissions);
- `sandbox`: bubblewrap and limits for the kernels and the judge;
- `paths`: where the course's parts are.

Imports run one way: `batch` uses the other rooms; `export` uses of
`batch` only its readers of submitted code (`submissions`, the scan's
parser in `integrity`); `judging` uses neither
(tests/kernel/test_import_graph.py checks the graph).
"""

import sys

# jsonschema, which nbformat imports (so the grading command, nbgrader's
# workers and the judge all do), imports rfc3987_syntax where it is
# installed, only for its "iri" format checks, and that module builds a
# Lark Earley parser as it is imported: 1.3-2 s of CPU in each of those
# processes, all at the start of a run, before the first notebook. No
# schema the trusted side validates checks formats (nbformat's use
# none), so it is kept out: jsonschema then has no "iri" checker.
sys.modules.setdefault("rfc3987_syntax", None)
