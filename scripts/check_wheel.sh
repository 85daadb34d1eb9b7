#!/usr/bin/env bash
# Build the wheel and sdist, check them, install the wheel into a fresh venv OUTSIDE the checkout
# and run the demo (only manage.py + demo/ copied) against it: `manage.py check`, `migrate`, and
# template / static lookups that must resolve inside the installed package (APP_DIRS, finders).
#
# Usage: scripts/check_wheel.sh            (make wheel-check)
# Env:   PYTHON        interpreter that has `build` and `twine` (default .venv/bin/python)
#        WHEEL_EXTRAS  extras installed with the wheel for the demo (default "demo,redis,kombu")
#        KEEP_WORKDIR  set to 1 to keep the temp dir for inspection
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$repo/.venv/bin/python}"
case "$python" in /*) ;; *) python="$repo/$python" ;; esac
extras="${WHEEL_EXTRAS:-demo,redis,kombu}"
work="$(mktemp -d "${TMPDIR:-/tmp}/wheel-check.XXXXXX")"
cleanup() { if [ "${KEEP_WORKDIR:-0}" = "1" ]; then echo "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

step "build sdist + wheel (the wheel is built from the sdist)"
"$python" -m build --outdir "$work/dist" "$repo" >"$work/build.log" 2>&1 || {
  cat "$work/build.log"; exit 1; }
wheel="$(ls "$work"/dist/*.whl)"
sdist="$(ls "$work"/dist/*.tar.gz)"
echo "wheel: $(basename "$wheel")"
echo "sdist: $(basename "$sdist")"

step "twine check"
"$python" -m twine check --strict "$work"/dist/*

step "contents: every tracked file of toolkit/, patterns_admin/, templates/, static/ is shipped"
(cd "$repo" && git ls-files -- toolkit patterns_admin templates static 2>/dev/null ||
  find toolkit patterns_admin templates static -type f) >"$work/tracked.txt"
"$python" - "$wheel" "$sdist" "$work/tracked.txt" <<'PY'
import sys
import tarfile
import zipfile

wheel, sdist, tracked_file = sys.argv[1:4]
tracked = [
    line.strip()
    for line in open(tracked_file, encoding="utf-8")
    if line.strip() and "__pycache__" not in line and not line.strip().endswith(".pyc")
]
in_wheel = set(zipfile.ZipFile(wheel).namelist())
with tarfile.open(sdist) as tar:
    root = tar.getnames()[0].split("/")[0]
    in_sdist = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}


def wheel_path(path: str) -> str:
    # templates/ and static/ live at the repository's top level and are force-included
    # into patterns_admin/ (pyproject: [tool.hatch.build.targets.wheel.force-include]).
    if path.startswith(("templates/", "static/")):
        return "patterns_admin/" + path
    return path


required = ["toolkit/py.typed", "patterns_admin/py.typed", "toolkit/migrations/0001_initial.py"]
missing_wheel = sorted({wheel_path(p) for p in tracked} - in_wheel) + [
    p for p in required if p not in in_wheel
]
missing_sdist = sorted(set(tracked) - in_sdist)
for name in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md"):
    if name not in in_sdist:
        missing_sdist.append(name)
unwanted = sorted(n for n in in_wheel if n.startswith(("demo/", "tests/", "bench/", "docs/")))
problems = [f"not in the wheel: {p}" for p in missing_wheel]
problems += [f"not in the sdist: {p}" for p in missing_sdist]
problems += [f"should not be in the wheel: {p}" for p in unwanted]
templates = sorted(n for n in in_wheel if n.startswith("patterns_admin/templates/"))
static = sorted(n for n in in_wheel if n.startswith("patterns_admin/static/"))
migrations = sorted(n for n in in_wheel if "/migrations/0" in n)
print(
    f"wheel: {len(in_wheel)} files, {len(templates)} templates, {len(static)} static files, "
    f"{len(migrations)} migrations; sdist: {len(in_sdist)} files"
)
if problems:
    print("\n".join(problems))
    sys.exit(1)
PY

step "fresh venv outside the checkout: $work/venv"
"$python" -c 'import sys; print(sys.version.split()[0])'
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet "${wheel}[${extras}]"

step "demo site from manage.py + demo/ only"
mkdir -p "$work/site"
cp "$repo/manage.py" "$work/site/"
cp -R "$repo/demo" "$work/site/demo"
find "$work/site" -name '__pycache__' -prune -exec rm -rf {} +
cd "$work/site"
export DJANGO_SETTINGS_MODULE=demo.settings
export DATABASE_URL="sqlite:///$work/site/wheel-check.sqlite3"
unset PYTHONPATH
vpy="$work/venv/bin/python"
$vpy manage.py check
$vpy manage.py migrate --noinput
$vpy manage.py showmigrations toolkit | sed -n '1,20p'

step "templates and static files resolve from the installed wheel"
$vpy manage.py shell -c "
import pathlib, sys, zipfile
import django.template.loader as loader
from django.contrib.staticfiles import finders
import patterns_admin, toolkit
site = pathlib.Path('$work/venv').resolve()
for pkg in (toolkit, patterns_admin):
    path = pathlib.Path(pkg.__file__).resolve()
    assert site in path.parents, f'{pkg.__name__} imported from {path}, not the fresh venv'
app = pathlib.Path(patterns_admin.__file__).resolve().parent
names = zipfile.ZipFile('$wheel').namelist()
problems = []
templates = [n.removeprefix('patterns_admin/templates/') for n in names
             if n.startswith('patterns_admin/templates/') and n.endswith('.html')]
for name in templates:
    origin = pathlib.Path(loader.get_template(name).origin.name).resolve()
    if app not in origin.parents:
        problems.append(f'template {name} resolves to {origin}, not {app}')
statics = [n.removeprefix('patterns_admin/static/') for n in names
           if n.startswith('patterns_admin/static/')]
for name in statics:
    found = finders.find(name)
    if not found or app not in pathlib.Path(found).resolve().parents:
        problems.append(f'static file {name} resolves to {found!r}, not {app}')
print(f'{len(templates)} templates and {len(statics)} static files found in {app}')
if problems:
    print('\n'.join(problems))
    sys.exit(1)
"
echo
echo "wheel-check: OK ($(basename "$wheel"))"
