package fioimport

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ignored are fio options with no effect on what lunbench measures, and why.
func ignored() map[string]string {
	return map[string]string{
		"ioengine":         "lunbench's default engine issues a blocking pread/pwrite per queue slot (only ioengine=io_uring is translated, to engine: io_uring); qd is the I/Os in flight",
		"group_reporting":  "lunbench reports per phase × target × op",
		"thread":           "lunbench's workers are goroutines",
		"stonewall":        "lunbench runs phases one after another anyway",
		"wait_for":         "lunbench runs phases one after another anyway",
		"new_group":        "lunbench reports per phase",
		"name":             "the job's section name names the phase",
		"invalidate":       "O_DIRECT I/O bypasses the page cache",
		"norandommap":      "lunbench draws random offsets with replacement (as with norandommap)",
		"randrepeat":       "lunbench's offsets always repeat for the same seed",
		"lat_percentiles":  "lunbench records every latency in HDR histograms",
		"clat_percentiles": "lunbench records every latency in HDR histograms",
		"percentile_list":  "lunbench reports p50, p90, p99, p99.9, p99.99 and max; hist/*.hlog has the rest",
		"write_lat_log":    "lunbench writes intervals.csv and hist/*.hlog",
		"write_bw_log":     "lunbench writes intervals.csv",
		"write_iops_log":   "lunbench writes intervals.csv",
		"log_avg_msec":     "the scenario's interval sets the resolution",
		"kb_base":          "lunbench's units are binary (1k = 1024)",
		"description":      "kept as a comment",
	}
}

// target is a file or device the jobs name.
type target struct {
	name, path   string
	size, offset string
	write        bool
}

// phase is one job as lunbench phase keys, in order.
type phase struct {
	name     string
	comments []string
	kv       [][2]string
}

func (p *phase) set(k, v string) { p.kv = append(p.kv, [2]string{k, v}) }

type translation struct {
	notes   []Note
	targets []*target
	phases  []*phase
	noted   map[string]bool
}

func (t *translation) note(line int, format string, args ...any) {
	n := Note{line, fmt.Sprintf(format, args...)}
	if !slices.Contains(t.notes, n) { // a [global] option, once for all jobs
		t.notes = append(t.notes, n)
	}
}

func (t *translation) usedName(n string) bool {
	return slices.ContainsFunc(t.phases, func(p *phase) bool { return p.name == n })
}

// job translates one job into a phase (or notes why it cannot).
func (t *translation) job(j *job) {
	p := &phase{name: t.phaseName(j.name)}
	rw, ok := t.rw(j)
	if !ok {
		return
	}
	p.set("rw", rw)
	writes := rw != "read" && rw != "randread"
	done := map[string]bool{"rw": true, "readwrite": true}
	use := func(keys ...string) {
		for _, k := range keys {
			done[k] = true
		}
	}
	t.sizes(j, p, use)
	t.depth(j, p, use)
	t.bounds(j, p, use)
	t.shape(j, p, rw, use)
	t.targetsOf(j, p, writes, use)
	for _, k := range j.keys {
		o := j.opts[k]
		switch why, ign := ignored()[k]; {
		case done[k]:
		case ign && k == "description":
			p.comments = append(p.comments, o.val)
		case ign:
			t.note(o.line, "%s: ignored: %s", k, why)
		default:
			t.note(o.line, "%s=%s: not translated: lunbench has no equivalent; check the phase by hand", k, o.val)
		}
	}
	t.phases = append(t.phases, p)
}

// rw maps fio's rw; false when the job cannot be a phase.
func (t *translation) rw(j *job) (string, bool) {
	o, ok := j.get("rw")
	if !ok {
		o, ok = j.get("readwrite")
	}
	if !ok {
		return "read", true // fio's default
	}
	v, mod, _ := strings.Cut(o.val, ":")
	if mod != "" {
		t.note(o.line, "rw=%s: the offset modifier :%s is not translated (lunbench's sequential and random patterns have none)", o.val, mod)
	}
	switch v {
	case "read", "write", "randread", "randwrite", "randrw":
		return v, true
	case "rw", "readwrite":
		return "readwrite", true
	}
	t.note(o.line, "rw=%s: not translated: lunbench reads and writes only (no trim); job [%s] skipped", o.val, j.name)
	return "", false
}

