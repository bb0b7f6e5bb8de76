package scenarios

// EditDistance is the Levenshtein distance between a and b, in runes: the
// measure behind "did you mean" for keys, and for mistyped device names.
func EditDistance(a, b string) int { return levenshtein(a, b) }
