-- Typst tables sized by their content (Typst only; see _quarto.yml).
--
-- A pipe table with a line longer than pandoc's 72 columns gets relative column widths from the
-- dashes of its separator line; ours are generated, so every column got the same share, and a
-- short column of numbers took as much room as a column of words, which then wrapped on every
-- row. With the widths left to Typst (`columns: N`, all `auto`), each column is as wide as its
-- content, and only when the table is wider than the page are the widest columns narrowed.
--
-- Nor does a table cell break at a word's own hyphen ("Fashion- / MNIST", "PGD- / AT"): in the
-- cells' text, a hyphen between letters or digits becomes a non-breaking one (U+2011). Code is
-- left alone, so a command copied from a table still runs.
if not (FORMAT:match("typst")) then
  return {}
end

local function no_break_hyphens(cell)
  return pandoc.walk_block(pandoc.Div(cell.contents), {
    Str = function(s)
      local text = s.text:gsub("([%w%)])%-([%w%(])", "%1\u{2011}%2")
      text = text:gsub("([%w%)])%-([%w%(])", "%1\u{2011}%2")  -- "a-b-c": the overlapping match
      return pandoc.Str(text)
    end,
  }).content
end

function Table(tbl)
  for i, colspec in ipairs(tbl.colspecs) do
    tbl.colspecs[i] = { colspec[1], pandoc.ColWidthDefault }
  end
  local function each_cell(rows)
    for _, row in ipairs(rows) do
      for _, cell in ipairs(row.cells) do
        cell.contents = no_break_hyphens(cell)
      end
    end
  end
  each_cell(tbl.head.rows)
  for _, body in ipairs(tbl.bodies) do
    each_cell(body.head)
    each_cell(body.body)
  end
  each_cell(tbl.foot.rows)
  return tbl
end
