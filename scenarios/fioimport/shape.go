package fioimport

import (
	"fmt"
	"strconv"
	"strings"
)

// fioTime converts a fio time (runtime, ramp_time: seconds by default;
// thinktime: microseconds by default) into a lunbench duration.
func fioTime(v, unit string) string {
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return v + unit
	}
	return v
}

// bounds translates runtime, time_based, ramp_time and size into how long
// the phase runs.
func (t *translation) bounds(j *job, p *phase, use func(...string)) {
	use("runtime", "time_based", "ramp_time", "size", "filesize", "io_size", "io_limit", "loops")
	_, timeBased := j.get("time_based")
	if o, ok := j.get("time_based"); ok && (o.val == "0" || o.val == "false") {
		timeBased = false
	}
	if o, ok := j.get("runtime"); ok {
		p.set("duration", fioTime(o.val, "s"))
	} else if timeBased {
		t.note(j.line, "time_based without runtime: fio would run forever; no duration written, add one")
	}
	if o, ok := j.get("ramp_time"); ok {
		p.set("ramp", fioTime(o.val, "s"))
	}
	if o, ok := j.get("loops"); ok && o.val != "1" {
		t.note(o.line, "loops=%s: not translated: a phase covers its bytes once; raise bytes by hand", o.val)
	}
	if timeBased {
		return
	}
	// Without time_based fio stops after size bytes (io_size if given)
	// per job, or at runtime, whichever first.
	o, ok := j.get("io_size")
	if !ok {
		o, ok = j.get("io_limit")
	}
	if !ok {
		o, ok = j.get("size")
	}
	if !ok {
		if _, rt := j.get("runtime"); !rt {
			p.set("duration", "60s")
			t.note(j.line, "job [%s] has neither runtime nor size: fio would cover the whole file or device once; lunbench needs a bound, so duration: 60s is written: change it", j.name)
		}
		return
	}
	{
		jobs := 1
		if n, ok := j.get("numjobs"); ok {
			jobs, _ = strconv.Atoi(n.val)
		}
		if jobs > 1 {
			t.note(o.line, "%s=%s is per job: %d jobs each transfer it, so write bytes: %d × %s by hand (written as one job's)", o.key, o.val, jobs, jobs, o.val)
		}
		p.set("bytes", o.val)
	}
}

// shape translates the mix, the offsets' distribution, the payload, the
// arrival and verify.
func (t *translation) shape(j *job, p *phase, rw string, use func(...string)) {
	use("rwmixread", "rwmixwrite", "random_distribution", "buffer_compress_percentage", "dedupe_percentage",
		"thinktime", "rate_process", "randseed", "verify", "direct", "buffered")
	mixed := rw == "randrw" || rw == "readwrite"
	if o, ok := j.get("rwmixread"); ok && mixed {
		p.set("read_pct", o.val+"%")
	} else if o, ok := j.get("rwmixwrite"); ok && mixed {
		if n, err := strconv.Atoi(o.val); err == nil {
			p.set("read_pct", strconv.Itoa(100-n)+"%")
		}
	}
	if o, ok := j.get("random_distribution"); ok {
		t.distribution(o, p, rw)
	}
	if o, ok := j.get("buffer_compress_percentage"); ok {
		if n, err := strconv.ParseFloat(o.val, 64); err == nil && n > 0 {
			ratio := 100.0
			if n < 99 {
				ratio = 100 / (100 - n)
			}
			if o2, ok := j.get("verify"); ok && o2.val != "0" && o2.val != "null" && ratio > 4 {
				t.note(o.line, "buffer_compress_percentage=%s with verify: lunbench's verified writes compress at most 4:1 (their stamps stay); compress: 4 written", o.val)
				ratio = 4
			}
			p.set("compress", strconv.FormatFloat(float64(int(ratio*100+0.5))/100, 'g', -1, 64))
			t.note(o.line, "buffer_compress_percentage=%s: written as compress: %.2f (the ratio data compresses to)", o.val, ratio)
		}
	}
	verify := false
	if o, ok := j.get("verify"); ok && o.val != "0" && o.val != "null" {
		verify = true
	}
	if o, ok := j.get("dedupe_percentage"); ok && o.val != "0" {
		if verify {
			t.note(o.line, "dedupe_percentage=%s: not translated: lunbench's verified writes stamp every sector with its offset, so none can repeat another", o.val)
		} else {
			p.set("dedupe", o.val+"%")
		}
	}
	if o, ok := j.get("thinktime"); ok && o.val != "0" {
		p.set("think", fioTime(o.val, "us"))
	}
	if o, ok := j.get("rate_process"); ok && o.val == "poisson" {
		p.set("rate_process", "poisson")
	}
	if o, ok := j.get("randseed"); ok {
		p.set("seed", o.val)
	}
	if o, ok := j.get("verify"); ok && o.val != "0" && o.val != "null" {
		p.set("verify", "true")
		t.note(o.line, "verify=%s: lunbench stamps and checks every 512-byte sector of every write (offset, generation, CRC32C) instead", o.val)
	}
	if o, ok := j.get("direct"); ok && o.val == "0" {
		t.note(o.line, "direct=0: lunbench always uses O_DIRECT; the page cache is not measured")
	}
	if o, ok := j.get("buffered"); ok && o.val == "1" {
		t.note(o.line, "buffered=1: lunbench always uses O_DIRECT; the page cache is not measured")
	}
}

