-- Typst tables sized by their content (Typst only; see _quarto.yml).
--
-- A pipe table with a line longer than pandoc's 72 columns gets relative column widths from the
-- dashes of its separator line; `views.table.Table` writes each column's dashes as its longest
-- cell (a header counts by its longest word). Left to Typst (`columns: N`, all `auto`), a table
-- wider than the page has every wide column narrowed to the same share, so a column of names
-- wrapped on every row while a column of numbers kept room to spare. So those widths are kept
-- (the dashes already count each cell's inset and its characters' set widths).
-- A table that fits in 72 columns has no widths: Typst sizes its columns to their content.
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
  local sized = true
  for _, colspec in ipairs(tbl.colspecs) do
    if type(colspec[2]) ~= "number" or colspec[2] <= 0 then
      sized = false
    end
  end
  for i, colspec in ipairs(tbl.colspecs) do
    tbl.colspecs[i] = { colspec[1], sized and colspec[2] or pandoc.ColWidthDefault }
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
