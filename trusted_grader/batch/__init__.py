"""The grading run: `python -m trusted_grader grade SUBMISSIONS`.

From the command line (`cli`, `settings`) to one row per submission:
reading the submissions (`submissions`, `lateness`), grading each notebook
(`notebook_grading`: the static scan `integrity`, nbgrader's steps in a
forked worker `unit`, the from-scratch kernel `from_scratch`, demo cells
`demo_cells`, sanitising `sanitize`), asking the run's judge through
`judge_client`, here or on a Dask cluster (`cluster`), and resuming an
earlier run (`resume`). The whole run is `grading.grade`; its results go
to `trusted_grader.export`.
"""
