"""CQRS master → replica model synchronisation (the django-cqrs API on the toolkit)."""
