"""Checks that the course notebooks' test cells call, and the grader.

Each lesson has a module (`autograder.lesson01`, ...) with two kinds of
functions per exercise:

- ``<exercise>(func)``: the visible check. Fixed cases whose expected values
  were generated from the reference solutions (``autograder/expected``). It
  raises a short `CheckFailure` on the first problem and prints one line on
  success.
- ``hidden_<exercise>(func, points)``: the graded hidden tests. Fresh random
  cases compared with the reference solution read from ``solutions/``; it
  prints one line per case and returns the points earned as a float, which
  nbgrader records as partial credit.
"""
