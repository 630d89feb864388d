# Sourced by scripts/bootstrap.sh and scripts/tools_venv.sh: where this project finds Python 3.10.
# is_python310 PATH: true when PATH runs Python 3.10.
# find_python310: prints the first Python 3.10 of $PYTHON, PATH, then pyenv's versions; with
#   ALLOW_UV=1, as a last resort, one fetched by uv (an ordinary networked machine). Fails when none.

is_python310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }

find_python310() {
  local candidate pyenv_root
  shopt -s nullglob
  pyenv_root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  for candidate in "${PYTHON:-}" python3.10 python3 "$pyenv_root"/versions/3.10*/bin/python3.10; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && is_python310 "$candidate"; then
      command -v "$candidate"; return 0
    fi
  done
  if [ "${ALLOW_UV:-0}" = "1" ] && command -v python3 >/dev/null 2>&1; then
    echo "==> Python 3.10 not found on PATH or under pyenv; trying uv" >&2
    if python3 -m pip install --quiet --user uv >&2 && python3 -m uv python install 3.10 >&2; then
      candidate=$(python3 -m uv python find 3.10) && is_python310 "$candidate" && { echo "$candidate"; return 0; }
    fi
  fi
  return 1
}
