"""Exports: files written for an audience from published results (see privacy.publish)."""
