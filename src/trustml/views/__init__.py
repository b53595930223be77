"""What each chapter shows: tables (pandas Stylers) and figures built from cached results.

A chapter cell calls one function from here; no plotting boilerplate lives in a `.qmd`.
"""
