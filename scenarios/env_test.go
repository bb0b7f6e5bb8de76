package scenarios

import (
	"slices"
	"testing"
)

// mapLookup serves variables from a map, as a test's environment.
func mapLookup(m map[string]string) Lookup {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestExpand(t *testing.T) {
	env := mapLookup(map[string]string{"LUN": "/dev/sdb", "EMPTY": "", "N": "8"})
	tests := []struct {
		in    string
		want  string
		probs []string
	}{
		{in: "/dev/sda", want: "/dev/sda"},                              // nothing to expand
		{in: "${LUN}", want: "/dev/sdb"},                                // whole value
		{in: "pre-${LUN}-post", want: "pre-/dev/sdb-post"},              // inside text
		{in: "${N}${N}", want: "88"},                                    // adjacent
		{in: "${NOPE:-/dev/mapper/mpatha}", want: "/dev/mapper/mpatha"}, // unset: default
		{in: "${LUN:-/dev/mapper/mpatha}", want: "/dev/sdb"},            // set: value wins
		{in: "${EMPTY:-fallback}", want: "fallback"},                    // empty counts as unset, as in sh
		{in: "${EMPTY}", want: ""},                                      // set but empty, no default: empty
		{in: "${NOPE:-}", want: ""},                                     // empty default
		{in: "${NOPE:-echo a: b}", want: "echo a: b"},                   // default with punctuation
		{in: "echo $HOME $1", want: "echo $HOME $1"},                    // bare $ reaches the shell
		{in: "awk '{print $$1}'", want: "awk '{print $$1}'"},            // $$ without { is untouched
		{in: "$${LUN}", want: "${LUN}"},                                 // escaped
		{in: "$$${LUN}", want: "$${LUN}"},                               // escaped after a $
		{in: "${NOPE}", probs: []string{"environment variable NOPE is not set (set it, or give a default: ${NOPE:-value})"}}, // unset, no default
		{in: "${A} ${B}", probs: []string{ // every unset variable is reported
			"environment variable A is not set (set it, or give a default: ${A:-value})",
			"environment variable B is not set (set it, or give a default: ${B:-value})"}},
		{in: "${LUN", probs: []string{`unterminated ${ in "${LUN" (write ${NAME} or ${NAME:-default}; $${ for a literal ${)`}},                       // no closing brace
		{in: "${1X}", probs: []string{"invalid variable reference ${1X} (write ${NAME} or ${NAME:-default}; $${ for a literal ${)"}},                 // bad name
		{in: "${LUN:?unset}", probs: []string{"invalid variable reference ${LUN:?unset} (write ${NAME} or ${NAME:-default}; $${ for a literal ${)"}}, // other sh forms
		{in: "${A:-${B}}", probs: []string{"nested ${ in the default of ${A} is not supported"}},                                                     // nesting
	}
	for _, tt := range tests {
		got, probs := expand(tt.in, env)
		if !slices.Equal(probs, tt.probs) {
			t.Errorf("expand(%q) problems = %q, want %q", tt.in, probs, tt.probs)
			continue
		}
		if tt.probs == nil && got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestEscapeVars checks that whatever Marshal writes, expand gives back.
func TestEscapeVars(t *testing.T) {
	for _, s := range []string{"", "plain", "${X}", "$${X}", "$$$${X}", "a${b}c${", "$", "$$", "${"} {
		got, probs := expand(escapeVars(s), nil)
		if len(probs) > 0 || got != s {
			t.Errorf("expand(escapeVars(%q)) = %q, %q", s, got, probs)
		}
	}
}

func TestParseExpandsEverywhere(t *testing.T) {
	src := `name: ${NAME:-env-test}
targets:
  - name: ${T}
    path: ${LUN:-/dev/mapper/mpatha}
    allow_write: ${W:-false}
phases:
  - name: p
    rw: ${RW}
    bs: ${BS:-4k}
    qd: ${QD}
    duration: ${DUR:-10s}
    targets: ["${T}"] # in [ ] and { }, ${...} must be quoted
`
	s, err := Parse("env.yaml", []byte(src), mapLookup(map[string]string{"T": "lun0", "RW": "randwrite", "QD": "16", "W": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	p := s.Phases[0]
	if s.Name != "env-test" || s.Targets[0].Name != "lun0" || s.Targets[0].Path != "/dev/mapper/mpatha" ||
		!s.Targets[0].AllowWrite || p.RW != RandWrite || p.BS != 4096 || p.QD != 16 || p.Targets[0] != "lun0" {
		t.Errorf("got %+v", s)
	}
}
