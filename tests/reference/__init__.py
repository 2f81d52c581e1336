"""Tests of the reference package microgpt (solutions/microgpt), a test module per reference
module."""
