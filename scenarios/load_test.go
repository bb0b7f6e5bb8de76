package scenarios

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixedSeed makes loads of seed-0 scenarios reproducible.
func fixedSeed() uint64 { return 4242 }

// load parses src as "s.yaml" with env and a fixed seed.
func load(t *testing.T, src string, env map[string]string) (*Scenario, []string) {
	t.Helper()
	s, err := parse("s.yaml", []byte(src), config{lookup: mapLookup(env), seed: fixedSeed})
	if err == nil {
		return s, nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error is %T, not *ValidationError: %v", err, err)
	}
	if got := strings.Join(lines(ve), "\n"); got != err.Error() {
		t.Fatalf("Error() = %q, want one line per problem %q", err.Error(), got)
	}
	return nil, lines(ve)
}

func lines(ve *ValidationError) []string {
	var out []string
	for _, p := range ve.Problems {
		out = append(out, p.String())
	}
	return out
}

func TestBadScenarios(t *testing.T) {
	tests := []struct {
		name string
		src  string
		env  map[string]string
		want []string
	}{
		{
			// A fio habit: the brief's example of a suggestion.
			name: "misspelled key gets a suggestion",
			src: `name: t
targets: [{name: lun0, path: /dev/x}]
phases:
  - name: seq-read
    rw: read
    blocksize: 4k
    duration: 10s
`,
			want: []string{
				`s.yaml:4:5: phase "seq-read" needs bs (the block size, e.g. 4k or 1MiB)`,
				`s.yaml:6:5: unknown key "blocksize" in phase "seq-read"; did you mean "bs"?`,
			},
		},
		{
			// Typos are caught by edit distance, case slips by folding.
			name: "typos and case",
			src: `name: t
Targets: [{name: lun0, path: /dev/x}]
phases: [{name: p, rw: read, bs: 4k, duraton: 10s}]
`,
			want: []string{
				`s.yaml:1:1: the scenario needs at least one target (targets: - name: ..., path: ...)`,
				`s.yaml:2:1: unknown key "Targets" in the scenario; did you mean "targets"?`,
				`s.yaml:3:10: phase "p" needs duration or bytes`,
				`s.yaml:3:38: unknown key "duraton" in phase "p"; did you mean "duration"?`,
			},
		},
		{
			// Nothing near: list what is valid instead.
			name: "unknown key without a near match",
			src: `name: t
targets:
  - name: lun0
    path: /dev/x
    colour: blue
phases: [{name: p, rw: read, bs: 4k, duration: 1s}]
`,
			want: []string{
				`s.yaml:5:5: unknown key "colour" in target "lun0"; valid keys are: name, path, size, allow_write, allow_ram_backed, offset, length, host, expect, probe, criteria`,
			},
		},
		{
			// The three required parts, all reported at once.
			name: "empty mapping",
			src:  "{}\n",
			want: []string{
				`s.yaml:1:1: the scenario needs name`,
				`s.yaml:1:1: the scenario needs at least one target (targets: - name: ..., path: ...)`,
				`s.yaml:1:1: the scenario needs at least one phase (phases: - name: ..., rw: ...)`,
			},
		},
		{
			// An empty file is a mistake, not an empty scenario.
			name: "empty file",
			src:  "# only a comment\n",
			want: []string{`s.yaml:1:1: the file is empty; a scenario needs name:, targets: and phases:`},
		},
		{
			// yaml.v3 knows only the line of a syntax error (for an
			// unclosed bracket, the line that opened it); the column is
			// that line's first character.
			name: "YAML syntax",
			src:  "name: t\ntargets: [lun0\n",
			want: []string{`s.yaml:2:1: invalid YAML: did not find expected ',' or ']'`},
		},
		{
			// A key indented too little ends the mapping early.
			name: "YAML indentation",
			src:  "name: t\ntargets:\n  - name: a\n path: /x\n",
			want: []string{`s.yaml:4:2: invalid YAML: did not find expected key`},
		},
		{
			// Tabs are the classic YAML trap; say so.
			name: "tab indentation",
			src:  "name: t\ntargets:\n\t- name: lun0\n",
			want: []string{`s.yaml:3:1: invalid YAML: found character that cannot start any token (YAML does not allow tabs for indentation; use spaces)`},
		},
		{
			// Two documents would silently drop the second.
			name: "second document",
			src:  "name: t\n---\nname: u\n",
			want: []string{`s.yaml:2:1: a scenario file holds one YAML document; a second one starts here`},
		},
		{
			// A list where a mapping belongs, and a scalar where a list does.
			name: "wrong shapes",
			src: `- name: t
`,
			want: []string{`s.yaml:1:1: the scenario must be a mapping of keys (name: ...), got a list`},
		},
		{
			// Shapes inside: targets as a string, a phase as a string.
			name: "wrong shapes inside",
			src: `name: t
targets: lun0
phases:
  - seq-read
`,
			want: []string{
				`s.yaml:2:10: targets in the scenario must be a list, got "lun0"`,
				`s.yaml:4:5: phase #1 must be a mapping of keys (name: ...), got "seq-read"`,
			},
		},
		{
			// Units and ranges of phase values, each at its value.
			name: "bad phase values",
			src: `name: t
targets: [{name: lun0, path: /dev/x}]
phases:
  - name: p
    rw: read
    bs: 1000
    qd: 0
    duration: 30
    ramp: -1s
  - name: q
    rw: read
    bs: 4x
    qd: 2000
    bytes: 1.1k
  - name: r
    rw: read
    bs: 128MiB
    qd: many
    duration: 10s
`,
			want: []string{
				`s.yaml:6:9: bs in phase "p" must be a multiple of 512 bytes, got 1000B`,
				`s.yaml:7:9: qd in phase "p" must be at least 1, got 0`,
				`s.yaml:8:15: duration in phase "p": invalid duration "30": missing unit (write 30s or 30ms)`,
				`s.yaml:9:11: ramp in phase "p": invalid duration "-1s": must not be negative`,
				`s.yaml:12:9: bs in phase "q": invalid size "4x": unknown unit "x" (use B, k, M, G, T, P, E, optionally followed by B or iB)`,
				`s.yaml:13:9: qd in phase "q" must be at most 1024, got 2000`,
				`s.yaml:14:12: bytes in phase "q": invalid size "1.1k": not a whole number of bytes`,
				`s.yaml:17:9: bs in phase "r" must be at most 64MiB, got 128MiB`,
				`s.yaml:18:9: qd in phase "r" must be a whole number, got "many"`,
			},
		},
		{
			// Neither bound, and a ramp that eats the whole duration.
			name: "duration, bytes and ramp",
			src: `name: t
targets: [{name: lun0, path: /dev/x}]
phases:
  - name: forever
    rw: read
    bs: 4k
  - name: all-ramp
    rw: read
    bs: 4k
    duration: 10s
    ramp: 10s
  - name: zeroed
    rw: read
    bs: 4k
    duration: 0
`,
			want: []string{
				`s.yaml:4:5: phase "forever" needs duration or bytes`,
				`s.yaml:11:11: ramp in phase "all-ramp" (10s) must be shorter than its duration (10s)`,
				`s.yaml:12:5: phase "zeroed" needs duration or bytes`,
			},
		},
		{
			// Access patterns: a typo, a synonym, and read_pct misuse.
			name: "rw and read_pct",
			src: `name: t
targets: [{name: lun0, path: /dev/x, allow_write: true}]
defaults: {bs: 4k, duration: 10s}
phases:
  - {name: a, rw: randwr}
  - {name: b, rw: mixed}
  - {name: c, rw: read, read_pct: 70%}
  - {name: d, rw: randrw, read_pct: 150}
  - {name: e, rw: randrw, read_pct: 70.5%}
  - {name: f}
`,
			want: []string{
				`s.yaml:5:19: unknown rw "randwr" in phase "a"; did you mean "randrw"?`,
				`s.yaml:6:19: unknown rw "mixed" in phase "b"; did you mean "randrw"?`,
				`s.yaml:7:25: read_pct in phase "c" only applies to randrw and readwrite, not read`,
				`s.yaml:8:37: read_pct in phase "d": invalid percentage "150": must be between 0 and 100`,
				`s.yaml:9:37: read_pct in phase "e" must be a whole percentage like 70%, got "70.5%"`,
				`s.yaml:10:5: phase "f" needs rw (one of read, write, randread, randwrite, randrw, readwrite)`,
			},
		},
		{
			// The guard that keeps a benchmark from destroying a LUN.
			name: "write phase on a read-only target",
			src: `name: t
targets:
  - {name: lun0, path: /dev/mapper/mpatha}
  - {name: scratch, path: /tmp/f, size: 1G, allow_write: true}
phases:
  - name: oltp
    rw: randrw
    bs: 8k
    duration: 1m
`,
			want: []string{
				`s.yaml:7:9: phase "oltp" writes (rw: randrw) to target "lun0", which does not allow writes; add allow_write: true to target "lun0" if its data may be destroyed`,
			},
		},
		{
			// Targets: alignment, ranges, bad booleans, empty paths, names.
			name: "bad targets",
			src: `name: t
targets:
  - name: lun0
    path: /dev/x
    offset: 1000
    length: -512
    allow_write: yes
  - name: f
    path: /tmp/f
    size: 1G
    offset: 512M
    length: 1G
  - name: lun 1
    path: ""
    expect: {paths: -1, recovery_tmo: 15s, chap: maybe}
  - path: /dev/z
phases: [{name: p, rw: read, bs: 4k, duration: 1s, targets: [f]}]
`,
			want: []string{
				`s.yaml:5:13: offset in target "lun0" must be a multiple of 512 bytes, got 1000B`,
				`s.yaml:6:13: length in target "lun0": invalid size "-512": must not be negative`,
				`s.yaml:7:18: allow_write in target "lun0" must be true or false, got "yes"`,
				`s.yaml:12:13: offset + length in target "f" (1.5GiB) must not exceed its size (1GiB)`,
				`s.yaml:13:11: name in target "lun 1" must be a name of letters, digits, '.', '_' and '-' (at most 64), got "lun 1"`,
				`s.yaml:14:11: path in target "lun 1" is empty`,
				`s.yaml:15:21: paths in expect of target "lun 1" must not be negative, got -1`,
				`s.yaml:15:39: recovery_tmo in expect of target "lun 1" must be an upper bound like "<= 15s", got "15s"`,
				`s.yaml:15:50: chap in expect of target "lun 1" must be true or false, got "maybe"`,
				`s.yaml:16:5: target #4 needs name`,
			},
		},
		{
			// Names must be unique, and phases may only name real targets.
			name: "names",
			src: `name: t
targets:
  - {name: lun0, path: /dev/x}
  - {name: lun0, path: /dev/y}
phases:
  - {name: p, rw: read, bs: 4k, duration: 1s, targets: [lun1, lun0, lun0]}
  - {name: p, rw: read, bs: 4k, duration: 1s, targets: []}
`,
			want: []string{
				`s.yaml:4:12: duplicate target name "lun0" (first at line 3)`,
				`s.yaml:6:57: phase "p" names unknown target "lun1"; did you mean "lun0"?`,
				`s.yaml:6:69: phase "p" names target "lun0" twice`,
				`s.yaml:7:12: duplicate phase name "p" (first at line 6)`,
				`s.yaml:7:56: targets in phase "p" is empty; name at least one target, or leave it out for all`,
			},
		},
		{
			// A key given twice would silently lose one value.
			name: "duplicate key",
			src: `name: t
targets: [{name: lun0, path: /dev/x}]
phases:
  - name: p
    rw: read
    bs: 4k
    bs: 8k
    duration: 1s
`,
			want: []string{`s.yaml:7:5: duplicate key "bs" in phase "p" (first at line 6)`},
		},
		{
			// Unset variables name the variable and where it is used.
			name: "unset variable",
			src: `name: t
targets:
  - name: lun0
    path: ${LUN}
phases: [{name: p, rw: read, bs: "${BS}", duration: 1s}]
`,
			want: []string{
				`s.yaml:4:11: path in target "lun0": environment variable LUN is not set (set it, or give a default: ${LUN:-value})`,
				`s.yaml:5:34: bs in phase "p": environment variable BS is not set (set it, or give a default: ${BS:-value})`,
			},
		},
		{
			// Criteria: a value without a comparison, an unknown metric,
			// drill-only metrics elsewhere, metrics the phase cannot have.
			name: "criteria",
			src: `name: t
targets: [{name: lun0, path: /dev/x, allow_write: true, criteria: {write_p99: 2ms}}]
phases:
  - name: w
    rw: write
    bs: 4k
    duration: 10s
    expect:
      read_p99: "<= 2ms"
      read_p95: "<= 2ms"
      errors: 0
      iops: "=> 100"
      write_iops: ">="
      write_throughput: ">= fast"
      lost_writes: "== 0"
criteria:
  resume_within: "<= 1s"
  corrupt_blocks: "== 0"
  throughput: [">= 1G"]
`,
			want: []string{
				`s.yaml:2:79: write_p99 in criteria of target "lun0": threshold "2ms" needs a comparison: write "<= 2ms"`,
				`s.yaml:9:7: read_p99 in expect of phase "w": phase "w" (rw: write) does no reads`,
				`s.yaml:10:7: unknown metric "read_p95" in expect of phase "w"; did you mean "read_p90"?`,
				`s.yaml:11:15: errors in expect of phase "w": threshold "0" needs a comparison: write "== 0"`,
				`s.yaml:12:13: iops in expect of phase "w": unknown comparison "=>" (use <=, <, >=, > or ==)`,
				`s.yaml:13:19: write_iops in expect of phase "w": ">=" needs a value after >=, e.g. ">= 0"`,
				`s.yaml:14:25: write_throughput in expect of phase "w": invalid rate "fast" (examples: 200MiB/s, 200M, 1.5GiB/s)`,
				`s.yaml:15:7: lost_writes in expect of phase "w" needs verify: true in phase "w"; without verification nothing counts them`,
				`s.yaml:17:3: resume_within in criteria only applies to a drill; put it in the drill's expect`,
				`s.yaml:18:3: corrupt_blocks in criteria needs a phase with verify: true; without verification nothing counts them`,
				`s.yaml:19:15: throughput in criteria must be a comparison and a value like ">= 200MiB/s", got a list`,
			},
		},
		{
			// Host metrics only in the run's or a target's criteria; a
			// drill's expect only takes what a drill measures.
			name: "metric placement",
			src: `name: t
targets: [{name: lun0, path: /dev/x, criteria: {preflight_errors: "== 0"}}]
defaults: {expect: {preflight_warnings: "== 0"}}
phases:
  - name: p
    rw: read
    bs: 4k
    duration: 10s
    expect: {preflight_errors: "== 0"}
    drills: [{name: d, at: 1s, inject: "true", expect: {read_p99: "<= 2ms", preflight_errors: "== 0", max_stall: "<= 1s"}}]
criteria:
  preflight_errors: "== 0"
`,
			want: []string{
				`s.yaml:3:21: preflight_warnings in expect of defaults is about the host's set-up, not the I/O; put it in the run's or a target's criteria`,
				`s.yaml:9:14: preflight_errors in expect of phase "p" is about the host's set-up, not the I/O; put it in the run's or a target's criteria`,
				`s.yaml:10:57: read_p99 in expect of drill "d" is not measured per drill; a drill's expect takes max_stall, resume_within, throughput_after, errors, max_latency, lost_writes, corrupt_blocks, unreadable_blocks, login_back`,
				`s.yaml:10:77: preflight_errors in expect of drill "d" is not measured per drill; a drill's expect takes max_stall, resume_within, throughput_after, errors, max_latency, lost_writes, corrupt_blocks, unreadable_blocks, login_back`,
			},
		},
		{
			// Drills: timing conflicts, references, circles, past the end.
			name: "drills",
			src: `name: t
targets: [{name: lun0, path: /dev/x}]
phases:
  - name: p
    rw: read
    bs: 4k
    ramp: 5s
    duration: 30s
    drills:
      - {name: a, at: 5s, after: b, inject: x}
      - {name: b, after: c, inject: x}
      - {name: c, after: b, inject: x}
      - {name: d, inject: x}
      - {name: e, at: 35s}
      - {name: f, after: nope, inject: x}
      - {name: g, after: g, inject: x}
      - {name: h, manual: true, at: 1s}
      - {name: a, manual: true, recover: {command: x}, timeout: 0s}
      - {name: i, at: 1s, settle: 2s, inject: x}
      - {name: j, after: i, settle: soon, inject: x}
`,
			want: []string{
				`s.yaml:10:27: drill "a" sets both at and after; set one`,
				`s.yaml:11:26: drills follow each other in a circle: b -> c -> b`,
				`s.yaml:13:9: drill "d" needs at (a time into the phase), after (another drill) or manual: true`,
				`s.yaml:14:9: drill "e" needs inject (the shell command that causes the fault)`,
				`s.yaml:14:23: at in drill "e" (35s) must be before the end of phase "p" (35s: ramp 5s + duration 30s)`,
				`s.yaml:15:26: drill "f" follows unknown drill "nope"; drills of phase "p" are: a, b, c, d, e, g, h, a, i, j`,
				`s.yaml:16:26: drill "g" cannot follow itself`,
				`s.yaml:17:19: drill "h" is manual, so it takes no at or after`,
				`s.yaml:18:16: duplicate drill name "a" in phase "p" (first at line 10)`,
				`s.yaml:18:42: recover of drill "a" needs at`,
				`s.yaml:18:65: timeout in drill "a" must be greater than 0`,
				`s.yaml:19:27: settle in drill "i" only applies to a drill with after: (the wait for I/O to flow again after the earlier drill)`,
				`s.yaml:20:37: settle in drill "j": invalid duration "soon" (examples: 30s, 500ms, 2m, 1h30m)`,
			},
		},
		{
			// defaults: cannot hold per-phase identity, nor unknown keys.
			name: "defaults",
			src: `name: t
targets: [{name: lun0, path: /dev/x}]
defaults:
  name: x
  drills: []
  bs: 4k
  iodepth: 8
phases: [{name: p, rw: read, duration: 1s}]
`,
			want: []string{
				`s.yaml:4:3: "name" cannot be set in defaults; set it in each phase`,
				`s.yaml:5:3: "drills" cannot be set in defaults; set it in each phase`,
				`s.yaml:7:3: unknown key "iodepth" in defaults; did you mean "qd"?`,
			},
		},
		{
			// Open-loop pacing has one spelling per phase.
			name: "rate and rate_iops",
			src: `name: t
targets: [{name: lun0, path: /dev/x}]
phases: [{name: p, rw: read, bs: 4k, duration: 1s, rate: 10MiB/s, rate_iops: 100}]
`,
			want: []string{`s.yaml:3:52: phase "p" sets both rate and rate_iops; set one`},
		},
		{
			// Paths with a NUL byte or a newline (issue 11): the first
			// failed as a runtime error, the second created a file named
			// with a newline.
			name: "control characters in paths",
			src: "name: t\ntargets:\n  - {name: a, path: \"/tmp/a\\0b\"}\n  - {name: b, path: \"/tmp/a\\nb\"}\n" +
				"phases: [{name: p, rw: read, bs: 4k, duration: 1s}]\n",
			want: []string{
				`s.yaml:3:21: path in target "a" contains the control character "\x00" at byte 7; a device or file path has none`,
				`s.yaml:4:21: path in target "b" contains the control character "\n" at byte 7; a device or file path has none`,
			},
		},
		{
			// Hostile rates (issue 11): a vanishing rate used to make the
			// pacer wait forever, a huge one to count billions of missed
			// slots; both are refused with the range in the message. 0
			// (no pacing) and the range's ends are accepted.
			name: "rates out of range",
			src: `name: t
targets: [{name: lun0, path: /dev/x}]
phases:
  - {name: a, rw: read, bs: 4k, duration: 1s, rate_iops: 1e-300}
  - {name: b, rw: read, bs: 4k, duration: 1s, rate_iops: 1e-10}
  - {name: c, rw: read, bs: 4k, duration: 1s, rate_iops: 5e9}
  - {name: d, rw: read, bs: 4k, duration: 1s, rate: 8EiB/s}
  - {name: e, rw: read, bs: 1MiB, duration: 1s, rate: 1KiB/s}
  - {name: f, rw: read, bs: 4k, duration: 1s, rate_iops: 0}
  - {name: g, rw: read, bs: 4k, duration: 1s, rate_iops: 0.1}
  - {name: h, rw: read, bs: 4k, duration: 1s, rate_iops: 10000000}
`,
			want: []string{
				`s.yaml:4:58: rate_iops in phase "a" must be 0 (no pacing) or from 0.1 to 10000000 I/Os per second, got 1e-300`,
				`s.yaml:5:58: rate_iops in phase "b" must be 0 (no pacing) or from 0.1 to 10000000 I/Os per second, got 1e-10`,
				`s.yaml:6:58: rate_iops in phase "c" must be 0 (no pacing) or from 0.1 to 10000000 I/Os per second, got 5e9`,
				`s.yaml:7:53: rate in phase "d" must be 0 (no pacing) or from 409.6B/s to 38.15GiB/s at bs 4KiB (0.1 to 10000000 I/Os per second), got "8EiB/s"`,
				`s.yaml:8:55: rate in phase "e" must be 0 (no pacing) or from 102.4KiB/s to 9.537TiB/s at bs 1MiB (0.1 to 10000000 I/Os per second), got "1KiB/s"`,
			},
		},
		{
			// Top-level values: interval floor, seed sign, on_error enum, merge keys.
			name: "scenario values",
			src: `name: t
seed: -1
interval: 10ms
stall_threshold: 0s
base: &b {rw: read}
targets: [{name: lun0, path: /dev/x}]
phases:
  - <<: *b
    name: p
    bs: 4k
    duration: 1s
    on_error: abort
`,
			want: []string{
				`s.yaml:2:7: seed in the scenario must not be negative, got -1`,
				`s.yaml:3:11: interval in the scenario must be at least 100ms, got 10ms`,
				`s.yaml:4:18: stall_threshold in the scenario must be greater than 0`,
				`s.yaml:5:1: unknown key "base" in the scenario; valid keys are: name, description, seed, interval, stall_threshold, targets, defaults, phases, criteria, hosts, on_host_loss`,
				`s.yaml:8:5: merge keys (<<) are not supported in phase "p"; put settings shared by phases in defaults:`,
				`s.yaml:8:5: phase "p" needs rw (one of read, write, randread, randwrite, randrw, readwrite)`,
				`s.yaml:12:15: unknown on_error "abort" in phase "p"; use one of: continue, stop`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := load(t, tt.src, tt.env)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestProblemCap checks that a file with hundreds of mistakes shows the
// first 50 of them and a count of the rest, not a screenful per mistake.
func TestProblemCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: t\ntargets: [{name: lun0, path: /dev/x}]\nphases:\n")
	for i := range 120 {
		fmt.Fprintf(&b, "  - {name: p%d, rw: read, bs: 3, duration: 1s}\n", i)
	}
	_, err := parse("s.yaml", []byte(b.String()), config{seed: fixedSeed})
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 120 {
		t.Fatalf("want 120 problems, got %v", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != MaxShownProblems+1 || lines[MaxShownProblems] != "and 70 more" {
		t.Fatalf("Error() has %d lines, last %q; want %d and \"and 70 more\"", len(lines), lines[len(lines)-1], MaxShownProblems+1)
	}
	if !strings.HasPrefix(lines[0], "s.yaml:4:") {
		t.Errorf("first line %q, want the first problem in file order", lines[0])
	}
}

// TestAliasBomb checks that anchors referencing anchors cannot make the
// loader do unbounded work: 200 phases of 100 drills each, from a few lines.
func TestAliasBomb(t *testing.T) {
	src := "name: t\ntargets: [{name: lun0, path: /dev/x}]\n" +
		"d: &d {name: d, at: 1s, inject: x}\n" +
		"p: &p {name: p, rw: read, bs: 4k, duration: 1s, drills: [" + strings.Repeat("*d, ", 99) + "*d]}\n" +
		"phases: [" + strings.Repeat("*p, ", 199) + "*p]\n"
	_, probs := load(t, src, nil)
	want := "too many alias (*name) references; the file may reference at most 10000"
	if !slices.ContainsFunc(probs, func(p string) bool { return strings.HasSuffix(p, want) }) {
		t.Errorf("problems %q..., want %q among them", probs[:min(len(probs), 5)], want)
	}
}

func TestDefaults(t *testing.T) {
	src := `name: d
targets:
  - {name: lun0, path: /dev/x, allow_write: true}
  - {name: lun1, path: /dev/y, allow_write: true}
defaults:
  bs: 8k
  duration: 20s
  read_pct: 60%
  expect: {errors: "== 0", read_p99: "<= 5ms", write_p99: "<= 9ms", lost_writes: "== 0"}
phases:
  - {name: r, rw: randread}
  - {name: w, rw: write, bs: 1M, targets: [lun1], expect: {errors: "<= 1"}}
  - {name: mix, rw: randrw, qd: 4, verify: true}
  - {name: mix50, rw: readwrite, read_pct: 50, bytes: 1G, duration: 0}
  - name: drill
    rw: randread
    drills: [{name: x, at: 1s, inject: "true", expect: {max_stall: "<= 1s"}}]
`
	s, probs := load(t, src, nil)
	if probs != nil {
		t.Fatal(strings.Join(probs, "\n"))
	}
	if s.Seed != 4242 || s.Interval != time.Second || s.StallThreshold != 500*time.Millisecond {
		t.Errorf("scenario defaults: seed %d interval %v stall %v", s.Seed, s.Interval, s.StallThreshold)
	}
	type want struct {
		bs       int64
		qd       int
		readPct  int
		dur      time.Duration
		bytes    int64
		targets  []string
		criteria []string
	}
	wants := map[string]want{
		// Everything from defaults; read_pct skips non-mixes; write rules skip readers.
		"r": {8192, 1, 100, 20 * time.Second, 0, []string{"lun0", "lun1"}, []string{"errors == 0", "read_p99 <= 5ms"}},
		// Own bs and targets; its errors rule overrides the default one.
		"w": {1 << 20, 1, 0, 20 * time.Second, 0, []string{"lun1"}, []string{"errors <= 1", "write_p99 <= 9ms"}},
		// A mix takes read_pct from defaults; verify lets lost_writes in.
		"mix": {8192, 4, 60, 20 * time.Second, 0, []string{"lun0", "lun1"},
			[]string{"errors == 0", "read_p99 <= 5ms", "write_p99 <= 9ms", "lost_writes == 0"}},
		// duration: 0 drops the default duration; bytes bounds it.
		"mix50": {8192, 1, 50, 0, 1 << 30, []string{"lun0", "lun1"}, []string{"errors == 0", "read_p99 <= 5ms", "write_p99 <= 9ms"}},
		// Drill expect stays with the drill.
		"drill": {8192, 1, 100, 20 * time.Second, 0, []string{"lun0", "lun1"}, []string{"errors == 0", "read_p99 <= 5ms"}},
	}
	for _, p := range s.Phases {
		w := wants[p.Name]
		var crit []string
		for _, c := range s.Criteria {
			if c.Phase == p.Name {
				crit = append(crit, c.Text)
			}
		}
		if p.BS != w.bs || p.QD != w.qd || p.ReadPct != w.readPct || p.Duration != w.dur || p.Bytes != w.bytes ||
			!slices.Equal(p.Targets, w.targets) || !slices.Equal(crit, w.criteria) || p.OnError != Continue {
			t.Errorf("phase %s: bs %d qd %d read %d dur %v bytes %d targets %v criteria %q on_error %s",
				p.Name, p.BS, p.QD, p.ReadPct, p.Duration, p.Bytes, p.Targets, crit, p.OnError)
		}
	}
	dr := s.Phases[4].Drills[0]
	if dr.Timeout != 60*time.Second || len(dr.Expect) != 1 || dr.Expect[0].Phase != "drill" || dr.Expect[0].Threshold != 1 {
		t.Errorf("drill: %+v", dr)
	}
}

func TestCriteriaValues(t *testing.T) {
	src := `name: c
targets: [{name: lun0, path: /dev/x, allow_write: true, criteria: {read_p99: "<=5ms"}}]
phases:
  - name: p
    rw: randrw
    bs: 4k
    duration: 1m
    verify: true
    drills: [{name: d, manual: true, expect: {throughput_after: ">= 90%", resume_within: "< 1.5s"}}]
criteria:
  read_iops: ">= 20000"
  throughput: "> 200MiB/s"
  errors: "== 0"
  lost_writes: "== 0"
  preflight_errors: "== 0"
`
	s, probs := load(t, src, map[string]string{})
	if probs != nil {
		t.Fatal(strings.Join(probs, "\n"))
	}
	type row struct {
		phase, target, drill, text string
		cmp                        Cmp
		threshold                  float64
	}
	var got []row
	for _, c := range append(slices.Clone(s.Criteria), s.Phases[0].Drills[0].Expect...) {
		got = append(got, row{c.Phase, c.Target, c.Drill, c.Text, c.Cmp, c.Threshold})
	}
	want := []row{
		{"", "", "", "read_iops >= 20000", GE, 20000},        // count
		{"", "", "", "throughput > 200MiB/s", GT, 200 << 20}, // bytes per second
		{"", "", "", "errors == 0", EQ, 0},                   // equality
		{"", "", "", "lost_writes == 0", EQ, 0},              // allowed: a phase verifies
		{"", "", "", "preflight_errors == 0", EQ, 0},         // host metric, run-wide
		{"", "lun0", "", "read_p99 <= 5ms", LE, 0.005},       // seconds, normalised spacing
		{"p", "", "d", "throughput_after >= 90%", GE, 0.9},   // fraction, named by its drill
		{"p", "", "d", "resume_within < 1.5s", LT, 1.5},      // drill metric
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("criteria:\n%v\nwant\n%v", got, want)
	}
}

func TestRandomSeed(t *testing.T) {
	src := "name: s\ntargets: [{name: a, path: /x}]\nphases: [{name: p, rw: read, bs: 4k, duration: 1s}]\n"
	s, err := Parse("s.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Seed == 0 {
		t.Error("seed 0 was not replaced")
	}
	s, err = Parse("s.yaml", []byte(src+"seed: 7\n"), nil)
	if err != nil || s.Seed != 7 {
		t.Errorf("explicit seed: %v, %v", s, err)
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mine.yaml")
	src := "name: mine\ntargets: [{name: a, path: /x}]\nphases: [{name: p, rw: read, bs: 4k, duration: 1s}]\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Resolve(file, nil)
	if err != nil || s.Name != "mine" || s.Source != file || s.Builtin {
		t.Fatalf("file: %+v, %v", s, err)
	}
	s, err = Resolve("acceptance", nil)
	if err != nil || s.Name != "acceptance" || s.Source != "builtin:acceptance" || !s.Builtin {
		t.Fatalf("builtin: %+v, %v", s, err)
	}
	_, err = Resolve(filepath.Join(dir, "nope.yaml"), nil)
	var ve *ValidationError
	want := filepath.Join(dir, "nope.yaml") + ": no such file, and no built-in scenario of that name; built-ins are: acceptance, failover-drill, quickstart"
	if !errors.As(err, &ve) || err.Error() != want {
		t.Errorf("missing: %v\nwant %s", err, want)
	}
	_, err = Resolve(dir, nil)
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	if _, err := LoadBuiltin("../quickstart", nil); !errors.As(err, &ve) {
		t.Errorf("path-like builtin name: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "nope.yaml"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestCheckBlockSize(t *testing.T) {
	tests := []struct {
		bs, logical int64
		want        string
	}{
		{4096, 512, ""},     // 4k on a 512e device
		{4096, 4096, ""},    // 4k on 4Kn
		{1 << 20, 4096, ""}, // large on 4Kn
		{512, 4096, `phase "p": bs 512B is not a multiple of the device's logical block size 4KiB; use bs: 4KiB or a multiple`},  // too small for 4Kn
		{6144, 4096, `phase "p": bs 6KiB is not a multiple of the device's logical block size 4KiB; use bs: 4KiB or a multiple`}, // not a multiple
		{4096, 0, `phase "p": invalid logical block size 0`},                                                                     // nonsense from the caller
	}
	for _, tt := range tests {
		err := Phase{Name: "p", BS: tt.bs}.CheckBlockSize(tt.logical)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("CheckBlockSize(bs %d, logical %d) = %q, want %q", tt.bs, tt.logical, got, tt.want)
		}
	}
}

// TestLoadFileLimits checks what Load and LoadReader refuse before
// parsing: a device that never ends, and files past MaxFileSize.
func TestLoadFileLimits(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("#", MaxFileSize+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	tooBig := "the scenario is larger than 4MiB; a scenario file is a few KiB of YAML"
	tests := []struct {
		name string
		load func() (*Scenario, error)
		want string // the one problem, "" for a scenario that loads
	}{
		// /dev/zero used to be read until memory ran out.
		{"dev zero", func() (*Scenario, error) { return Load("/dev/zero", nil) },
			"/dev/zero: a character device, not a regular file; a scenario is a YAML file, or - to read it from stdin"},
		// A regular file one byte past the cap.
		{"big file", func() (*Scenario, error) { return Load(big, nil) }, big + ": " + tooBig},
		// Endless stdin stops at the cap.
		{"endless stdin", func() (*Scenario, error) { return LoadReader("stdin", zeroReader{}, nil) }, "stdin: " + tooBig},
		// A small scenario on stdin loads.
		{"stdin", func() (*Scenario, error) {
			return LoadReader("stdin", strings.NewReader("name: t\ntargets: [{name: a, path: /x}]\nphases: [{name: p, rw: read, bs: 4k, duration: 1s}]\n"), nil)
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.load()
			if tt.want == "" {
				if err != nil || s == nil {
					t.Fatalf("want a scenario, got %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].String() != tt.want {
				t.Fatalf("got %v, want the problem %q", err, tt.want)
			}
		})
	}
}

// zeroReader never ends, like /dev/zero.
type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) { clear(b); return len(b), nil }
