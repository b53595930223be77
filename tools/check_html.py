"""Checks the rendered HTML book in headless Chromium, with the network off.

    python tools/check_html.py [BOOK_DIR]      # default: _book

For every page of the book, at a desktop (1280 px) and a phone (390 px) window width:
- no request leaves the machine (every non-file request is blocked and reported);
- no JavaScript error (e.g. "define is not defined" when RequireJS fails to load);
- every formula is rendered: no TeX left in the visible text, and every MathML formula has a
  rendered box;
- nothing is wider than the window (`scrollWidth` of the page ≤ the window width).

Needs Chromium (Debian: `apt-get install chromium`) and the `playwright` Python package
(`pip install playwright`; it drives the system's Chromium, no browser download). Exits 1 and
lists every problem when a check fails.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}

MEASURE = """() => {
  const doc = document.documentElement;
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const t = walker.currentNode.textContent;
    const el = walker.currentNode.parentElement;
    if (el && el.closest('pre, code, script, style, .sourceCode, annotation')) continue;
    if (/\\\\\\(|\\\\\\[|\\$\\$|\\\\frac|\\\\mathbb|\\\\sum/.test(t)) raw.push(t.trim().slice(0, 60));
  }
  const maths = Array.from(document.querySelectorAll('math'));
  const unrendered = maths.filter(m => m.getBoundingClientRect().width === 0 &&
                                       !m.closest('[hidden], .hidden, details:not([open])')).length;
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > window.innerWidth + 1 && r.width > 0) {
      let p = el.parentElement, clipped = false;
      while (p) {
        const s = getComputedStyle(p);
        if (['auto', 'scroll', 'hidden', 'clip'].includes(s.overflowX)) { clipped = true; break; }
        p = p.parentElement;
      }
      const cls = typeof el.className === 'string' && el.className ? '.' + el.className.split(' ')[0] : '';
      if (!clipped) wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls);
    }
  }
  return {scrollWidth: Math.max(doc.scrollWidth, document.body.scrollWidth),
          innerWidth: window.innerWidth, maths: maths.length, unrendered, raw: raw.slice(0, 5),
          wide: wide.slice(0, 5)};
}"""


@dataclass
class PageReport:
    page: str
    width: str
    problems: list[str] = field(default_factory=list)
    maths: int = 0
    scroll_width: int = 0


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("check_html: no Chromium found; install it (Debian: apt-get install chromium)")


def check_book(book: Path) -> list[PageReport]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SystemExit("check_html: needs playwright; run `.venv/bin/pip install playwright`") from None
    pages = sorted(p for p in book.rglob("*.html") if "site_libs" not in p.parts)
    if not pages:
        raise SystemExit(f"check_html: no HTML pages under {book}; run `make report` first")
    reports: list[PageReport] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        for label, (width, height) in WIDTHS.items():
            context = browser.new_context(viewport={"width": width, "height": height})
            for path in pages:
                report = PageReport(path.relative_to(book).as_posix(), label)
                page = context.new_page()
                blocked: list[str] = []
                errors: list[str] = []

                def route(r, blocked=blocked):
                    if r.request.url.startswith("file:"):
                        r.continue_()
                    else:
                        blocked.append(r.request.url)
                        r.abort()

                page.route("**/*", route)
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.goto(path.resolve().as_uri(), wait_until="load")
                page.wait_for_timeout(300)
                m = page.evaluate(MEASURE)
                report.maths, report.scroll_width = m["maths"], m["scrollWidth"]
                report.problems += [f"network request blocked: {u}" for u in blocked]
                report.problems += [f"JavaScript error: {e}" for e in errors]
                if m["unrendered"]:
                    report.problems.append(f"{m['unrendered']} of {m['maths']} formulas not rendered")
                report.problems += [f"raw TeX in the text: {t!r}" for t in m["raw"]]
                if m["scrollWidth"] > m["innerWidth"]:
                    report.problems.append(
                        f"page is {m['scrollWidth']} px wide in a {m['innerWidth']} px window "
                        f"(overflowing: {', '.join(m['wide']) or 'unknown'})")
                reports.append(report)
                page.close()
            context.close()
        browser.close()
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book", nargs="?", default="_book", type=Path)
    args = parser.parse_args(argv)
    reports = check_book(args.book)
    bad = [r for r in reports if r.problems]
    for r in reports:
        status = "ok  " if not r.problems else "FAIL"
        print(f"{status} {r.width:7} {r.page:40} {r.maths:4d} formulas, {r.scroll_width} px wide")
        for problem in r.problems:
            print(f"       - {problem}")
    pages = len({r.page for r in reports})
    print(f"{pages} pages × {len(WIDTHS)} widths checked offline: {len(bad)} with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
