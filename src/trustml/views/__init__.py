"""What each chapter shows: tables (`views.table.Table`, as Markdown) and figures from cached results.

A chapter cell calls one function from here; no plotting boilerplate lives in a `.qmd`.
"""
