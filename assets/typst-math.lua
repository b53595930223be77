-- Typst math that sets like the TeX it comes from (pandoc 3.9's Typst writer, the pandoc of the
-- offline Quarto 1.10.18; the HTML is untouched, since this filter is listed for Typst only).
--
-- What the writer gets wrong, and what this filter writes instead:
--   \|x\|_2, \left\|x\right\|_2  -> `parallel x parallel_2` or `∥x∥_2`: Typst takes ∥ for the
--                                   relation "parallel to" and sets the _2 as a limit under it;
--                                   written as \lVert x\rVert_2 -> `lr(‖ x ‖)_2`.
--   |x|, \lvert x\rvert           -> `\| x \|`, loose bars; written as \left|x\right| -> `lr(|x|)`.
--   \operatorname{sign}(w)        -> `"sign" \( w \)`, text with a gap before the bracket;
--                                   written as `op("sign")`, which Typst spaces as an operator.
--   7{,}850                       -> `7 \, 850`, a comma with the space of a list; written `7","850`.
-- A divergence's bar, q\,\|\,p, stays one bar (`parallel`, with no attachment). Absolute values
-- are paired in order, and only where the bars of one formula pair up.

if not (FORMAT:match("typst")) then
  return {}
end

--- Replaces each occurrence of the plain-text `token` in `text`, in order, alternately by
--- `open` and `close`; returns the text unchanged when the occurrences do not pair up.
local function pair_up(text, token, open, close)
  local count = select(2, text:gsub(token:gsub("%p", "%%%0"), ""))
  if count == 0 or count % 2 == 1 then
    return text
  end
  local out, i, n = {}, 1, 0
  while true do
    local s, e = text:find(token, i, true)
    if not s then
      break
    end
    n = n + 1
    out[#out + 1] = text:sub(i, s - 1)
    out[#out + 1] = (n % 2 == 1) and open or close
    i = e + 1
  end
  out[#out + 1] = text:sub(i)
  return table.concat(out)
end

--- The TeX of one formula, rewritten so that pandoc's Typst writer sets it right.
local function fix_tex(tex)
  -- A divergence's bar between thin spaces is not a norm.
  tex = tex:gsub("\\,\\|\\,", "\\,\\parallel\\,")
  -- Norms: sized or not, \lVert ... \rVert (Typst's lr() sizes the bars itself).
  tex = tex:gsub("\\left\\lVert", "\\lVert"):gsub("\\right\\rVert", "\\rVert")
  tex = tex:gsub("\\left\\|", "\\lVert"):gsub("\\right\\|", "\\rVert")
  tex = tex:gsub("\\[bB]ig+[lr]?\\|", "\\|")
  -- Sized brackets: pandoc spaces them out; Typst's own bracket sizing is enough.
  tex = tex:gsub("\\[bB]ig+[lr]?([%(%)%[%]])", "%1")
  tex = pair_up(tex, "\\|", "\\lVert ", "\\rVert ")
  -- Absolute values: \lvert/\rvert and bare bars, as \left| ... \right|.
  tex = tex:gsub("\\lvert", "\\left|"):gsub("\\rvert", "\\right|")
  local protected = tex:gsub("\\left|", "\1"):gsub("\\right|", "\2"):gsub("\\|", "\3")
  protected = pair_up(protected, "|", "\1", "\2")
  tex = protected:gsub("\1", "\\left|"):gsub("\2", "\\right|"):gsub("\3", "\\|")
  -- Thousands separators.
  tex = tex:gsub("(%d){,}(%d%d%d)", "%1\\text{,}%2")
  return tex
end

--- Typst's lr() sizes a norm's bars to everything inside, a subscript's depth included, and then
--- hangs the norm's own subscript below that: ‖z_j‖_2 had tall bars and a dropped 2. Plain ‖
--- characters set it like TeX; only a norm around a large operator or a fraction keeps lr().
--- Each bar gets its class, as \lVert and \rVert have theirs in TeX: a bare ‖ is a fence, and
--- Typst set a space between it and what came before (`r/ ‖r‖_2`, `λ ‖w‖_1`).
local function plain_norms(typ)
  local open = "lr(bar.v.double "
  local out, i = {}, 1
  while true do
    local s = typ:find(open, i, true)
    if not s then
      break
    end
    -- the matching ")" of "lr(", skipping the writer's escaped brackets \( and \)
    local depth, j = 1, s + 3
    while j <= #typ and depth > 0 do
      local c = typ:sub(j, j)
      if c == "\\" then
        j = j + 1
      elseif c == "(" then
        depth = depth + 1
      elseif c == ")" then
        depth = depth - 1
      end
      j = j + 1
    end
    local inner = typ:sub(s + #open, j - 2)
    local body = inner:match("^(.-) bar%.v%.double$")
    if depth == 0 and body and not body:find("sum") and not body:find("prod")
        and not body:find("integral") and not body:find("frac") and not body:find("lr%(") then
      out[#out + 1] = typ:sub(i, s - 1) .. 'class("opening", ‖) ' .. body .. ' class("closing", ‖)'
    else
      out[#out + 1] = typ:sub(i, j - 1)
    end
    i = j
  end
  out[#out + 1] = typ:sub(i)
  return table.concat(out)
end

--- The Typst pandoc writes for one formula (without the surrounding `$`).
local function write_typst(math)
  local typ = pandoc.write(pandoc.Pandoc({ pandoc.Plain({ math }) }), "typst")
  return (typ:gsub("%s+$", ""))
end

function Math(el)
  local tex = fix_tex(el.text)
  local operators = {}
  for name in tex:gmatch("\\operatorname%*?{([^}]*)}") do
    operators[#operators + 1] = name
  end
  local thousands = tex:find("%d\\text{,}%d") ~= nil
  local norms = tex:find("\\lVert") ~= nil
  local math = pandoc.Math(el.mathtype, tex)
  if #operators == 0 and not thousands and not norms then
    return math
  end
  local typ = plain_norms(write_typst(math))
  for _, name in ipairs(operators) do
    local quoted = '"' .. name:gsub("\\,", " ") .. '"'
    typ = typ:gsub(quoted:gsub("%p", "%%%0"), 'op(' .. quoted:gsub("%%", "%%%%") .. ')')
  end
  typ = typ:gsub('(%d) upright%(","%) (%d)', '%1","%2')
  return pandoc.RawInline("typst", typ)
end
