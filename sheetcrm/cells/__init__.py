"""Parsing what people type into cells, and A1 ranges."""
