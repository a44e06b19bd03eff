"""The deal pipeline: stage moves on evidence."""