// distribution translates random_distribution.
func (t *translation) distribution(o option, p *phase, rw string) {
	if !strings.HasPrefix(rw, "rand") {
		t.note(o.line, "random_distribution=%s: a sequential job has no random offsets; not translated", o.val)
		return
	}
	v := o.val
	if first, _, found := strings.Cut(v, ","); found {
		t.note(o.line, "random_distribution=%s: per-op distributions are not translated; %s is used for both", v, first)
		v = first
	}
	kind, arg, _ := strings.Cut(v, ":")
	switch kind {
	case "random":
	case "zipf", "pareto":
		p.set("offsets", fmt.Sprintf("{%s: %s}", kind, arg))
	case "normal", "gauss":
		if arg == "" {
			p.set("offsets", "normal")
		} else {
			p.set("offsets", fmt.Sprintf("{normal: %s%%}", arg))
		}
	case "zoned":
		// fio: access%/range% pairs laid out from the start.
		var bands []string
		for _, z := range strings.Split(arg, ":") {
			acc, rng, _ := strings.Cut(z, "/")
			bands = append(bands, fmt.Sprintf("{range: %s%%, share: %s%%}", rng, acc))
		}
		p.set("offsets", "{hot: ["+strings.Join(bands, ", ")+"]}")
	default:
		t.note(o.line, "random_distribution=%s: not translated (lunbench has uniform, zipf, pareto, normal and hot bands)", o.val)
	}
}

// targetsOf translates filename, size and offset into the phase's targets.
func (t *translation) targetsOf(j *job, p *phase, writes bool, use func(...string)) {
	use("filename", "offset", "directory")
	if o, ok := j.get("directory"); ok {
		t.note(o.line, "directory=%s: not translated: lunbench tests named files or devices (filename)", o.val)
	}
	paths := []string{"${LUN}"}
	if o, ok := j.get("filename"); ok {
		paths = strings.Split(o.val, ":")
	} else {
		t.note(j.line, "job [%s] names no filename: the target's path is ${LUN}; set LUN when running", j.name)
	}
	size, off := "", ""
	if o, ok := j.get("size"); ok {
		size = o.val
	}
	if o, ok := j.get("offset"); ok {
		off = o.val
	}
	var names []string
	for _, path := range paths {
		tg := t.target(path, size, off, j)
		tg.write = tg.write || writes
		names = append(names, tg.name)
	}
	p.set("targets", "["+strings.Join(names, ", ")+"]")
}

// target returns the target for path, adding it the first time.
func (t *translation) target(path, size, off string, j *job) *target {
	for _, tg := range t.targets {
		if tg.path == path {
			if (off != tg.offset) || (size != "" && size != tg.size) {
				t.note(j.line, "job [%s] uses %s with size %q offset %q, an earlier job with size %q offset %q; the first are kept", j.name, path, size, off, tg.size, tg.offset)
			}
			return tg
		}
	}
	tg := &target{name: fmt.Sprintf("t%d", len(t.targets)), path: path, size: size, offset: off}
	t.targets = append(t.targets, tg)
	return tg
}

// yaml writes the scenario.
func (t *translation) yaml(name string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Translated by lunbench import-fio. Check the notes it printed: what it\n")
	fmt.Fprintf(&b, "# could not translate, and what it changed. fio runs a file's jobs at the\n")
	fmt.Fprintf(&b, "# same time unless stonewalled; lunbench runs them one after another.\n")
	fmt.Fprintf(&b, "name: %s\ntargets:\n", name)
	for _, tg := range t.targets {
		fmt.Fprintf(&b, "  - name: %s\n    path: %q\n", tg.name, tg.path)
		if strings.HasPrefix(tg.path, "/dev/") || tg.size == "" {
			// Devices (and files without size) must exist.
		} else {
			fmt.Fprintf(&b, "    size: %s\n", tg.size)
		}
		if tg.offset != "" {
			fmt.Fprintf(&b, "    offset: %s\n", tg.offset)
		}
		if tg.size != "" && strings.HasPrefix(tg.path, "/dev/") {
			fmt.Fprintf(&b, "    length: %s\n", tg.size)
		}
		if tg.write {
			fmt.Fprintf(&b, "    allow_write: true      # the fio jobs write: this destroys the target's data\n")
		}
	}
	b.WriteString("phases:\n")
	for _, p := range t.phases {
		for _, c := range p.comments {
			fmt.Fprintf(&b, "  # %s\n", c)
		}
		fmt.Fprintf(&b, "  - name: %s\n", p.name)
		for _, kv := range p.kv {
			fmt.Fprintf(&b, "    %s: %s\n", kv[0], kv[1])
		}
	}
	return []byte(b.String())
}
