"""The Quarto-less build on a tiny project made in a temporary folder."""

import re
import textwrap
from pathlib import Path

import pytest

from trustml.report.build import build_pdf, execute_all
from trustml.report.execute import ChapterExecutionError
from trustml.report.markdown import ChapterWriter
from trustml.report.project import load_project

QUARTO_YML = """\
project:
  type: book
  execute-dir: project
book:
  title: "Tiny"
  output-file: tiny
  chapters:
    - index.qmd
    - chapters/one.qmd
execute:
  echo: false
"""

INDEX = "# Preface {.unnumbered}\n\nSee @sec-one and @fig-line.\n"

ONE = '''\
# One {#sec-one}

```{python}
import os
import pandas as pd
from matplotlib.figure import Figure
budget = os.environ.get("TRUSTML_BUDGET", "unset")
word = "plain"
```

The budget is `{python} budget`, the word is `{python} word`, two is `{python} 1 + 1`.

$$ a^2 + b^2 = c^2 $$ {#eq-pyth}

@eq-pyth is Pythagoras; @tbl-t and @fig-line are below.

```{python}
#| label: tbl-t
#| tbl-cap: "A table."
pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).style.hide(axis="index")
```

```{python}
#| label: fig-line
#| fig-cap: "A line."
fig = Figure(figsize=(3, 2))
fig.subplots().plot([0, 1], [0, 1])
fig
```

::: {.callout-note}
## Note
A callout.
:::
'''


def make_project(root: Path, one: str = ONE, index: str = INDEX, profile_env: bool = True) -> Path:
    (root / "chapters").mkdir(parents=True)
    (root / "_quarto.yml").write_text(QUARTO_YML)
    (root / "index.qmd").write_text(index)
    (root / "chapters" / "one.qmd").write_text(one)
    if profile_env:
        (root / "_environment-smoke").write_text("TRUSTML_BUDGET=smoke\n")
    return root


@pytest.fixture
def no_budget_env(monkeypatch):
    monkeypatch.delenv("TRUSTML_BUDGET", raising=False)


def test_execute_markdown_and_pdf(tmp_path, no_budget_env):
    project = load_project(make_project(tmp_path / "p"), profile="smoke")
    executed = execute_all(project, log=lambda m: None)
    nb = executed[project.chapters[1]]
    md = ChapterWriter("one", tmp_path / "figs", "figs/", project.execute_options).convert(nb)
    assert "The budget is smoke, the word is plain, two is 2." in md
    assert ": A table. {#tbl-t}" in md and re.search(r"\|\s*a\s*\|\s*b\s*\|", md)
    assert "![A line.](figs/one-1.png){#fig-line}" in md
    assert (tmp_path / "figs" / "one-1.png").read_bytes()[:4] == b"\x89PNG"
    assert "import pandas" not in md  # echo: false
    pdf = build_pdf(project, executed)
    assert pdf == project.root / "_book" / "tiny.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    typ = (project.root / "_book" / ".pdf-build" / "book.typ").read_text()
    for ref in ("@sec-one", "@fig-line", "@tbl-t", "@eq-pyth"):
        assert ref in typ
    assert "<eq-pyth>" in typ and "#cite" not in typ


def test_cell_error_fails_with_chapter_line_and_traceback(tmp_path):
    bad = "# One {#sec-one}\n\nText.\n\n```{python}\nx = 1\n```\n\n```{python}\n1 / 0\n```\n"
    project = load_project(make_project(tmp_path / "p", one=bad, index="# P\n"))
    with pytest.raises(ChapterExecutionError) as info:
        execute_all(project, log=lambda m: None)
    message = str(info.value)
    assert "chapters/one.qmd" in message and "line 9" in message
    assert "ZeroDivisionError" in message and "1 / 0" in message


def test_inline_expression_error_names_the_paragraph(tmp_path):
    bad = "# One\n\nValue `{python} undefined_name`.\n"
    project = load_project(make_project(tmp_path / "p", one=bad, index="# P\n"))
    with pytest.raises(ChapterExecutionError, match="inline expression at line 3"):
        execute_all(project, log=lambda m: None)


def test_unresolved_reference_is_an_error(tmp_path):
    from trustml.report.build import PdfBuildError

    index = "# Preface {.unnumbered}\n\nSee @fig-missing.\n"
    one = textwrap.dedent("# One {#sec-one}\n\nText.\n")
    project = load_project(make_project(tmp_path / "p", one=one, index=index))
    executed = execute_all(project, log=lambda m: None)
    with pytest.raises(PdfBuildError, match="fig-missing"):
        build_pdf(project, executed)


def test_cell_options_echo_include_output_warning(tmp_path):
    one = '''\
# One

```{python}
#| echo: true
shown = 1
print("visible output")
```

```{python}
#| include: false
print("never shown")
```

```{python}
#| output: false
print("output hidden")
```

```{python}
#| warning: false
import warnings
warnings.warn("quiet please")
print("after warning")
```
'''
    project = load_project(make_project(tmp_path / "p", one=one, index="# P\n"))
    nb = execute_all(project, log=lambda m: None)[project.chapters[1]]
    md = ChapterWriter("one", tmp_path / "f", "f/", project.execute_options).convert(nb)
    assert "```python\n#| echo" not in md and "shown = 1" in md  # echoed without option lines
    assert "visible output" in md and "after warning" in md
    assert "never shown" not in md and "output hidden" not in md and "quiet please" not in md
