package remote

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEExample: the worked example of the README's "Several hosts"
// loads, and splits into the shares its text describes.
func TestREADMEExample(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "### A worked example")
	_, block, ok2 := strings.Cut(after, "```yaml\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README has no worked example")
	}
	sc := parse(t, block)
	subs := Split(sc)
	if len(subs) != 3 || len(subs["db1"].Targets) != 1 || subs["db1"].Phases[0].Drills[1].Inject != drillToken(0, 1, "inject") {
		t.Errorf("shares: %+v", subs)
	}
	if sc.Phases[0].Drills[1].On != "db1" || sc.Targets[2].Host != "db1" {
		t.Errorf("scenario: %+v", sc)
	}
}
