#!/usr/bin/env bash
# Prints the path of the Quarto to render this book with, installing one if needed.
#
# Looks, in this order, for:
#   1. `quarto` on PATH;
#   2. $QUARTO (a path to a quarto executable);
#   3. the official `quarto-cli` wheel in .venv (installed here on first use; it downloads the
#      Quarto release, so it needs internet: a failure is remembered in .venv/.quarto-cli-failed
#      and not retried until that file is deleted);
#   4. the offline bundle in ../shared/quarto (installed once into $TRUSTML_QUARTO_PREFIX, by
#      default ~/.cache/trustml/quarto-offline, outside the clone; re-runs take well under a second);
# else says, in one line, how to install Quarto, and exits 1. Progress goes to stderr.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"

if command -v quarto >/dev/null 2>&1; then
  command -v quarto
  exit 0
fi

if [ -n "${QUARTO:-}" ]; then
  if [ -x "$QUARTO" ] && [ ! -d "$QUARTO" ]; then
    echo "$QUARTO"
    exit 0
  fi
  echo "QUARTO=$QUARTO is not an executable file: point it at a quarto binary, or unset it" >&2
  exit 1
fi

if [ -x "$venv/bin/quarto" ]; then
  echo "$venv/bin/quarto"
  exit 0
fi
if [ -x "$venv/bin/python" ] && [ ! -e "$venv/.quarto-cli-failed" ]; then
  echo "quarto: trying the quarto-cli wheel in .venv (downloads Quarto; needs internet)" >&2
  if "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "quarto-cli>=1.9.18" \
      >"$venv/.quarto-cli.log" 2>&1 && [ -x "$venv/bin/quarto" ]; then
    echo "$venv/bin/quarto"
    exit 0
  fi
  touch "$venv/.quarto-cli-failed"
  echo "quarto: the quarto-cli wheel did not install (offline?); log in .venv/.quarto-cli.log" >&2
fi

bundle="$root/../shared/quarto"
if [ -f "$bundle/install.sh" ]; then
  prefix="${TRUSTML_QUARTO_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/trustml/quarto-offline}"
  log="$(mktemp)"
  if bash "$bundle/install.sh" "$prefix" >"$log" 2>&1 && [ -x "$prefix/bin/quarto" ]; then
    rm -f "$log"
    echo "$prefix/bin/quarto"
    exit 0
  fi
  tail -n 20 "$log" >&2
  echo "quarto: installing the offline bundle from $bundle into $prefix failed (log above)" >&2
  exit 1
fi

echo "Quarto not found: install Quarto >= 1.9.18 (https://quarto.org/docs/get-started/, \`pip install quarto-cli\`, or \`conda install -c conda-forge quarto\`), or set QUARTO=/path/to/quarto" >&2
exit 1
