"""Matching a sample against the index: exact keys and fuzzy blocks."""
