-- Typst tables sized by their content (Typst only; see _quarto.yml).
--
-- A pipe table with a line longer than pandoc's 72 columns gets relative column widths from the
-- dashes of its separator line; ours are generated, so every column got the same share, and a
-- short column of numbers took as much room as a column of words, which then wrapped on every
-- row. With the widths left to Typst (`columns: N`, all `auto`), each column is as wide as its
-- content, and only when the table is wider than the page are the widest columns narrowed.
if not (FORMAT:match("typst")) then
  return {}
end

function Table(tbl)
  for i, colspec in ipairs(tbl.colspecs) do
    tbl.colspecs[i] = { colspec[1], pandoc.ColWidthDefault }
  end
  return tbl
end
