package workload

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// deviceGone reports whether an I/O error means the device node itself
// went away (an iSCSI session was torn down and its sd device deleted),
// rather than an I/O on a present device failing.
func deviceGone(e syscall.Errno) bool { return e == unix.ENODEV || e == unix.ENXIO }

// reopener brings a target back after its device node vanished. The first
// worker that sees ENODEV/ENXIO starts it; every worker of the target then
// waits (off the I/O path) until the path opens again, re-resolving
// symlinks such as /dev/disk/by-path/...-lun-0 that may now name a new sd
// device, and checking it is the same LUN before any write goes to it.
type reopener struct {
	r     *Runner
	t     *target
	phase string
	write bool
	stop  *atomic.Bool

	fd  atomic.Int64  // the target's current file descriptor
	gen atomic.Uint64 // bumped at each successful reopen

	wg      sync.WaitGroup // the reopen loop
	mu      sync.Mutex
	running bool
	old     []*os.File // files replaced by a reopen, closed at the phase end
	spans   [][2]int64 // clock ns the device was gone, per episode
}

func newReopener(r *Runner, t *target, phase string, write bool, stop *atomic.Bool) *reopener {
	ro := &reopener{r: r, t: t, phase: phase, write: write, stop: stop}
	ro.fd.Store(int64(t.fd.Fd()))
	return ro
}

// wait is called by a worker whose I/O on fd generation gen failed with
// ENODEV/ENXIO at clock time at. It returns the descriptor to go on with,
// or false when the phase stopped first.
func (ro *reopener) wait(gen uint64, at int64) (int, uint64, bool) {
	ro.begin(gen, at)
	for ro.gen.Load() == gen {
		if ro.stop.Load() {
			return 0, gen, false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return int(ro.fd.Load()), ro.gen.Load(), true
}

// begin starts reopening the target, unless a reopen of fd generation gen
// is already under way or done; it does not wait. The io_uring engine
// calls it and then polls gen between completions.
func (ro *reopener) begin(gen uint64, at int64) {
	ro.mu.Lock()
	defer ro.mu.Unlock()
	if ro.gen.Load() == gen && !ro.running {
		ro.running = true
		ro.spans = append(ro.spans, [2]int64{at, 0})
		ro.r.emit(Event{Time: ro.r.clock.Time(at), Kind: EvDeviceGone, Phase: ro.phase, Target: ro.t.spec.Name,
			Detail: fmt.Sprintf("%s is gone (I/O failed with ENODEV/ENXIO); reopening with backoff", ro.t.spec.Path)})
		ro.wg.Add(1)
		go ro.loop(at)
	}
}

// loop retries opening the target, from 10 ms up to 1 s apart.
func (ro *reopener) loop(since int64) {
	defer ro.wg.Done()
	backoff := 10 * time.Millisecond
	var lastErr error
	for !ro.stop.Load() {
		// In steps, so a stop does not wait out a 1 s backoff.
		for d := backoff; d > 0 && !ro.stop.Load(); d -= 10 * time.Millisecond {
			time.Sleep(min(d, 10*time.Millisecond))
		}
		if ro.stop.Load() {
			break
		}
		backoff = min(backoff*2, time.Second)
		f, err := ro.open()
		if err != nil {
			lastErr = err
			continue
		}
		now := ro.r.clock.Now()
		ro.mu.Lock()
		ro.old = append(ro.old, ro.t.fd)
		ro.t.fd = f
		ro.spans[len(ro.spans)-1][1] = now
		ro.running = false
		ro.fd.Store(int64(f.Fd()))
		ro.gen.Add(1)
		ro.mu.Unlock()
		ro.r.emit(Event{Time: ro.r.clock.Time(now), Kind: EvDeviceBack, Phase: ro.phase, Target: ro.t.spec.Name,
			Dur:    time.Duration(now - since),
			Detail: fmt.Sprintf("%s is back after %s", ro.t.spec.Path, time.Duration(now-since).Round(time.Millisecond))})
		return
	}
	ro.mu.Lock()
	ro.spans[len(ro.spans)-1][1] = ro.r.clock.Now()
	ro.mu.Unlock()
	detail := fmt.Sprintf("%s did not come back before the phase ended", ro.t.spec.Path)
	if lastErr != nil {
		detail += ": " + lastErr.Error()
	}
	ro.r.emit(Event{Kind: EvNote, Phase: ro.phase, Target: ro.t.spec.Name, Detail: detail})
}

// open opens the target's path again if it is still the same LUN.
func (ro *reopener) open() (*os.File, error) {
	dev, err := ProbeDevice(ro.t.spec.Path, ro.r.opt.Sys)
	if err != nil {
		return nil, err
	}
	old := ro.t.dev
	if dev.Size != old.Size || (old.WWID != "" && dev.WWID != old.WWID) {
		return nil, fmt.Errorf("%s now names a different device (size %d, wwid %q; was %d, %q): not reopened",
			ro.t.spec.Path, dev.Size, dev.WWID, old.Size, old.WWID)
	}
	return OpenTarget(dev, ro.write)
}

// goneIn is how long the device was gone within [a, b).
func (ro *reopener) goneIn(a, b int64) time.Duration {
	ro.mu.Lock()
	defer ro.mu.Unlock()
	var d int64
	for _, s := range ro.spans {
		end := s[1]
		if end == 0 {
			end = b
		}
		if lo, hi := max(s[0], a), min(end, b); hi > lo {
			d += hi - lo
		}
	}
	return time.Duration(d)
}

// close waits for a reopen in progress (the phase has stopped, so it ends
// within its backoff) and closes the files reopens replaced.
func (ro *reopener) close() {
	ro.wg.Wait()
	ro.mu.Lock()
	defer ro.mu.Unlock()
	for _, f := range ro.old {
		f.Close()
	}
	ro.old = nil
}
