"""What a grading run hands on once its grades are made.

The merged nbgrader gradebook and its shared PostgreSQL copy (`merge`,
with nbgrader's schema revision `gradebook_schema`), the Canvas gradebook
import (`canvas`), the class report (`report`, `mistakes`) and the
look-alike submissions (`similarity`). Nothing here changes a grade.
"""
