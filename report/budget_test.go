package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lunbench/collect/preflight"
	"lunbench/scenarios"
)

// TestBudgetFinding makes lun0's stall in the drills fixture run far above
// its 20 s budget and checks the finding reaches the verdict section of
// every document, without failing the run by itself.
func TestBudgetFinding(t *testing.T) {
	dir := copyFixture(t, "drills")
	r, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := r.Drills[0].Targets[0].Budget
	if b == nil || !b.Available || b.Predicted != 20*time.Second {
		t.Fatalf("fixture budget %+v", b)
	}
	preflight.Judge(b, 45*time.Second)
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Render(dir, Options{Width: 400, Height: 300}); err != nil {
		t.Fatal(err)
	}
	want := "drill failover / vip-move on lun0: measured stall 45s is far above the predicted 20s"
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	var sum bytes.Buffer
	PrintSummary(&sum, r)
	for name, doc := range map[string]string{"report.md": string(md), "report.html": string(html), "summary": sum.String()} {
		i := strings.Index(doc, want)
		if i < 0 {
			t.Errorf("%s has no warning %q", name, want)
			continue
		}
		// The verdict section: the warning comes before the criteria
		// (documents) or right before the verdict line (summary).
		if name != "summary" && i > strings.Index(doc, "Criteria") {
			t.Errorf("%s: the warning is not in the verdict section", name)
		}
		if name == "summary" && !strings.Contains(doc, want+" (noop_out_interval + noop_out_timeout + replacement_timeout; tolerance 6s): ") {
			t.Errorf("summary: the warning does not name the formula and tolerance:\n%s", doc)
		}
	}
	if !strings.Contains(string(html), `<p class="warn">⚠ warning: drill failover / vip-move on lun0`) {
		t.Error("report.html: the warning is not styled as one")
	}
}

// TestMaxStallRule checks which max_stall a drill's stall answers to.
func TestMaxStallRule(t *testing.T) {
	rule := func(phase, target, drill string, th float64) scenarios.Criterion {
		return scenarios.Criterion{Phase: phase, Target: target, Drill: drill, Metric: "max_stall", Cmp: scenarios.LE, Threshold: th}
	}
	d := scenarios.Drill{Name: "d", Expect: []scenarios.Criterion{rule("p", "", "d", 3)}}
	sc := &scenarios.Scenario{Criteria: []scenarios.Criterion{rule("", "", "", 15), rule("p", "", "", 10), rule("", "lun1", "", 5), rule("q", "", "", 1)}}
	tests := []struct {
		name   string
		d      scenarios.Drill
		phase  string
		target string
		want   float64
		ok     bool
	}{
		{"the drill's own rule wins", d, "p", "lun0", 3, true},
		{"else the strictest of run and phase", scenarios.Drill{Name: "e"}, "p", "lun0", 10, true},
		{"a target's rule counts for that target", scenarios.Drill{Name: "e"}, "p", "lun1", 5, true},
		{"in phase q its own 1s rule is the strictest", scenarios.Drill{Name: "e"}, "q", "lun0", 1, true},
		{"phase r has only the run's rule", scenarios.Drill{Name: "e"}, "r", "lun0", 15, true},
	}
	for _, tt := range tests {
		c, ok := maxStallRule(sc, tt.d, tt.phase, tt.target)
		if ok != tt.ok || c.Threshold != tt.want {
			t.Errorf("%s: got %v %v, want %v", tt.name, c.Threshold, ok, tt.want)
		}
	}
	if _, ok := maxStallRule(&scenarios.Scenario{}, scenarios.Drill{}, "p", "lun0"); ok {
		t.Error("a scenario without max_stall has no rule")
	}
}
