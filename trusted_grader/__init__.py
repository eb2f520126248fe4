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
