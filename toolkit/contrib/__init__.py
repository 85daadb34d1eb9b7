"""Integrations that need optional packages (OpenTelemetry, Prometheus, Celery).

Each module here imports its extra lazily and degrades to a no-op, or names the install command,
when the extra is missing.
"""
