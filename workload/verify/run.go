package verify

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ncw/directio"
	"golang.org/x/sys/unix"
)

// errnoOf names the errno behind a failed read ("EIO: input/output
// error"), or the error itself when it carries none.
func errnoOf(err error) string {
	var e syscall.Errno
	if errors.As(err, &e) {
		if n := unix.ErrnoName(e); n != "" {
			return n + ": " + e.Error()
		}
	}
	return err.Error()
}

// MaxFindings is how many findings a Summary lists at most.
const MaxFindings = 1000

// MaxQD caps RunOptions.QD: a phase's qd of 1024 must not become 1024
// chunk buffers (4 GiB) in the pass that follows it.
const MaxQD = 32

// RunOptions tunes a verify pass.
type RunOptions struct {
	// QD is how many chunks are read in parallel (default 4, at most
	// MaxQD: each reader holds a chunk-sized buffer).
	QD int
	// ChunkSize is the most bytes one read covers (default 4 MiB; rounded
	// down to whole units, at least one). Only the span from the first to
	// the last written unit of a chunk is read.
	ChunkSize int64
	// Check is how units are judged: AcceptNewer after a crash.
	Check CheckOptions
	// Phase and When are copied into the Summary.
	Phase, When string
	// Watch, when set, hears of every read the pass issues and completes.
	Watch Watcher
}

// Watcher hears of each read of a pass as it is issued and as it
// completes (failed reads included), so that a running phase's stall
// detector counts the pass's reads as its target's I/O: a pass whose reads
// hang is a stall, one that keeps reading is not. reader is the reading
// goroutine, 0 to QD-1; each calls only for itself, around every read.
// The methods run between system calls of the pass: they must not block,
// lock or allocate.
type Watcher interface {
	Issued(reader int)
	Completed(reader int)
}

// passTally is one reader's share of a pass.
type passTally struct {
	// reader is the reader's index and watch its RunOptions.Watch.
	reader     int
	watch      Watcher
	counts     [NumClasses]uint64
	inDoubt    uint64
	unreadable uint64
	unchecked  uint64
	blocks     uint64
	findings   []Finding
	// pads keeps the pad of the run the last unit was stamped by.
	pads padCache
}

// Run reads back every unit of m's range that was ever written (generation
// != 0) from f, qd readers in parallel, each reading many units per system
// call, and classifies each unit with Check. f is the device or file the map
// describes, opened read-only, preferably with O_DIRECT (so the pass reads
// the storage, not the page cache; the buffers are aligned for it). Units
// never written are not read. Findings are sorted by offset, the first
// MaxFindings kept. Cancelling ctx stops the pass with ctx's error and the
// partial summary. A unit that cannot be read (EIO) is counted once,
// unreadable (with the errno), never corrupt; any other read error (the device vanished, a short
// read) stops the pass with an error naming the offset.
func Run(ctx context.Context, f *os.File, m *Map, opts RunOptions) (Summary, error) {
	return run(ctx, f, m, opts)
}

