package remote

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lunbench/report"
	"lunbench/scenarios/lab/stallbox"
)

// stallBox is scenarios/lab/stallbox.sh's box: a loop device over a FUSE
// mount whose I/O a drill freezes (pause) and releases (resume).
type stallBox struct{ script, dir, dev string }

func newStallBox(t *testing.T) *stallBox {
	t.Helper()
	b := stallbox.New(t, 32)
	return &stallBox{script: b.Script, dir: b.Dir, dev: b.Dev}
}

// TestDrillOnOneHost: a drill with on: h1 freezes h1's device for 1.5 s;
// its command runs on h1's agent (not the coordinator), h1 stalls for the
// pause, and h2 keeps doing I/O all along. The merged drill shows both
// hosts' targets side by side.
func TestDrillOnOneHost(t *testing.T) {
	box := newStallBox(t)
	d := diskDir(t)
	marker := filepath.Join(d, "who")
	sc := parse(t, `name: drill
stall_threshold: 300ms
hosts: [{name: h1}, {name: h2}]
targets:
  - {name: frozen, path: `+box.dev+`, host: h1}
  - {name: steady, path: `+filepath.Join(d, "b.dat")+`, size: 16MiB, host: h2}
phases:
  - name: p
    rw: randread
    bs: 4k
    qd: 4
    duration: 5s
    drills:
      - name: pull
        on: h1
        at: 1500ms
        inject: "echo $LB17C_WHO > `+marker+`; `+box.script+` pause `+box.dir+`"
        recover: {command: "`+box.script+` resume `+box.dir+`", at: 1500ms}
`)
	// Each agent knows its host's name in its environment; the
	// coordinator does not.
	tr := func(h Host) Transport {
		return &Local{Path: os.Args[0], Env: []string{agentEnv + "=1", "LB17C_WHO=" + h.Name}, Stderr: testLog{t, h.Name}}
	}
	dir := filepath.Join(t.TempDir(), "res")
	out, err := Run(context.Background(), Options{Scenario: sc, Dir: dir, Transport: tr, Version: report.Version, NoRender: true})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(marker); strings.TrimSpace(string(b)) != "h1" {
		t.Errorf("inject ran where LB17C_WHO=%q, want on h1's agent", b)
	}
	if len(out.Run.Drills) != 1 {
		t.Fatalf("drills %+v", out.Run.Drills)
	}
	dr := out.Run.Drills[0]
	if !dr.Injected || dr.Inject == nil || !dr.Inject.OK() || dr.Recover == nil || !dr.Recover.OK() {
		t.Fatalf("drill commands: %+v", dr)
	}
	got := map[string]bool{}
	for _, tg := range dr.Targets {
		got[tg.Target] = tg.Stalled
		t.Logf("target %s: stalled %v for %v, resumed %v after the inject", tg.Target, tg.Stalled, tg.Stall, tg.Resume)
		if tg.Target == "frozen" {
			// The device was frozen from some moment of the inject
			// command to some moment of the recover command: the stall
			// lies between those bounds, give or take the I/O in flight
			// (a loaded machine delays the commands, not the bounds).
			lo := dr.Recover.Start.Sub(dr.Inject.End) - 100*time.Millisecond
			hi := dr.Recover.End.Sub(dr.Inject.Start) + 200*time.Millisecond
			if tg.Stall < lo || tg.Stall > hi {
				t.Errorf("frozen stalled %v; the device was frozen between %v and %v", tg.Stall, lo, hi)
			}
		}
	}
	if !got["frozen"] || got["steady"] {
		t.Errorf("stalled by target: %v; want frozen only", got)
	}
	// h2 did I/O in every interval, the pause's included.
	rows, err := report.ReadIntervals(filepath.Join(dir, "hosts", "h2"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Ops == 0 {
			t.Errorf("h2 stopped during h1's drill: interval %v..%v has no I/O", r.Start, r.End)
		}
	}
	if len(rows) < 4 {
		t.Errorf("h2 has %d intervals", len(rows))
	}
}
