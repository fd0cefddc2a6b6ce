"""Scoring models and baselines on labelled chips."""
