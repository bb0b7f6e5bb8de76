package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// String writes the position as "file:line:col", leaving out the parts
// that are unknown (zero).
func (p Pos) String() string {
	s := p.File
	if p.Line > 0 {
		s += ":" + strconv.Itoa(p.Line)
		if p.Column > 0 {
			s += ":" + strconv.Itoa(p.Column)
		}
	}
	return s
}

// Problem is one thing wrong with a scenario.
type Problem struct {
	Pos Pos
	Msg string
}

// String writes the problem as "file:line:col: message".
func (p Problem) String() string {
	if s := p.Pos.String(); s != "" {
		return s + ": " + p.Msg
	}
	return p.Msg
}

// ValidationError is every problem found in a scenario, in file order.
// Commands map it to exit code 2: the scenario, not the system, is wrong.
type ValidationError struct {
	Problems []Problem
}

// MaxShownProblems is how many problems Error writes before it sums up the
// rest: a file of garbage must not bury the terminal.
const MaxShownProblems = 50

// Error writes one problem per line, the first MaxShownProblems of them,
// then "and N more".
func (e *ValidationError) Error() string {
	shown := e.Problems[:min(len(e.Problems), MaxShownProblems)]
	lines := make([]string, len(shown), len(shown)+1)
	for i, p := range shown {
		lines[i] = p.String()
	}
	if n := len(e.Problems) - len(shown); n > 0 {
		lines = append(lines, fmt.Sprintf("and %d more", n))
	}
	return strings.Join(lines, "\n")
}

// sortProblems puts problems in file order and drops exact repeats, which
// arise when a value in defaults: fails the same check for several phases.
func sortProblems(ps []Problem) []Problem {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Column, b.Pos.Column))
	})
	return slices.Compact(ps)
}

// suggest returns the candidate the user most likely meant by got: the
// same word in another case, a known synonym (fio's option names, mostly),
// or the nearest candidate by edit distance when it is near enough.
func suggest(got string, candidates []string, synonyms map[string]string) (string, bool) {
	low := strings.ToLower(got)
	for _, c := range candidates {
		if strings.ToLower(c) == low {
			return c, true
		}
	}
	if s, ok := synonyms[low]; ok && slices.Contains(candidates, s) {
		return s, true
	}
	best, bestD := "", -1
	if len(got) > 64 {
		return "", false // no key is that long; spare the quadratic distance
	}
	for _, c := range candidates {
		d := levenshtein(low, strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	// A third of the word may be wrong: "duraton" finds "duration", but
	// "qd" is not offered for "bs".
	if bestD >= 0 && bestD <= max(1, len([]rune(got))/3) {
		return best, true
	}
	return "", false
}

// didYouMean formats a suggestion, or else the list of valid choices.
func didYouMean(got string, candidates []string, synonyms map[string]string, listName string) string {
	if s, ok := suggest(got, candidates, synonyms); ok {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	if len(candidates) == 0 {
		return ""
	}
	return fmt.Sprintf("; %s: %s", listName, strings.Join(candidates, ", "))
}

// levenshtein is the edit distance between a and b, in runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
