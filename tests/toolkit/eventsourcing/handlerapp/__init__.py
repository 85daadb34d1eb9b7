"""A tiny app whose ``handlers.py`` the autodiscovery test imports."""
