#!/usr/bin/env bash
# Prints the path of a working Python 3.13 interpreter, or explains how to get one and fails.
# A pyenv shim named python3.13 exists on some machines but fails unless that version is selected,
# so every candidate is tried by running it, not by its name alone.
set -u
try() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' >/dev/null 2>&1 && { command -v "$1" 2>/dev/null || echo "$1"; exit 0; }; }
[ -n "${PYTHON:-}" ] && try "$PYTHON"
try python3.13
if command -v pyenv >/dev/null 2>&1 || [ -d "${PYENV_ROOT:-$HOME/.pyenv}" ]; then
  root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  for candidate in "$root"/versions/3.13*/bin/python3.13; do [ -x "$candidate" ] && try "$candidate"; done
fi
for candidate in /usr/local/bin/python3.13 /usr/bin/python3.13 /opt/homebrew/bin/python3.13 python3; do try "$candidate"; done
echo "Python 3.13 was not found. Install it (e.g. 'pyenv install 3.13' or your OS package), or run make with PYTHON=/path/to/python3.13." >&2
exit 1
