"""The query layer: the one place that writes SQL against the canonical tables.

Analyses, report sections and commands ask these functions for frames; they never write SQL
themselves (tests/test_architecture.py holds that rule). Each function takes the store (or its
connection) and plain Python arguments, and returns a pandas DataFrame or a scalar, so the same
queries can later run on PostgreSQL (issue 16). One module per subject.
"""
