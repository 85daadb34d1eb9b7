"""Test-only models for the toolkit's database features (UUID and integer primary keys)."""
