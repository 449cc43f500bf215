#!/usr/bin/env bash
# Creates .venv with dutybot and its test tools on first use (and again when
# pyproject.toml changes). Needs only Python 3.11+ and access to the package index.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.dutybot-installed"

find_python() {
  for py in "${DUTYBOT_PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$py" ] || continue
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  echo "dutybot needs Python 3.11 or newer (set DUTYBOT_PYTHON to its path)" >&2
  return 1
}

want="$(cat "$root/pyproject.toml" | cksum | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ]; then
  py="$(find_python)"
  echo "Creating $venv with $("$py" --version) …" >&2
  "$py" -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing dutybot and its dependencies into .venv (first run only) …" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  # Without the notice setuptools prints on every editable install (10 lines of stars).
  PYTHONWARNINGS="ignore::UserWarning:setuptools.command.editable_wheel" \
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[test]" >&2
  echo "$want" > "$stamp"
fi
