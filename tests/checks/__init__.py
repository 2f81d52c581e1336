"""Tests of the hidden-test checks (autograder/checks), a test module per check module."""
