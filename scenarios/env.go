package scenarios

import (
	"fmt"
	"strings"
)

// Lookup finds an environment variable, as os.LookupEnv does. The loader
// takes one rather than reading the process environment itself, so tests
// and the runner decide what a scenario sees.
type Lookup func(name string) (value string, ok bool)

// expand replaces ${VAR} and ${VAR:-default} in s. As in the shell, the
// default is used when VAR is unset or empty. "$${" stands for a literal
// "${", for shell commands that use braces themselves; a "$" not followed
// by "{" is left alone, so "$HOME" reaches a command's shell unchanged.
// It returns every problem found, not just the first.
func expand(s string, lookup Lookup) (string, []string) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	var probs []string
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			probs = append(probs, fmt.Sprintf("unterminated ${ in %q (write ${NAME} or ${NAME:-default}; $${ for a literal ${)", s))
			break
		}
		body := s[i+2 : i+end]
		i += end + 1
		name, def, hasDef := strings.Cut(body, ":-")
		switch {
		case !validVarName(name):
			probs = append(probs, fmt.Sprintf("invalid variable reference ${%s} (write ${NAME} or ${NAME:-default}; $${ for a literal ${)", body))
			continue
		case strings.Contains(def, "${"):
			probs = append(probs, fmt.Sprintf("nested ${ in the default of ${%s} is not supported", name))
			continue
		}
		v, ok := "", false
		if lookup != nil {
			v, ok = lookup(name)
		}
		switch {
		case ok && v != "":
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		case ok:
			// Set but empty: the user said so explicitly.
		default:
			probs = append(probs, fmt.Sprintf("environment variable %s is not set (set it, or give a default: ${%s:-value})", name, name))
		}
	}
	return b.String(), probs
}

// escapeVars makes s survive expand unchanged, for writing resolved values
// back out: every run of "$" before "{" gains one "$".
func escapeVars(s string) string {
	return strings.ReplaceAll(s, "${", "$${")
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
