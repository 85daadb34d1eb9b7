"""Event-store backends, one module each behind ``EventStoreBackend``."""
