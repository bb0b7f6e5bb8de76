// Package fioimport translates fio job files into lunbench scenarios: the
// common options become phase and target keys, and every option it cannot
// translate is reported with its line and why, never dropped silently.
package fioimport

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Note is something the translation could not carry over, or changed.
type Note struct {
	Line int
	Msg  string
}

func (n Note) String() string { return fmt.Sprintf("line %d: %s", n.Line, n.Msg) }

// option is one key=value of a section, with where it was written.
type option struct {
	key, val string
	line     int
}

// section is [global] or a job, its options in order.
type section struct {
	name string
	line int
	opts []option
}

// parseINI reads fio's job-file syntax: [section] headers, key=value or
// bare flags, ';' and '#' comments.
func parseINI(r io.Reader) ([]section, []Note, error) {
	var out []section
	var notes []Note
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			end := strings.Index(line, "]")
			if end < 0 {
				notes = append(notes, Note{n, fmt.Sprintf("section header %q has no closing ]; skipped", line)})
				continue
			}
			out = append(out, section{name: strings.TrimSpace(line[1:end]), line: n})
			continue
		}
		if len(out) == 0 {
			notes = append(notes, Note{n, fmt.Sprintf("option %q before any [section]; skipped", line)})
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		out[len(out)-1].opts = append(out[len(out)-1].opts, option{key: strings.TrimSpace(k), val: strings.TrimSpace(v), line: n})
	}
	return out, notes, sc.Err()
}

// job is one fio job with the global options it inherits.
type job struct {
	name string
	line int
	opts map[string]option
	keys []string // in order, for notes
}

func (j *job) get(k string) (option, bool) { o, ok := j.opts[k]; return o, ok }

// Translate reads a fio job file and returns a lunbench scenario (YAML)
// and the notes on what it could not translate. name names the scenario.
func Translate(name string, r io.Reader) ([]byte, []Note, error) {
	secs, notes, err := parseINI(r)
	if err != nil {
		return nil, notes, err
	}
	var global []option
	var jobs []*job
	for _, s := range secs {
		if s.name == "global" {
			global = append(global, s.opts...)
			continue
		}
		j := &job{name: s.name, line: s.line, opts: map[string]option{}}
		for _, o := range append(append([]option(nil), global...), s.opts...) {
			if _, seen := j.opts[o.key]; !seen {
				j.keys = append(j.keys, o.key)
			}
			j.opts[o.key] = o
		}
		jobs = append(jobs, j)
	}
	if len(jobs) == 0 {
		return nil, notes, fmt.Errorf("no job sections: a fio job file has [jobname] sections (and optionally [global])")
	}
	t := &translation{notes: notes}
	for _, j := range jobs {
		t.job(j)
	}
	slices.SortStableFunc(t.notes, func(a, b Note) int { return a.Line - b.Line })
	return t.yaml(scenarioName(name)), t.notes, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// scenarioName makes a scenario name of a job file's name.
func scenarioName(file string) string {
	n := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	n = strings.Trim(unsafeName.ReplaceAllString(n, "-"), "-.")
	if n == "" {
		return "fio-import"
	}
	return n
}

// phaseName makes a phase name of a job's, unique in the scenario.
func (t *translation) phaseName(job string) string {
	n := strings.Trim(unsafeName.ReplaceAllString(job, "-"), "-.")
	if n == "" {
		n = "job"
	}
	base := n
	for i := 2; t.usedName(n); i++ {
		n = base + "-" + strconv.Itoa(i)
	}
	return n
}
