#!/usr/bin/env bash
# Renders the whole book at the smoke budget with real Quarto (HTML and Typst PDF) into OUTDIR
# (default: _book-smoke/), without touching the repository.
#
# A render with the smoke profile (`freeze: false`) deletes the chapters' `_freeze` entries, so it
# runs on a temporary copy of the book's sources. The results cache is $TRUSTML_CACHE when set,
# else the repository's results/ (the smoke budget writes only results/smoke/, which git ignores).
# Fails on a cell error (Quarto stops), on an unresolved cross-reference, or without a PDF.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/_book-smoke}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
quarto="$("$root/tools/quarto.sh")"
export QUARTO_PYTHON="${QUARTO_PYTHON:-$root/.venv/bin/python}"
export TRUSTML_CACHE="${TRUSTML_CACHE:-$root/results}"
export PATH="$(dirname "$QUARTO_PYTHON"):$PATH"

work="$(mktemp -d "${TMPDIR:-/tmp}/trustml-smoke.XXXXXX")"
child=""
cleanup() {  # on any exit, signals included: stop Quarto, then remove the temporary copy
  if [ -n "$child" ]; then kill "$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
# What the book is made of (keep in step with _quarto.yml); never _freeze, results or outputs.
for item in _quarto.yml _quarto-smoke.yml _environment-smoke index.qmd references.qmd \
            references.bib chapters assets; do
  cp -R "$root/$item" "$work/"
done
rm -rf "$work"/chapters/*_files
mkdir -p "$work/tools" && cp "$root/tools/pre_render.py" "$work/tools/"  # _quarto.yml's pre-render

log="$work/render.log"
# In the background, so that a signal is handled at once (bash runs a trap only between commands).
(cd "$work" && exec "$quarto" render --profile smoke) >"$log" 2>&1 &
child=$!
if ! wait "$child"; then
  child=""
  tail -n 40 "$log" >&2
  echo "render-smoke: quarto render --profile smoke failed (the end of its log is above)" >&2
  exit 1
fi
child=""
if grep -n "Unable to resolve crossref" "$log" >&2; then
  echo "render-smoke: unresolved cross-references (listed above)" >&2
  exit 1
fi
book="$work/_book-smoke"
if grep -rl --include='*.html' '?@' "$book" >&2; then
  echo "render-smoke: these pages show an unresolved reference (?@...)" >&2
  exit 1
fi
if [ ! -s "$book/trustml.pdf" ]; then
  echo "render-smoke: Quarto wrote no PDF ($book/trustml.pdf)" >&2
  exit 1
fi
cp "$log" "$book/render.log"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$book" "$out"
echo "$out/trustml.pdf"
