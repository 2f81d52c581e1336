"""Tests of what learners use: course_tools, their JupyterLab, and what Validate shows them."""
