"""The kernel side of the course's checks: what a student's kernel imports.

Each lesson has a module (`autograder.lesson01`, ...). Its test-cell
functions, one pair per exercise in `EXERCISES`:

- ``<exercise>(func)``: the visible check. Fixed cases whose expected values
  were generated from the reference solutions (``autograder/expected``). It
  raises a short `CheckFailure` on the first problem and prints one line on
  success.
- ``hidden_<exercise>(func, points)``: stands where the hidden tests run.

When nbgrader autogrades, both only answer the grader's calls and record
the answers (`autograder.recorder`); the trusted judge, in another
process, scores them (`trusted_grader`, never imported here).
"""
