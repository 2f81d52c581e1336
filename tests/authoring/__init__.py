"""Tests of chapter authoring: the builder, the chapters it builds, their claims and their
publishing."""
