-- No line break between a formula and the number written next to it, in HTML and Typst.
--
-- The chapters write a computed value after a formula that ends in a relation, e.g.
-- `$\beta_1=$ {python} value`: the formula and the number are two pieces with a space between,
-- and the line could break there ("β₁ = / 0.5", "K = / 1,000"). The same for a number and its
-- unit or a multiplication sign written in text ("93.8 / %", "28 × / 28 pixels"). Such a space
-- becomes a no-break space.

local RELATIONS = { "=", "\\le", "\\ge", "\\leq", "\\geq", "<", ">", "\\approx", "\\times",
                    "\\sim", "\\in", "\\ne", "\\propto" }

--- Whether the TeX `tex` begins (at_end false) or ends (at_end true) with a relation.
local function has_relation(tex, at_end)
  tex = tex:gsub("^%s+", ""):gsub("%s+$", "")
  for _, r in ipairs(RELATIONS) do
    if (at_end and tex:sub(-#r) or tex:sub(1, #r)) == r then
      return true
    end
  end
  return false
end

local function inline_math(el)
  return el and el.t == "Math" and el.mathtype == "InlineMath"
end

local function text(el)
  return (el and el.t == "Str") and el.text or nil
end

local function glued(prev, nxt)
  if inline_math(prev) and has_relation(prev.text, true) then
    return true
  end
  if inline_math(nxt) and has_relation(nxt.text, false) then
    return true
  end
  local a, b = text(prev), text(nxt)
  if b and b:match("^[=×≤≥≈]") and (a or inline_math(prev)) then
    return true
  end
  if a and a:match("[=×≤≥≈]$") and (b or inline_math(nxt)) then
    return true
  end
  if not a or not b then
    return false
  end
  return a:match("%d$") ~= nil and (b:match("^%%") or b:match("^min%f[%A]") or b:match("^s%f[%A]")
                                    or b:match("^pp%f[%A]")) ~= nil
end

function Inlines(inlines)
  for i = 2, #inlines - 1 do
    if inlines[i].t == "Space" and glued(inlines[i - 1], inlines[i + 1]) then
      inlines[i] = pandoc.Str("\u{00A0}")
    end
  end
  return inlines
end