// run is Run on any device.
func run(ctx context.Context, f device, m *Map, opts RunOptions) (Summary, error) {
	h := m.Header()
	sum := Summary{Target: h.Target, Phase: opts.Phase, When: opts.When, Start: time.Now()}
	qd := opts.QD
	if qd <= 0 {
		qd = 4
	}
	chunk := opts.ChunkSize
	if chunk <= 0 {
		chunk = 4 << 20
	}
	per := max(1, chunk/h.Unit) // units per chunk
	units := h.Units()
	chunks := (units + per - 1) / per
	qd = int(min(int64(qd), MaxQD, max(chunks, 1)))

	var next atomic.Int64
	var stop atomic.Bool
	var mu sync.Mutex
	var firstErr error
	tallies := make([]passTally, qd)
	var wg sync.WaitGroup
	for w := range tallies {
		t := &tallies[w]
		t.reader, t.watch = w, opts.Watch
		wg.Go(func() {
			buf := directio.AlignedBlock(int(per * h.Unit))
			for !stop.Load() {
				c := next.Add(1) - 1
				if c >= chunks {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = m.checkChunk(f, buf, c*per, min(units, (c+1)*per), opts.Check, t)
				}
				if err != nil {
					stop.Store(true)
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()

	var counts [NumClasses]uint64
	for _, t := range tallies {
		for c, n := range t.counts {
			counts[c] += n
		}
		sum.InDoubt += t.inDoubt
		sum.Unreadable += t.unreadable
		sum.Unchecked += t.unchecked
		sum.Blocks += t.blocks
		sum.Findings = append(sum.Findings, t.findings...)
	}
	sum.Counts = make(map[string]uint64, NumClasses)
	for c, n := range counts {
		sum.Counts[Class(c).String()] = n
	}
	// Each reader took chunks in increasing order and kept its first
	// findings, so the lowest MaxFindings offsets overall are all here.
	slices.SortFunc(sum.Findings, func(a, b Finding) int { return cmp.Compare(a.Offset, b.Offset) })
	if len(sum.Findings) > MaxFindings {
		sum.Findings = sum.Findings[:MaxFindings:MaxFindings]
	}
	sum.End = time.Now()
	return sum, firstErr
}

// device is what a pass reads: an *os.File, or a fake in tests.
type device interface {
	io.ReaderAt
	Name() string
}

// checkChunk reads the written units among units [u0, u1) with one read and
// classifies them into t. If that read fails with EIO (a bad block, or a
// path that failed the request), it reads the units one by one, so that one
// bad block costs one finding and not the pass: each unit that still fails
// with EIO is counted unreadable (its data cannot be judged).
// Any other error (the device vanished, a short read) ends the pass.
func (m *Map) checkChunk(f device, buf []byte, u0, u1 int64, opts CheckOptions, t *passTally) error {
	first, last := int64(-1), int64(-1)
	for u := u0; u < u1; u++ {
		e := binary.LittleEndian.Uint16(m.ents[2*u:])
		if e == unknownEnt {
			t.unchecked++
		}
		if e&^pendingBit != 0 {
			if first < 0 {
				first = u
			}
			last = u
		}
	}
	if first < 0 {
		return nil
	}
	h := &m.h
	span := buf[:(last-first+1)*h.Unit]
	err := m.read(f, span, first, t)
	if err == nil {
		for u := first; u <= last; u++ {
			i := (u - first) * h.Unit
			m.checkUnit(span[i:i+h.Unit], u, nil, opts, t)
		}
		return nil
	}
	if !errors.Is(err, syscall.EIO) {
		return err
	}
	one := buf[:h.Unit]
	for u := first; u <= last; u++ {
		if binary.LittleEndian.Uint16(m.ents[2*u:])&^pendingBit == 0 {
			continue
		}
		err := m.read(f, one, u, t)
		if err != nil && !errors.Is(err, syscall.EIO) {
			return err
		}
		m.checkUnit(one, u, err, opts, t)
	}
	return nil
}

// read reads len(p) bytes from unit u on, for reader t.
func (m *Map) read(f device, p []byte, u int64, t *passTally) error {
	off := m.h.Base + u*m.h.Unit
	if t.watch != nil {
		t.watch.Issued(t.reader)
	}
	n, err := f.ReadAt(p, off)
	if t.watch != nil {
		t.watch.Completed(t.reader)
	}
	if err != nil {
		return fmt.Errorf("verify %s: read %d bytes at offset %d of %s: %w (got %d)", m.h.Target, len(p), off, f.Name(), err, n)
	}
	return nil
}

// checkUnit classifies unit u, read into p or failed with readErr, into t.
// Units never written are skipped.
func (m *Map) checkUnit(p []byte, u int64, readErr error, opts CheckOptions, t *passTally) {
	e := binary.LittleEndian.Uint16(m.ents[2*u:])
	gen, pending := uint32(e&^pendingBit), e&pendingBit != 0
	if gen == 0 {
		return
	}
	uo := m.h.Base + u*m.h.Unit
	var v verdict
	if readErr != nil {
		v = verdict{class: Unreadable, detail: "read failed: " + errnoOf(readErr)}
		t.unreadable++
	} else {
		v = check(p, uo, gen, pending, m.h.RunID, opts, &t.pads)
	}
	t.blocks++
	t.counts[v.class]++
	if v.inDoubt {
		t.inDoubt++
	}
	if v.class != OK && len(t.findings) < MaxFindings {
		t.findings = append(t.findings, Finding{Target: m.h.Target, Offset: uo, Class: v.class, Detail: v.detail})
	}
}
