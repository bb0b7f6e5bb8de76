package verify

import (
	"context"
	"sync/atomic"
	"syscall"
	"testing"
)

// countWatch counts a pass's reads per reader and notes any reader that
// issued a read while its last one was still in flight, or completed one
// it never issued.
type countWatch struct {
	inFlight  [MaxQD]atomic.Int32
	issued    atomic.Int64
	completed atomic.Int64
	unpaired  atomic.Int64
}

func (w *countWatch) Issued(r int) {
	if w.inFlight[r].Add(1) != 1 {
		w.unpaired.Add(1)
	}
	w.issued.Add(1)
}

func (w *countWatch) Completed(r int) {
	if w.inFlight[r].Add(-1) != 0 {
		w.unpaired.Add(1)
	}
	w.completed.Add(1)
}

// TestRunWatcher: the watcher hears of every read the pass makes, chunk
// reads and the unit-by-unit retries after an EIO alike, each issued then
// completed by the reader that made it.
func TestRunWatcher(t *testing.T) {
	const unit = 4096
	m, dev := stampedDevice(t, 64, unit)
	cases := []struct {
		name  string
		bad   [][2]int64
		reads int64
	}{
		// 64 units in chunks of 16: four reads.
		{"clean", nil, 4},
		// EIO in chunks 0 and 2: their 16 units are read again one by
		// one, 4 + 2×16 reads.
		{"eio", [][2]int64{{5 * unit, 5*unit + 512}, {40 * unit, 40*unit + 512}}, 36},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dev.bad, dev.err = c.bad, syscall.EIO
			w := &countWatch{}
			if _, err := run(context.Background(), dev, m, RunOptions{QD: 2, ChunkSize: 16 * unit, Watch: w}); err != nil {
				t.Fatal(err)
			}
			if w.issued.Load() != c.reads || w.completed.Load() != c.reads || w.unpaired.Load() != 0 {
				t.Errorf("issued %d completed %d unpaired %d, want %d reads, each issued then completed",
					w.issued.Load(), w.completed.Load(), w.unpaired.Load(), c.reads)
			}
		})
	}
}
