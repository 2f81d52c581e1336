"""nbgrader configuration of the course: this folder is the course directory.

Chapters are assignments: chapters/NN_name/NN_name.ipynb is the source version (with
solutions and hidden tests); `nbgrader generate_assignment NN_name` writes the learners'
version to release/, `nbgrader autograde NN_name` grades submitted/<student>/NN_name/.
Run nbgrader with this project's .venv/bin first on PATH (nbgrader calls `alembic`).
"""

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

from autograder.pipeline.feedback import FeedbackExporter, SanitizeFeedback
from autograder.pipeline.sandbox import Limits

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "chapters"

# what a solution region becomes in the learners' version: nbgrader's own ClearSolutions.code_stub
# and text_stub, left at their defaults; autograder/notebook_format.py reads them (and the markers)
# from nbgrader

# grading limits of `microgpt-course grade` (its --help lists them with their defaults, from
# autograder/pipeline/sandbox.py); set one for this course here, e.g. c.GradingLimits.cell_seconds =
# 60 (the command's --cell-seconds 60 wins over this)

# per-cell limit while validating and autograding: grading's; an endless loop scores 0 and grading
# goes on
c.ExecutePreprocessor.timeout = int(c.GradingLimits.get("cell_seconds", Limits.cell_seconds))
c.ExecutePreprocessor.interrupt_on_timeout = True

# feedback shows scores, the learner's code and bounded outputs; never hidden tests' source,
# tracebacks into the checks or the reference, or paths of the grading machine
# (autograder/pipeline/feedback.py)
c.GenerateFeedback.preprocessors = [
    ClearHiddenTests,
    SanitizeFeedback,
    GetGrades,
    CSSHTMLHeaderPreprocessor,
]
# and is inert: the learner's HTML (Markdown, attachments, outputs) is cleaned, and the page's
# Content-Security-Policy lets only the template's MathJax run
c.GenerateFeedback.exporter_class = FeedbackExporter
