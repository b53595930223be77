import pytest

from trustml.report.qmd import QmdSyntaxError, qmd_to_notebook

QMD = '''---
title: "T"
---

# Intro {#sec-intro}

Value: `{python} x + 1` and `{python} name`.

```{python}
#| label: fig-a
#| fig-cap: "A caption"
x = 1
```

```python
not_a_cell = True
```

````{python}
```
nested = "fence"
```
````

```{python echo=false}
y = 2
```
'''


def test_cells_options_and_inline_expressions():
    nb = qmd_to_notebook(QMD, "t.qmd")
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == ["raw", "markdown", "code", "markdown", "code", "code"]
    intro = nb.cells[1]
    assert intro.metadata["trustml"]["inline"] == ["x + 1", "name"]
    assert intro.metadata["trustml"]["line"] == 5
    fig = nb.cells[2]
    assert fig.metadata["trustml"]["options"] == {"label": "fig-a", "fig-cap": "A caption"}
    assert fig.source == "x = 1" and fig.metadata["trustml"]["line"] == 9
    assert "not_a_cell" in nb.cells[3].source  # a plain ```python fence is markdown
    assert nb.cells[4].source == '```\nnested = "fence"\n```'
    assert nb.cells[5].source == "y = 2"


def test_unclosed_cell_is_an_error():
    with pytest.raises(QmdSyntaxError, match="t.qmd:1: code cell is never closed"):
        qmd_to_notebook("```{python}\nx = 1\n", "t.qmd")


def test_bad_options_are_an_error():
    with pytest.raises(QmdSyntaxError, match="not valid YAML"):
        qmd_to_notebook("```{python}\n#| label: [\nx = 1\n```\n", "t.qmd")


def test_crlf_is_normalised():
    nb = qmd_to_notebook("Text\r\n\r\n```{python}\r\nx = 1\r\n```\r\n")
    assert nb.cells[1].source == "x = 1"
