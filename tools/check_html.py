"""Checks the rendered HTML book in headless Chromium, with the network off.

    python tools/check_html.py [BOOK_DIR]      # default: _book

The pages are served from a local web server (as `quarto preview` or any web host serves them).
For every page of the book, at a desktop (1280 px) and a phone (390 px) window width:
- no request leaves the machine (every request elsewhere is blocked and reported);
- no JavaScript error (e.g. "define is not defined" when RequireJS fails to load);
- every formula is rendered: no TeX left in the visible text, and every MathML formula has a
  rendered box; no display formula is cut at the edge of its box;
- nothing is wider than the window (`scrollWidth` of the page ≤ the window width), and no table
  hides columns behind a sideways scroll;
- the text inside every figure is at least 9 CSS px: each PNG records its smallest font in points
  (`trustml:min-font-pt`, written by `trustml.views.legibility`) and its resolution, so the
  rendered size is that font × dpi / 72 × (shown width / pixel width);
- on the phone: the PDF link is visible in the top bar and the opened sidebar fits the screen.
Once, on the first page opened from disk (`file://`): whether the search works there (Chromium
refuses Quarto's scripts from `file://`); that is reported as a note, not a failure (the README
says to serve the book, e.g. `python -m http.server -d _book`).

Needs Chromium (Debian: `apt-get install chromium`) and the `playwright` Python package
(`pip install playwright`; it drives the system's Chromium, no browser download). Exits 1 and
lists every problem when a check fails.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import threading
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
  const name = el => el.id ? '#' + el.id
    : (el.closest('[id]') ? 'in #' + el.closest('[id]').id : el.tagName);
  const scrolls = el => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(el).overflowX);
  const hidden_columns = [];
  for (const table of document.querySelectorAll('main table')) {
    let box = table.parentElement;
    while (box && box !== document.body && !scrolls(box)) box = box.parentElement;
    if (!box || box === document.body) continue;
    const right = box.getBoundingClientRect().right;
    if (table.getBoundingClientRect().right > right + 1) hidden_columns.push(name(table));
  }
  const cut_math = [];
  for (const box of document.querySelectorAll('.display-math-scroll')) {
    if (box.scrollWidth > box.clientWidth + 1) cut_math.push(name(box));
  }
  const figures = [];
  for (const img of document.querySelectorAll('main img')) {
    const r = img.getBoundingClientRect();
    if (img.naturalWidth > 0 && r.width > 0)
      figures.push({src: img.currentSrc || img.src, shown: r.width, natural: img.naturalWidth});
  }
  const pdf = document.querySelector('.trustml-pdf-link');
  const pdf_box = pdf ? pdf.getBoundingClientRect() : null;
  return {scrollWidth: Math.max(doc.scrollWidth, document.body.scrollWidth),
          innerWidth: window.innerWidth, maths: maths.length, unrendered, raw: raw.slice(0, 5),
          wide: wide.slice(0, 5), hidden_columns, cut_math, figures,
          pdf_visible: !!pdf_box && pdf_box.width > 0 && pdf_box.height >= 20 &&
                       pdf_box.right <= window.innerWidth && pdf_box.top >= 0};
}"""

MIN_FIGURE_TEXT_PX = 9.0


def png_facts(png: bytes) -> tuple[float | None, float | None]:
    """The smallest font (points; infinite for "none", a figure without text) and the resolution
    (dpi) that `trustml.views.legibility` recorded in a PNG; None for what it does not record."""
    from trustml.views.legibility import MIN_FONT_KEY, png_dpi, png_text

    recorded = png_text(png).get(MIN_FONT_KEY)
    font = None if recorded is None else float("inf") if recorded == "none" else float(recorded)
    return font, png_dpi(png)


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


