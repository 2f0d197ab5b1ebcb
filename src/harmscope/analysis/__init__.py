"""Analyses: one module per question, each returning a :class:`~harmscope.analysis.result.Result`."""
