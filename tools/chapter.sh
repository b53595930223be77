#!/usr/bin/env bash
# `make chapter CH=name`: renders chapters/name.qmd alone, to HTML only (no PDF, no other
# chapter), into _book/chapters/name.html. Its cells run (results are loaded from the cache).
# When the chapter's text is what its _freeze entry was made from, that entry is put back as it
# was (Quarto would rewrite it with new cell ids); after an edit, Quarto's new entry stays.
# Extra arguments go to `quarto render`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
ch="${1:-}"
if [ -z "$ch" ]; then
  echo "make chapter: name the chapter, e.g. make chapter CH=ex4-membership" >&2
  exit 2
fi
shift
src="chapters/$ch.qmd"
if [ ! -f "$src" ]; then
  echo "make chapter: no $src (chapters: $(cd chapters && ls ./*.qmd | sed 's|^\./||; s/\.qmd$//' | tr '\n' ' '))" >&2
  exit 2
fi
quarto="$(tools/quarto.sh)"
export QUARTO_PYTHON="${QUARTO_PYTHON:-$root/.venv/bin/python}"
export PATH="$(dirname "$QUARTO_PYTHON"):$PATH"
freeze="_freeze/chapters/$ch"
keep="$(mktemp -d)"
trap 'rm -rf "$keep"' EXIT
fresh=0
if [ -f "$freeze/execute-results/html.json" ] && python3 - "$src" "$freeze/execute-results/html.json" <<'PY'
import hashlib, json, sys
text = open(sys.argv[1], encoding="utf-8").read().replace("\r\n", "\n")
sys.exit(hashlib.md5(text.encode()).hexdigest() != json.load(open(sys.argv[2]))["hash"])
PY
then
  fresh=1
  cp -a "$freeze" "$keep/entry"
fi
status=0
"$quarto" render "$src" --to html "$@" || status=$?
if [ "$fresh" = 1 ]; then
  rm -rf "$freeze"
  cp -a "$keep/entry" "$freeze"
fi
rm -f "chapters/$ch.quarto_ipynb"
rm -rf "chapters/${ch}_files"
if [ "$status" != 0 ]; then
  echo "make chapter: quarto render failed (its messages are above)" >&2
  exit 1
fi
echo "$root/_book/chapters/$ch.html"