def figure_problems(book: Path, base: str, figures: list[dict]) -> list[str]:
    """Figures whose smallest text is under MIN_FIGURE_TEXT_PX as shown, or unmeasurable."""
    problems = []
    for fig in figures:
        src = fig["src"]
        if not src.startswith(base) or not src.lower().endswith(".png"):
            continue
        rel = src[len(base):].split("?")[0]
        font, dpi = png_facts((book / rel).read_bytes())
        if font is None or dpi is None:
            problems.append(f"figure {rel} records no font size or resolution (not drawn through "
                            "trustml.views.legibility)")
            continue
        px = font * dpi / 72 * fig["shown"] / fig["natural"]
        if px < MIN_FIGURE_TEXT_PX - 0.05:
            problems.append(f"figure {rel}: its smallest text is {px:.1f} CSS px as shown "
                            f"({fig['shown']:.0f} of {fig['natural']} px; {font:.1f} pt at {dpi:.0f} dpi)")
    return problems


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no access log on the terminal
        pass


class _Server:
    """The book served over HTTP on 127.0.0.1 from a background thread."""

    def __init__(self, root: Path):
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def file_search_note(browser, page_path: Path) -> str | None:
    """Opens one page from disk and tries the search; a note when it fails there."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_path.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(500)
    works = page.evaluate("() => typeof window.quartoOpenSearch === 'function' && "
                          "!!document.querySelector('#quarto-search .aa-Autocomplete')")
    context.close()
    if works and not errors:
        return None
    reason = next((e for e in errors if "CORS" in e or "file:" in e), errors[0] if errors else "")
    return ("opened from disk (file://), the search does not work: Chromium refuses Quarto's "
            f"scripts there ({reason[:120]}); serve the book instead, e.g. "
            "`python -m http.server -d _book`")


def check_book(book: Path) -> list[PageReport]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SystemExit("check_html: needs playwright; run `.venv/bin/pip install playwright`") from None
    pages = sorted(p for p in book.rglob("*.html") if "site_libs" not in p.parts)
    if not pages:
        raise SystemExit(f"check_html: no HTML pages under {book}; run `make report` first")
    reports: list[PageReport] = []
    with sync_playwright() as pw, _Server(book) as server:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        note = file_search_note(browser, pages[0])
        if note:
            print(f"note: {note}")
        for label, (width, height) in WIDTHS.items():
            context = browser.new_context(viewport={"width": width, "height": height})
            for path in pages:
                report = PageReport(path.relative_to(book).as_posix(), label)
                page = context.new_page()
                blocked: list[str] = []
                errors: list[str] = []

                def route(r, blocked=blocked):
                    if r.request.url.startswith(server.base):
                        r.continue_()
                    else:
                        blocked.append(r.request.url)
                        r.abort()

                page.route("**/*", route)
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.goto(server.base + report.page, wait_until="load")
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
                report.problems += [f"table {t} hides columns behind a sideways scroll"
                                    for t in m["hidden_columns"]]
                report.problems += [f"display formula {t} is cut at the edge" for t in m["cut_math"]]
                report.problems += figure_problems(book, server.base, m["figures"])
                if label == "phone":
                    report.problems += phone_problems(page, m)
                reports.append(report)
                page.close()
            context.close()
        browser.close()
    return reports


def phone_problems(page, measured: dict) -> list[str]:
    """The PDF link in the top bar; the sidebar, once opened, inside the screen."""
    problems = []
    if not measured["pdf_visible"]:
        problems.append("no visible PDF link in the top bar")
    toggle = page.query_selector(".quarto-secondary-nav .quarto-btn-toggle")
    if toggle and toggle.is_visible():
        toggle.click()
        page.wait_for_timeout(500)
        width = page.evaluate("() => document.querySelector('#quarto-sidebar')"
                              ".getBoundingClientRect().width")
        if width > 0.9 * measured["innerWidth"]:
            problems.append(f"the opened sidebar is {width:.0f} px wide in a "
                            f"{measured['innerWidth']} px window")
    return problems


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
