"""Tests of the instructor's grading pipeline (autograder/pipeline), the microgpt-course command."""
