package report

import (
	"encoding/xml"
	"fmt"
	"path/filepath"
	"strings"
)

// JUnit documents, for CI systems that show test results.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string          `xml:"name,attr"`
	Tests     int             `xml:"tests,attr"`
	Failures  int             `xml:"failures,attr"`
	Skipped   int             `xml:"skipped,attr"`
	Timestamp string          `xml:"timestamp,attr,omitempty"`
	Time      string          `xml:"time,attr,omitempty"`
	Props     []junitProperty `xml:"properties>property,omitempty"`
	Cases     []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// JUnit renders the run's criteria as a JUnit XML document: one testcase
// per criterion × phase × target, failed ones with a failure element
// that gives measured against threshold. A criterion that could not be
// measured fails too (the run cannot vouch for it).
func JUnit(r *RunJSON) ([]byte, error) { return junit(r, "", nil) }

// junit is JUnit for a run that may not have finished: why says why (""
// when it did) and becomes a failed "run finished" case; each phase of
// notRun gets a failed case of its own.
func junit(r *RunJSON, why string, notRun []string) ([]byte, error) {
	s := junitSuite{Name: "lunbench." + r.Scenario}
	if !r.Start.IsZero() {
		s.Timestamp = r.Start.UTC().Format("2006-01-02T15:04:05")
		if !r.End.IsZero() {
			s.Time = fmt.Sprintf("%.3f", r.End.Sub(r.Start).Seconds())
		}
	}
	s.Props = []junitProperty{{"verdict", string(r.Verdict)}, {"status", r.Status}, {"source", r.Source}, {"host", r.Host.Hostname}}
	class := "lunbench." + r.Scenario + "."
	if why != "" {
		s.Cases = append(s.Cases, junitCase{Name: "run finished", Classname: class + "run",
			Failure: &junitFailure{Message: why, Type: "incomplete", Text: "status: " + r.Status + "\n" + why + "\n"}})
		s.Failures++
	}
	for _, p := range notRun {
		s.Cases = append(s.Cases, junitCase{Name: "phase " + p + " ran", Classname: class + p,
			Failure: &junitFailure{Message: "phase " + p + " did not run: the run ended before it", Type: "not run"}})
		s.Failures++
	}
	for _, c := range r.Criteria {
		tc := junitCase{Name: criterionName(c), Classname: class + classPart(c.Phase)}
		tc.SystemOut = fmt.Sprintf("measured %s, threshold %s %s", c.MeasuredText, c.Cmp, c.ThresholdText)
		if c.NotEvaluated {
			tc.Failure = &junitFailure{Message: criterionText(c) + ": not evaluated: the run did not finish", Type: "not evaluated"}
			s.Failures++
		} else if !c.Pass {
			msg := fmt.Sprintf("%s: measured %s, threshold %s %s", criterionText(c), c.MeasuredText, c.Cmp, c.ThresholdText)
			if c.Note != "" {
				msg += " (" + c.Note + ")"
			}
			tc.Failure = &junitFailure{Message: msg, Type: "criterion", Text: fmt.Sprintf(
				"criterion: %s\nphase: %s\n%starget: %s\nmetric: %s\nmeasured: %s (%g)\nthreshold: %s %s (%g)\n",
				c.Text, phaseOrRun(c.Phase), drillLine(c.Drill), c.Target, c.Metric, c.MeasuredText, c.Measured, c.Cmp, c.ThresholdText, c.Threshold)}
			s.Failures++
		}
		s.Cases = append(s.Cases, tc)
	}
	s.Tests = len(s.Cases)
	doc := junitSuites{Name: "lunbench", Tests: s.Tests, Failures: s.Failures, Suites: []junitSuite{s}}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

// criterionName names a test case: "read_p99 <= 2ms / phase p / target
// lun0", or for a drill's expectation "drill vip-move / lun0: max_stall <=
// 15s" (its phase is in the class name).
func criterionName(c CriterionResult) string {
	if c.Drill != "" {
		name := "drill " + c.Drill
		if c.Target != "" {
			name += " / " + c.Target
		}
		return name + ": " + c.Text
	}
	parts := []string{c.Text}
	if c.Phase != "" {
		parts = append(parts, "phase "+c.Phase)
	}
	if c.Target != "" {
		parts = append(parts, "target "+c.Target)
	}
	return strings.Join(parts, " / ")
}

func drillLine(drill string) string {
	if drill == "" {
		return ""
	}
	return "drill: " + drill + "\n"
}

// criterionText is the rule as people read it in tables: a drill's
// expectation names its drill.
func criterionText(c CriterionResult) string {
	if c.Drill != "" {
		return "drill " + c.Drill + ": " + c.Text
	}
	return c.Text
}

func phaseOrRun(p string) string {
	if p == "" {
		return "(run)"
	}
	return p
}

func classPart(phase string) string {
	if phase == "" {
		return "run"
	}
	return phase
}

func writeJUnitFile(dir string, d *runData) error {
	b, err := junit(d.run, d.unfinished, d.notRun)
	if err != nil {
		return err
	}
	if err := WriteAtomic(filepath.Join(dir, "junit.xml"), b); err != nil {
		return fmt.Errorf("junit.xml: %w", err)
	}
	return nil
}
