"""Reads and writes at the edges: Delta tables and files."""
