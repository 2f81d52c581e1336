"""For the instructor: the grading pipeline behind `microgpt-course`, one module per job.

course (paths, nbgrader config and API), release (learner versions and the learner's workspace),
collect (submissions into nbgrader's submitted/ layout), grade/sandbox/confirm/policy/flags
(sandboxed grading and confirmed scores), feedback, export, status, progress, cli.
"""
