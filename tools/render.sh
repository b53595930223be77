#!/usr/bin/env bash
# `make report`: renders the book with Quarto (full profile: HTML and Typst PDF into _book/),
# reusing _freeze/ and the results cache, and prints the PDF's path. Extra arguments go to
# `quarto render`. A failed render leaves no intermediate file in the repository.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
quarto="$("$root/tools/quarto.sh")"
export QUARTO_PYTHON="${QUARTO_PYTHON:-$root/.venv/bin/python}"
export PATH="$(dirname "$QUARTO_PYTHON"):$PATH"
cd "$root"
cleanup() {  # what Quarto leaves behind when Typst or a cell fails
  rm -f index.typ trustml.typ ./*.quarto_ipynb chapters/*.quarto_ipynb
  rm -rf ./*_files chapters/*_files
}
if ! "$quarto" render "$@"; then
  cleanup
  echo "make report: quarto render failed (its messages are above)" >&2
  exit 1
fi
if [ -f index.typ ]; then  # the PDF's Typst source (keep-typ), beside the PDF
  mv -f index.typ _book/trustml.typ
fi
if [ ! -s _book/trustml.pdf ]; then
  echo "make report: quarto render wrote no PDF (_book/trustml.pdf)" >&2
  exit 1
fi
echo "$root/_book/trustml.pdf"
