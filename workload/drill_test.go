package workload

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lunbench/scenarios"
	"lunbench/workload/verify"
)

// fakeCommands records the commands it is asked to run and "runs" each for
// the time its text names after "sleep " (0 otherwise), failing with exit
// status 3 when the text contains "fail".
type fakeCommands struct {
	mu  sync.Mutex
	ran []string
}

func (f *fakeCommands) Run(ctx context.Context, command string, timeout time.Duration, out string) CommandResult {
	f.mu.Lock()
	f.ran = append(f.ran, command)
	f.mu.Unlock()
	res := CommandResult{Start: time.Now()}
	var d time.Duration
	if _, rest, ok := strings.Cut(command, "sleep "); ok {
		d, _ = time.ParseDuration(strings.Fields(rest)[0])
	}
	select {
	case <-time.After(min(d, timeout)):
		if d > timeout {
			res.TimedOut, res.Err, res.ExitCode = true, "timed out", -1
		}
	case <-ctx.Done():
		res.Err, res.ExitCode = "killed: the run stopped", -1
	}
	if strings.Contains(command, "fail") {
		res.ExitCode = 3
	}
	res.End = time.Now()
	res.Dur = res.End.Sub(res.Start)
	return res
}

type eventLog struct {
	mu sync.Mutex
	ev []Event
}

func (l *eventLog) Event(e Event) { l.mu.Lock(); l.ev = append(l.ev, e); l.mu.Unlock() }

func (l *eventLog) details(kind EventKind) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.ev {
		if e.Kind == kind {
			out = append(out, e.Detail)
		}
	}
	return out
}

