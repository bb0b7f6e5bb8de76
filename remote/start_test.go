package remote

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lunbench/report"
)

// TestInProcessAgents: the in-process transport (agents as goroutines over
// pipes) runs the same protocol to the same results.
func TestInProcessAgents(t *testing.T) {
	d := diskDir(t)
	sc := parse(t, `name: inproc
hosts: [{name: h1}, {name: h2}]
targets:
  - {name: a, path: `+filepath.Join(d, "a.dat")+`, size: 4MiB, host: h1}
  - {name: b, path: `+filepath.Join(d, "b.dat")+`, size: 4MiB, host: h2}
phases:
  - {name: p, rw: randread, bs: 4k, qd: 1, rate_iops: 200, duration: 1s}
`)
	tr := &InProcess{Options: func(Host) AgentOptions { return AgentOptions{Version: report.Version} }}
	dir := filepath.Join(t.TempDir(), "res")
	out, err := Run(context.Background(), Options{Scenario: sc, Dir: dir, Transport: func(Host) Transport { return tr }, Version: report.Version, NoRender: true})
	if err != nil {
		t.Fatal(err)
	}
	if out.Run.Status != "finished" || len(out.Run.Phases) != 2 {
		t.Fatalf("run %s, phases %+v", out.Run.Status, out.Run.Phases)
	}
	for _, p := range out.Run.Phases {
		// 200 IOPS paced for 1 s, on a loaded machine: most of them.
		if p.Ops < 100 {
			t.Errorf("%s: %d ops", p.Target, p.Ops)
		}
	}
}

// TestHostFailsToStart: a host whose target cannot be opened fails the
// run before anything is written, naming the host; the other host's
// agent, already started, is ended.
func TestHostFailsToStart(t *testing.T) {
	d := diskDir(t)
	sc := parse(t, `name: nostart
hosts: [{name: good}, {name: bad}]
targets:
  - {name: a, path: `+filepath.Join(d, "a.dat")+`, size: 4MiB, host: good}
  - {name: b, path: `+filepath.Join(d, "missing", "b.dat")+`, host: bad}
phases:
  - {name: p, rw: randread, bs: 4k, duration: 1s}
`)
	rec := &recording{t: t, s: map[string]*procSession{}}
	dir := filepath.Join(t.TempDir(), "res")
	_, err := Run(context.Background(), Options{Scenario: sc, Dir: dir, Transport: rec.transport, Version: report.Version, NoRender: true})
	if err == nil || !strings.Contains(err.Error(), "host bad") || !strings.Contains(err.Error(), "missing/b.dat") {
		t.Fatalf("error %v, want one naming host bad and its path", err)
	}
	if _, serr := os.Stat(dir); !os.IsNotExist(serr) {
		t.Errorf("results directory exists after a failed start: %v", serr)
	}
	good := rec.session("good")
	for deadline := time.Now().Add(5 * time.Second); good != nil && alive(good.PID()) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if good == nil || alive(good.PID()) {
		t.Errorf("the good host's agent was not ended")
	}
}
