"""Reaching Google: credentials, the retrying HTTP client, redaction."""
