"""What each chapter shows: tables (`trustml.views.table.Table`, shown as Markdown) and figures built from cached results.

A chapter cell calls one function from here; no plotting boilerplate lives in a `.qmd`.
"""
