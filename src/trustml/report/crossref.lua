-- Pandoc Lua filter: the Quarto features trustml's chapters use, for the Typst writer.
--  * @fig-x / @tbl-x / @eq-x / @sec-x citations become Typst references (@fig-x),
--    which Typst numbers and resolves (an unknown label is a Typst error).
--  * `$$ ... $$ {#eq-x}` becomes the display equation followed by the Typst label <eq-x>.
--  * ::: {.callout-note|tip|warning|important|caution} divs become shaded Typst blocks.

local CROSSREF = { fig = true, tbl = true, eq = true, sec = true }

local function is_crossref(id)
  local prefix = id:match("^(%a+)%-")
  return prefix ~= nil and CROSSREF[prefix] == true
end

function Cite(cite)
  for _, c in ipairs(cite.citations) do
    if not is_crossref(c.id) then
      return nil
    end
  end
  local refs = {}
  for _, c in ipairs(cite.citations) do
    table.insert(refs, "@" .. c.id)
  end
  return pandoc.RawInline("typst", table.concat(refs, ", "))
end

function Inlines(inlines)
  local out = pandoc.List()
  local i = 1
  while i <= #inlines do
    local el = inlines[i]
    local nxt, nxt2 = inlines[i + 1], inlines[i + 2]
    if el.t == "Math" and el.mathtype == "DisplayMath" then
      local label_el, skip = nil, 0
      if nxt and nxt.t == "Str" and nxt.text:match("^{#eq%-[%w%-_]+}$") then
        label_el, skip = nxt, 1
      elseif nxt and (nxt.t == "Space" or nxt.t == "SoftBreak") and nxt2 and nxt2.t == "Str"
          and nxt2.text:match("^{#eq%-[%w%-_]+}$") then
        label_el, skip = nxt2, 2
      end
      out:insert(el)
      if label_el then
        local id = label_el.text:match("^{#(eq%-[%w%-_]+)}$")
        out:insert(pandoc.RawInline("typst", " <" .. id .. ">"))
      end
      i = i + 1 + skip
    else
      out:insert(el)
      i = i + 1
    end
  end
  return out
end

-- Typst has no \| delimiter pair: write norms as \lVert ... \rVert (alternating, so norms
-- must not nest), dropping \big/\Big sizing, which becomes literal text in Typst.
function Math(m)
  local text = m.text:gsub("\\[Bb]ig[gl]?%s*\\|", "\\|")
  local open = true
  text = text:gsub("\\|", function()
    local r = open and "\\lVert " or "\\rVert "
    open = not open
    return r
  end)
  m.text = text
  return m
end

local CALLOUT_COLOURS = {
  note = "rgb(\"#e7f0fa\")", tip = "rgb(\"#e8f5e9\")", warning = "rgb(\"#fff4e5\")",
  important = "rgb(\"#fdecea\")", caution = "rgb(\"#fff8e1\")",
}

function Div(div)
  for _, class in ipairs(div.classes) do
    local kind = class:match("^callout%-(%a+)$")
    if kind then
      local fill = CALLOUT_COLOURS[kind] or CALLOUT_COLOURS.note
      local title = div.attributes["title"]
      local content = pandoc.List(div.content)
      if not title and #content > 0 and content[1].t == "Header" then
        title = pandoc.utils.stringify(content[1].content)
        content:remove(1)
      end
      local blocks = pandoc.List()
      blocks:insert(pandoc.RawBlock("typst",
        "#block(fill: " .. fill .. ", inset: 10pt, radius: 4pt, width: 100%)["))
      if title then
        blocks:insert(pandoc.Para({ pandoc.Strong(pandoc.Str(title)) }))
      end
      blocks:extend(content)
      blocks:insert(pandoc.RawBlock("typst", "]"))
      return blocks
    end
  end
  return nil
end