// sizes translates bs and bssplit.
func (t *translation) sizes(j *job, p *phase, use func(...string)) {
	use("bs", "blocksize", "bssplit", "bsrange")
	if o, ok := j.get("bsrange"); ok {
		t.note(o.line, "bsrange=%s: not translated: lunbench mixes listed sizes (bssplit), not ranges", o.val)
	}
	if o, ok := j.get("bssplit"); ok {
		p.set("bs", t.bssplit(o))
		return
	}
	o, ok := j.get("bs")
	if !ok {
		o, ok = j.get("blocksize")
	}
	if !ok {
		p.set("bs", "4k") // fio's default
		return
	}
	parts := strings.Split(o.val, ",")
	if len(parts) > 2 && parts[2] != "" {
		t.note(o.line, "bs=%s: the trim size is not translated", o.val)
	}
	if len(parts) == 1 || parts[1] == "" || parts[1] == parts[0] {
		p.set("bs", parts[0])
		return
	}
	p.set("bs", fmt.Sprintf("{read: %s, write: %s}", parts[0], parts[1]))
}

// bssplit translates "4k/60:64k/30:1m/10[,writes]" into a mix.
func (t *translation) bssplit(o option) string {
	ops := strings.Split(o.val, ",")
	mix := func(s string) string {
		var parts []string
		rest := 100
		var blank []int
		for _, e := range strings.Split(s, ":") {
			size, pct, _ := strings.Cut(e, "/")
			if pct == "" {
				blank = append(blank, len(parts))
				parts = append(parts, size)
				continue
			}
			n, err := strconv.Atoi(pct)
			if err != nil {
				t.note(o.line, "bssplit=%s: share %q is not a whole percentage", o.val, pct)
			}
			rest -= n
			parts = append(parts, fmt.Sprintf("%s: %d%%", size, n))
		}
		// fio shares a blank share's rest equally.
		for i, b := range blank {
			share := rest / len(blank)
			if i == 0 {
				share += rest % len(blank)
			}
			parts[b] = fmt.Sprintf("%s: %d%%", parts[b], share)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	if len(ops) > 2 {
		t.note(o.line, "bssplit=%s: the trim split is not translated", o.val)
	}
	if len(ops) == 1 || ops[1] == "" {
		return mix(ops[0])
	}
	return fmt.Sprintf("{read: %s, write: %s}", mix(ops[0]), mix(ops[1]))
}

// syncEngines keep one I/O in flight per job, whatever iodepth says.
func syncEngines() []string {
	return []string{"sync", "psync", "vsync", "pvsync", "pvsync2", "mmap", "ftruncate"}
}

// depth translates iodepth × numjobs into qd, and the per-job rates.
func (t *translation) depth(j *job, p *phase, use func(...string)) {
	use("iodepth", "numjobs", "rate_iops", "rate")
	jobs, depth := 1, 1
	if o, ok := j.get("numjobs"); ok {
		jobs = t.atoi(o, 1)
	}
	engine := "psync"
	if o, ok := j.get("ioengine"); ok {
		engine = o.val
	}
	if engine == "io_uring" {
		use("ioengine")
		p.set("engine", "io_uring")
	}
	if o, ok := j.get("iodepth"); ok {
		depth = t.atoi(o, 1)
		if slices.Contains(syncEngines(), engine) && depth > 1 {
			t.note(o.line, "iodepth=%d with ioengine=%s: fio keeps one I/O in flight per job with a sync engine, so qd is numjobs (%d)", depth, engine, jobs)
			depth = 1
		}
	}
	p.set("qd", strconv.Itoa(min(jobs*depth, 1024)))
	if o, ok := j.get("rate_iops"); ok {
		r := t.perOpFirst(o)
		if n, err := strconv.ParseFloat(r, 64); err == nil {
			p.set("rate_iops", strconv.FormatFloat(n*float64(jobs), 'g', -1, 64))
			if jobs > 1 {
				t.note(o.line, "rate_iops=%s is per job: %d jobs make %g per target", o.val, jobs, n*float64(jobs))
			}
		} else {
			t.note(o.line, "rate_iops=%s: not a number; not translated", o.val)
		}
	} else if o, ok := j.get("rate"); ok {
		r := t.perOpFirst(o)
		if jobs > 1 {
			t.note(o.line, "rate=%s is per job: multiply by %d jobs in rate: by hand (written as one job's)", o.val, jobs)
		}
		p.set("rate", r+"/s")
	}
}

// perOpFirst takes the read value of a "read,write" option, noting a
// different write value.
func (t *translation) perOpFirst(o option) string {
	r, w, found := strings.Cut(o.val, ",")
	if found && w != "" && w != r {
		t.note(o.line, "%s=%s: separate read and write values are not translated; the read value %s is used for both", o.key, o.val, r)
	}
	return r
}

func (t *translation) atoi(o option, def int) int {
	n, err := strconv.Atoi(o.val)
	if err != nil || n < 1 {
		t.note(o.line, "%s=%s: not a whole number above 0; %d used", o.key, o.val, def)
		return def
	}
	return n
}
