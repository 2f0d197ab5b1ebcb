"""Self-contained offline HTML (and PDF) reports built from analysis results."""
