"""Build the Quarto book without Quarto: execute chapters (nbclient) and make the PDF (Typst)."""
