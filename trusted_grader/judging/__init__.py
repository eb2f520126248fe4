"""The judge: scores recorded answers against the reference solutions.

It runs as one confined process per grading run (`server`, started by
`trusted_grader.batch.judge_client`), never in a student's kernel, and
imports nothing of the batch run or the export: what it needs is the
reference solutions (`reference`), the kernel-side checks, the hidden
tests (`hidden`), the replay of recorded answers (`replay`), the points
(`scoring`), the bounds on submitted models (`model_limits`) and lesson
04's training probe (`robustness`, `training_log`).
"""