func drillScenario(t *testing.T, drills string) *scenarios.Scenario {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.dat")
	src := fmt.Sprintf(`
name: drills
interval: 250ms
targets: [{name: f, path: %s, size: 4MiB}]
phases:
  - name: load
    rw: randread
    bs: 4k
    qd: 2
    rate_iops: 2000
    duration: 1500ms
    drills:
%s`, path, drills)
	sc, err := scenarios.Parse("test.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestDrillScheduling runs a phase's drills with a fake command runner and
// checks when and in what order each was injected and recovered.
func TestDrillScheduling(t *testing.T) {
	sc := drillScenario(t, `
      - {name: first, at: 200ms, inject: "inject-first", recover: {command: "recover-first", at: 300ms}}
      - {name: second, after: first, settle: 100ms, inject: "inject-second sleep 100ms fail"}
      - {name: hang, at: 100ms, inject: "sleep 10s", timeout: 200ms}
      - {name: cable, manual: true}
      - {name: unmarked, manual: true, inject: "never"}
      - {name: pending, at: 1300ms, inject: "inject-pending", recover: {command: "recover-pending", at: 5s}}
`)
	cmds := &fakeCommands{}
	log := &eventLog{}
	r, err := NewRunner(sc, Options{Commands: cmds}, log)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(900 * time.Millisecond)
		r.Mark("test mark")
	}()
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]DrillResult{}
	for _, d := range res.Drills {
		got[d.Name] = d
	}
	if len(got) != 6 {
		t.Fatalf("%d drill results: %+v", len(res.Drills), res.Drills)
	}
	start := res.Phases[0].Start
	off := func(name string) time.Duration { return got[name].InjectAt.Sub(start) }
	// A drill is never early, but on a loaded 2-core machine the runner's
	// goroutines can be scheduled late: late is how late still counts as
	// on time (well below the gaps between the drills' moments).
	const late = 250 * time.Millisecond
	tests := []struct {
		name     string
		injected bool
		from, to time.Duration // expected inject offset into the phase
		check    func(d DrillResult) string
	}{
		// at: 200ms, recovered 300 ms after the inject.
		{"first", true, 180 * time.Millisecond, 200*time.Millisecond + late, func(d DrillResult) string {
			if d.Recover == nil || !d.Recover.OK() {
				return "recover did not run"
			}
			if g := d.RecoverAt.Sub(d.InjectAt); g < 290*time.Millisecond || g > 300*time.Millisecond+late {
				return fmt.Sprintf("recovered %v after inject, want 300ms", g)
			}
			return ""
		}},
		// after first: injected once I/O flowed for the settle time
		// (100 ms) after first's recovery (at 500 ms).
		{"second", true, 590 * time.Millisecond, 600*time.Millisecond + late, func(d DrillResult) string {
			if d.Inject == nil || d.Inject.ExitCode != 3 {
				return fmt.Sprintf("inject result %+v, want exit status 3", d.Inject)
			}
			return ""
		}},
		// A hanging command is killed at its timeout and recorded.
		{"hang", true, 80 * time.Millisecond, 100*time.Millisecond + late, func(d DrillResult) string {
			if d.Inject == nil || !d.Inject.TimedOut {
				return fmt.Sprintf("inject result %+v, want timed out", d.Inject)
			}
			return ""
		}},
		// Manual: injected at the operator's (one) mark.
		{"cable", true, 850 * time.Millisecond, 900*time.Millisecond + late, nil},
		// A second manual drill, never marked: never injected.
		{"unmarked", false, 0, 0, nil},
		// Its recovery was due after the phase: it ran at the phase's end.
		{"pending", true, 1280 * time.Millisecond, 1300*time.Millisecond + late, func(d DrillResult) string {
			if d.Recover == nil {
				return "pending recovery did not run at the phase's end"
			}
			if g := d.RecoverAt.Sub(d.InjectAt); g > time.Second {
				return fmt.Sprintf("recovered %v after inject, want at the phase end (~200ms)", g)
			}
			return ""
		}},
	}
	for _, tt := range tests {
		d := got[tt.name]
		if d.Injected != tt.injected {
			t.Errorf("%s: injected %v, want %v", tt.name, d.Injected, tt.injected)
			continue
		}
		if !tt.injected {
			continue
		}
		if o := off(tt.name); o < tt.from || o > tt.to {
			t.Errorf("%s: injected %v into the phase, want %v..%v", tt.name, o, tt.from, tt.to)
		}
		if tt.check != nil {
			if msg := tt.check(d); msg != "" {
				t.Errorf("%s: %s", tt.name, msg)
			}
		}
		if len(d.Targets) != 1 || (d.InjectAt.Sub(start) > 300*time.Millisecond && d.Targets[0].Before <= 0) {
			t.Errorf("%s: target timings %+v, want throughput before the inject", tt.name, d.Targets)
		}
	}
	for _, c := range cmds.ran {
		if c == "never" {
			t.Error("the unmarked drill's command ran")
		}
	}
	if n := len(log.details(EvDrillInject)); n != 5 {
		t.Errorf("%d drill_inject events, want 5", n)
	}
	if n := len(log.details(EvDrillMark)); n != 1 {
		t.Errorf("%d drill_mark events, want 1", n)
	}
}

// TestShellRunner runs real commands: output saved, exit status, a
// timeout that kills the command's whole process group.
func TestShellRunner(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		cmd      string
		timeout  time.Duration
		exit     int
		timeout_ bool
		out      string
	}{
		// Output and exit status are kept.
		{"ok", "echo hello; echo oops >&2", time.Second, 0, false, "hello\noops\n"},
		// A failing command reports its status.
		{"fail", "exit 7", time.Second, 7, false, ""},
		// A grandchild that sleeps is killed with its group at the timeout.
		{"hang", "sleep 30 & sleep 30", 300 * time.Millisecond, -1, true, ""},
	}
	for _, tt := range tests {
		out := filepath.Join(dir, tt.name+".log")
		t0 := time.Now()
		res := ShellRunner{}.Run(context.Background(), tt.cmd, tt.timeout, out)
		if res.ExitCode != tt.exit || res.TimedOut != tt.timeout_ {
			t.Errorf("%s: %+v, want exit %d timed out %v", tt.name, res, tt.exit, tt.timeout_)
		}
		if took := time.Since(t0); took > 5*time.Second {
			t.Errorf("%s: took %v", tt.name, took)
		}
		if b, _ := os.ReadFile(out); tt.out != "" && string(b) != tt.out {
			t.Errorf("%s: output %q, want %q", tt.name, b, tt.out)
		}
	}
}

