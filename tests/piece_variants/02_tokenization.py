"""Chapter 02_tokenization: correct code written differently, and mistakes its visible tests must name (test_visible_contracts)."""

from visible_tests import Variant

CORRECT = []

MISTAKES = []
