-- HTML only: wrap each display formula, and each long inline one, in a span that the theme
-- (assets/trustml.scss) lets scroll sideways, so a wide formula never widens the page on a
-- phone. Short inline formulas stay as they are (a scrolling box would shift their baseline).
-- Runs after Quarto's cross-referencing (see _quarto.yml).
local LONG_INLINE = 40 -- characters of TeX
if not quarto.doc.is_format("html") then
  return {}
end

return {
  Math = function(m)
    if m.mathtype == "DisplayMath" then
      return pandoc.Span({ m }, { class = "display-math-scroll" })
    elseif #m.text > LONG_INLINE then
      return pandoc.Span({ m }, { class = "inline-math-scroll" })
    end
  end,
}
