package remote

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lunbench/report"
	"lunbench/workload"
)

// recording starts local agents and keeps their sessions, so a test can
// kill one.
type recording struct {
	t  *testing.T
	mu sync.Mutex
	s  map[string]*procSession
}

func (r *recording) transport(h Host) Transport { return r }

func (r *recording) Start(ctx context.Context, h Host, args []string) (Session, error) {
	l := &Local{Path: os.Args[0], Env: []string{agentEnv + "=1"}}
	if r.t != nil {
		l.Stderr = testLog{r.t, h.Name}
	}
	s, err := l.Start(ctx, h, args)
	if err == nil {
		r.mu.Lock()
		r.s[h.Name] = s.(*procSession)
		r.mu.Unlock()
	}
	return s, err
}

func (r *recording) session(name string) *procSession {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.s[name]
}

// TestHostLost kills one agent process (SIGKILL) mid-run: the loss is an
// event, the results say where that host's data ends, and the other host
// goes on (on_host_loss: continue) or is stopped (stop).
func TestHostLost(t *testing.T) {
	for _, c := range []struct {
		policy string
		// the survivor's status, and whether the run ends well before the
		// phase's 4 s
		survivor string
		early    bool // the run ends well before the phase's 6 s
	}{
		// continue: the survivor runs its phase out.
		{"continue", "finished", false},
		// stop: the survivor is interrupted at once.
		{"stop", "interrupted", true},
	} {
		t.Run(c.policy, func(t *testing.T) {
			d := diskDir(t)
			sc := parse(t, `name: loss
on_host_loss: `+c.policy+`
hosts: [{name: keep}, {name: doomed}]
targets:
  - {name: a, path: `+filepath.Join(d, "a.dat")+`, size: 4MiB, host: keep}
  - {name: b, path: `+filepath.Join(d, "b.dat")+`, size: 4MiB, host: doomed}
phases:
  - {name: p, rw: randread, bs: 4k, qd: 1, rate_iops: 500, duration: 6s}
`)
			rec := &recording{t: t, s: map[string]*procSession{}}
			killed := make(chan time.Time, 1)
			started := make(chan time.Time, 1)
			status := func(s string) {
				if strings.HasPrefix(s, "phase p started") {
					started <- time.Now()
				}
			}
			go func() {
				// Kill 2.5 s into the phase: its intervals are 1 s, so
				// two have reached the coordinator even on a loaded
				// machine.
				t0 := <-started
				time.Sleep(2500 * time.Millisecond)
				rec.session("doomed").Kill()
				killed <- time.Now()
				started <- t0
			}()
			dir := filepath.Join(t.TempDir(), "res")
			out, err := Run(context.Background(), Options{Scenario: sc, Dir: dir, Transport: rec.transport, Version: report.Version, NoRender: true, Status: status})
			if err != nil {
				t.Fatal(err)
			}
			end := time.Now()
			kill := <-killed
			took := end.Sub(<-started)
			hosts := map[string]HostSummary{}
			for _, h := range out.Hosts {
				hosts[h.Name] = h
			}
			lost := hosts["doomed"]
			if lost.Status != "lost" || lost.DataEnd.IsZero() || lost.DataEnd.After(kill) || kill.Sub(lost.DataEnd) > 2*time.Second {
				t.Errorf("lost host: %+v (killed at %v)", lost, kill)
			}
			if s := hosts["keep"].Status; s != c.survivor {
				t.Errorf("survivor status %s, want %s", s, c.survivor)
			}
			if out.Run.Status != "failed" {
				t.Errorf("run status %s: a lost host leaves the run incomplete", out.Run.Status)
			}
			// From the phase's start: stopped at 2.5 s plus a drain, or
			// the whole 6 s.
			if c.early != (took < 5*time.Second) {
				t.Errorf("run ended %v after the phase started (early end expected: %v)", took, c.early)
			}
			evs, _ := report.ReadEvents(dir)
			var ev *workload.Event
			for i, e := range evs {
				if e.Kind == workload.EvHostLost {
					ev = &evs[i]
				}
			}
			if ev == nil || ev.Host != "doomed" {
				t.Fatalf("no host_lost event for doomed: %+v", evs)
			}
			t.Logf("%s", ev.Detail)
			// The lost host's own results stop at its last interval.
			run, err := report.ReadRun(filepath.Join(dir, "hosts", "doomed"))
			if err != nil || run.Status != "lost" || !run.End.Equal(lost.DataEnd) {
				t.Errorf("hosts/doomed/run.json: status %s, end %v (data end %v), %v", run.Status, run.End, lost.DataEnd, err)
			}
		})
	}
}
