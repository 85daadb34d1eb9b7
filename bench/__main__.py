"""List the benchmark scripts: ``python -m bench``."""

from __future__ import annotations

import pkgutil
from pathlib import Path

for module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
    if not module.name.startswith("_"):
        print(f"python -m bench.{module.name}")
