package report

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// parsedJUnit is what a CI system reads from junit.xml.
type parsedJUnit struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitFromFixture(t *testing.T) {
	dir := copyFixture(t, "run1")
	if err := Render(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var j parsedJUnit
	if err := xml.Unmarshal(b, &j); err != nil {
		t.Fatalf("junit.xml does not parse: %v", err)
	}
	if j.Tests != 3 || j.Failures != 1 || len(j.Suites) != 1 || len(j.Suites[0].Cases) != 3 {
		t.Fatalf("tests=%d failures=%d suites=%d, want 3 tests, 1 failure, 1 suite", j.Tests, j.Failures, len(j.Suites))
	}
	var failed []string
	for _, c := range j.Suites[0].Cases {
		if c.Failure != nil {
			failed = append(failed, c.Name)
			if !strings.Contains(c.Failure.Message, "measured 3s") || !strings.Contains(c.Failure.Message, "<= 1s") {
				t.Errorf("failure message %q lacks measured vs threshold", c.Failure.Message)
			}
		}
	}
	if len(failed) != 1 || !strings.HasPrefix(failed[0], "max_stall <= 1s") {
		t.Errorf("failed cases %q, want the max_stall one", failed)
	}
}

func TestJUnitCounts(t *testing.T) {
	crit := func(pass bool, note string) CriterionResult {
		return CriterionResult{Text: "p99 <= 10ms", Phase: "p", Target: "t", Metric: "p99", Cmp: "<=", Threshold: 0.01,
			ThresholdText: "10ms", MeasuredText: "12ms", Pass: pass, Note: note}
	}
	tests := []struct {
		name            string
		crs             []CriterionResult
		tests, failures int
	}{
		{"no criteria", nil, 0, 0}, // an empty suite still parses
		{"all pass", []CriterionResult{crit(true, ""), crit(true, "")}, 2, 0},      // no failure elements
		{"one fails", []CriterionResult{crit(true, ""), crit(false, "")}, 2, 1},    // one failure element
		{"unmeasured fails", []CriterionResult{crit(false, "not measured")}, 1, 1}, // cannot vouch for it
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := JUnit(&RunJSON{Scenario: "s & <x>", Criteria: tt.crs})
			if err != nil {
				t.Fatal(err)
			}
			var j parsedJUnit
			if err := xml.Unmarshal(b, &j); err != nil {
				t.Fatalf("does not parse: %v\n%s", err, b)
			}
			n, f := 0, 0
			for _, s := range j.Suites {
				for _, c := range s.Cases {
					n++
					if c.Failure != nil {
						f++
					}
				}
			}
			if n != tt.tests || f != tt.failures || j.Tests != tt.tests || j.Failures != tt.failures {
				t.Errorf("cases %d/%d failures %d/%d (counted/attribute), want %d and %d", n, j.Tests, f, j.Failures, tt.tests, tt.failures)
			}
		})
	}
}
