package workload

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lunbench/scenarios"
)

// TestReopener drives the reopen of a vanished target: the path disappears
// and comes back (the same size: reopened, once, for every waiting worker)
// or comes back as something else (a different size: never reopened).
func TestReopener(t *testing.T) {
	tests := []struct {
		name     string
		backSize int64 // size of the file that reappears
		reopened bool
	}{
		// The same LUN comes back: workers go on with the new descriptor.
		{"same device", 1 << 20, true},
		// The path now names a different device: lunbench waits instead
		// of writing to it.
		{"other device", 2 << 20, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "lun")
			if err := CreateSparse(path, 1<<20); err != nil {
				t.Fatal(err)
			}
			tg, err := prepareTarget(scenarios.Target{Name: "lun", Path: path}, false, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := tg.open(false); err != nil {
				t.Fatal(err)
			}
			log := &eventLog{}
			r := &Runner{opt: Options{Now: time.Now}, events: log, clock: NewClock(time.Now())}
			var stop atomic.Bool
			ro := newReopener(r, tg, "p", false, &stop)
			oldFd := tg.fd.Fd()
			// The node vanishes, and is back 100 ms later.
			os.Remove(path)
			go func() {
				time.Sleep(100 * time.Millisecond)
				if err := CreateSparse(path, tt.backSize); err != nil {
					t.Error(err)
				}
			}()
			var wg sync.WaitGroup
			var oks atomic.Int32
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					fd, gen, ok := ro.wait(0, r.clock.Now())
					if ok && gen == 1 && uintptr(fd) != oldFd {
						oks.Add(1)
					}
				}()
			}
			if !tt.reopened {
				time.Sleep(600 * time.Millisecond)
				stop.Store(true)
			}
			wg.Wait()
			ro.close()
			tg.fd.Close()
			if got := oks.Load() == 3; got != tt.reopened {
				t.Fatalf("%d workers went on with a new descriptor, reopened want %v", oks.Load(), tt.reopened)
			}
			gone := ro.goneIn(0, r.clock.Now())
			if gone < 90*time.Millisecond {
				t.Errorf("device gone for %v, want at least the 100 ms it was missing", gone)
			}
			if n := len(log.details(EvDeviceGone)); n != 1 {
				t.Errorf("%d device_gone events, want 1", n)
			}
			if n := len(log.details(EvDeviceBack)); (n == 1) != tt.reopened {
				t.Errorf("%d device_back events (reopened %v)", n, tt.reopened)
			}
		})
	}
}
