#!/usr/bin/env bash
# Creates bench/.venv with Flask 3 and Gunicorn 23 from PyPI, only when they are missing.
# Exit status 0 means bench/.venv/bin/gunicorn can serve bench/flask/app.py.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../.venv"
python="${PYTHON:-python3}"

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import flask, gunicorn' 2>/dev/null; then
  exit 0
fi
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'flask==3.*' 'gunicorn==23.*'
"$venv/bin/python" -c 'import flask, gunicorn'
