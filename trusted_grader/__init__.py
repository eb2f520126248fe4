"""The trusted side of grading: nothing here runs in a student's kernel.

The student's kernel imports `autograder` (visible checks, the answer
recorder, messages) and nothing else of the grader; the sandbox mounts only
that package, `cnn_course` and `data/`. This package holds what decides
grades: the reference solutions (`reference`), the hidden tests
(`hidden`), the judge (`judge`, `replay`, `scoring`), the grading command
(`grading`, `unit`, `submissions`, `merge`), the sandbox (`sandbox`) and
the static scan (`integrity`).
"""