// TestWorstSecond checks the throughput figures drills are measured with.
func TestWorstSecond(t *testing.T) {
	ms := int64(time.Millisecond)
	mk := func(bytes ...uint64) []tickSample {
		var ts []tickSample
		for i, b := range bytes {
			ts = append(ts, tickSample{start: int64(i) * 250 * ms, end: int64(i+1) * 250 * ms, bytes: b})
		}
		return ts
	}
	tests := []struct {
		name string
		ts   []tickSample
		a, b int64
		want float64
	}{
		// Steady 1 MB per tick is 4 MB/s in every second.
		{"steady", mk(1e6, 1e6, 1e6, 1e6, 1e6, 1e6), 0, 1500 * ms, 4e6},
		// A second of nothing in the middle.
		{"stall", mk(1e6, 1e6, 0, 0, 0, 0, 1e6, 1e6), 0, 2000 * ms, 0},
		// Shorter than a second: the whole span.
		{"short", mk(1e6, 2e6), 0, 500 * ms, 6e6},
		// A verify pass held the workers for 2 s between two ticks: the
		// pause is not a second without I/O.
		{"pause", append(mk(1e6, 1e6), tickSample{start: 2500 * ms, end: 2750 * ms, bytes: 1e6}, tickSample{start: 2750 * ms, end: 3000 * ms, bytes: 1e6}), 0, 3000 * ms, 4e6},
	}
	for _, tt := range tests {
		if got := worstSecond(tt.ts, tt.a, tt.b); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// BenchmarkVerifiedWrite is the part of a verified 4 KiB write that runs
// on the I/O path besides the system call: stamp every sector with the
// unit's next generation, then acknowledge it in the map. It allocates
// nothing.
func BenchmarkVerifiedWrite(b *testing.B) {
	path := filepath.Join(b.TempDir(), "t.dat")
	sc, err := scenarios.Parse("b.yaml", []byte("name: b\ntargets: [{name: f, path: "+path+", size: 64MiB, allow_write: true}]\nphases: [{name: w, rw: randwrite, bs: 4k, qd: 1, duration: 1s, verify: true}]\n"), nil)
	if err != nil {
		b.Fatal(err)
	}
	r, err := NewRunner(sc, Options{}, &eventLog{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	if err := r.setupVerify(); err != nil {
		b.Fatal(err)
	}
	t := r.targets[0]
	w := &worker{bs: 4096, buf: make([]byte, 4096), vmap: t.vmap, unit: t.vmap.Header().Unit, stamper: verify.NewStamper(r.runID),
		gens: make([]uint32, 1), clock: r.clock}
	offs := NewRandOffsets(WorkerRNG(1, 0, 0, 0), 0, 64<<20, 4096)
	b.SetBytes(4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		off := offs.Next()
		w.stampVerified(off)
		w.ackVerified(off)
	}
}

// TestShellRunnerShown runs an expanded command whose text came from a
// variable (the failover-drill built-in's INJECT='...'): quotes and && in
// it must work as they did when the text was given to sh -c, while the
// command line shows only the command as written.
func TestShellRunnerShown(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.log")
	res := ShellRunner{}.RunShown(context.Background(), `printf '%s\n' "a b" && echo "$0" # x`+"\n"+`echo c`, "${INJECT}\nsecond line", 10*time.Second, out)
	if !res.OK() {
		t.Fatalf("command failed: %s", res.Describe())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// "$0" is the shell; the newline in shown did not end the comment
	// early (it would have run "second line" as a command and failed).
	if got := string(b); got != "a b\n/bin/sh\nc\n" {
		t.Fatalf("output %q", got)
	}
}
