package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"lunbench/workload"
)

const (
	fpSession4 = "/sys/devices/platform/host11/session4"
	fpSdg      = fpSession4 + "/target11:0:0/11:0:0:12"
)

// TestWatcherEvents changes the four-path fixture between polls the way a
// failover drill changes sysfs, and checks the events, as they would be
// written to events.jsonl, against a golden file.
func TestWatcherEvents(t *testing.T) {
	root := fixture(t, "fourpath")
	w := NewWatcher(Host{Root: root}, "/dev/mapper/hydra_db-a02")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if evs := w.Poll(t0); len(evs) != 0 {
		t.Fatalf("first poll gave %v, want a baseline only", evs)
	}
	rm := func(p string) {
		if err := os.Remove(filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name   string
		change func()
	}{
		// Nothing changed: no event.
		{"quiet", func() {}},
		// The portal behind session4 stops answering: the session fails,
		// its connection too, and the SCSI device goes transport-offline.
		{"session fails", func() {
			setAttr(t, root, fpSession4+"/iscsi_session/session4/state", "FAILED")
			setAttr(t, root, fpSession4+"/connection4:0/iscsi_connection/connection4:0/state", "failed")
			setAttr(t, root, fpSdg+"/state", "transport-offline")
		}},
		// The path is removed (iscsiadm logout, or dev_loss): the map
		// loses it.
		{"path removed", func() {
			rm("/sys/devices/virtual/block/dm-4/slaves/sdg")
			rm("/sys/class/block/sdg")
		}},
		// The session logs back in.
		{"session back", func() {
			setAttr(t, root, fpSession4+"/iscsi_session/session4/state", "LOGGED_IN")
			setAttr(t, root, fpSession4+"/connection4:0/iscsi_connection/connection4:0/state", "up")
		}},
		// The map itself is flushed (multipath -f): the target is gone.
		{"map removed", func() {
			rm("/sys/class/block/dm-4")
		}},
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	for i, st := range steps {
		st.change()
		for _, e := range w.Poll(t0.Add(time.Duration(i+1) * WatchEvery)) {
			if err := enc.Encode(e); err != nil {
				t.Fatal(err)
			}
		}
	}
	golden(t, "events.jsonl", out.Bytes())
}

type eventRecorder struct {
	mu  sync.Mutex
	evs []workload.Event
}

func (r *eventRecorder) Event(e workload.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, e)
}

func (r *eventRecorder) events() []workload.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]workload.Event(nil), r.evs...)
}

// TestWatcherRun checks the polling loop's timing in a synctest bubble: a
// change made just after a poll is reported by the next one, stamped with
// that poll's time.
func TestWatcherRun(t *testing.T) {
	root := fixture(t, "fourpath")
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		var rec eventRecorder
		done := make(chan struct{})
		go func() {
			NewWatcher(Host{Root: root}, "hydra_db-a02").Run(ctx, WatchEvery, &rec)
			close(done)
		}()
		time.Sleep(WatchEvery + time.Millisecond) // baseline and one quiet poll
		synctest.Wait()
		if evs := rec.events(); len(evs) != 0 {
			t.Fatalf("events before any change: %v", evs)
		}
		setAttr(t, root, fpSdg+"/state", "blocked")
		time.Sleep(WatchEvery)
		synctest.Wait()
		evs := rec.events()
		if len(evs) != 2 || evs[1].Kind != workload.EvPathState || evs[1].Detail != "sdg running→blocked" {
			t.Fatalf("events = %+v, want a map change and sdg running→blocked", evs)
		}
		if got := evs[1].Time.Sub(start); got != 2*WatchEvery {
			t.Errorf("event stamped %v after start, want %v", got, 2*WatchEvery)
		}
		cancel()
		<-done
	})
}

// BenchmarkWatcherPoll polls the two-map, eight-path fixture, a full
// topology read every rebuildEvery polls included; a run polls four times
// a second, so %core is cpu-ns/op × 4 ÷ 10^7.
func BenchmarkWatcherPoll(b *testing.B) {
	w := NewWatcher(Host{Root: fixture(b, "fourpath")})
	now := time.Now()
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		now = now.Add(WatchEvery)
		w.Poll(now)
	}
	cpuPerOp := float64(cpuTime(b)-cpu0) / float64(b.N)
	b.ReportMetric(cpuPerOp, "cpu-ns/op")
	b.ReportMetric(cpuPerOp*4/1e7, "%core@4Hz")
}
