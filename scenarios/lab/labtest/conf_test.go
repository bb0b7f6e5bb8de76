package labtest

import (
	"path/filepath"
	"testing"
	"time"
)

// TestConfFile checks the reader the budgets come from, on both daemons'
// syntaxes.
func TestConfFile(t *testing.T) {
	for _, tc := range []struct {
		name, text, key, want string
	}{
		// iscsid.conf: key = value.
		{"iscsid", "node.session.timeo.replacement_timeout = 10\n", "node.session.timeo.replacement_timeout", "10"},
		// A commented default does not count; the last setting wins.
		{"last wins", "#a = 120\na = 120\na = 10\n", "a", "10"},
		// multipath.conf: key value, tabs, quotes dropped.
		{"multipath", "defaults {\n\tpolling_interval\t\t10\n\tpath_selector \"round-robin 0\"\n}\n", "path_selector", "round-robin 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "conf")
			write(t, p, tc.text)
			if got := confFile(t, p)[tc.key]; got != tc.want {
				t.Errorf("%s = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
}

// TestLabBudgets pins the budgets the README quotes to the lab's
// configuration files: change one and the other must follow.
func TestLabBudgets(t *testing.T) {
	b := readMPBudget(t)
	if b.predicted() != 15*time.Second || b.worst() != 25*time.Second || b.floor() != 10*time.Second {
		t.Errorf("mp budget %v (with polling %v, floor %v), the README says 15 s (25 s, 10 s)", b.predicted(), b.worst(), b.floor())
	}
}
