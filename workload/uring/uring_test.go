package uring

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// newRing sets up a real ring, or skips when this kernel or sandbox has no
// io_uring (ENOSYS: not built in; EPERM: seccomp or
// kernel.io_uring_disabled).
func newRing(t testing.TB, entries uint32) *Ring {
	t.Helper()
	r, err := New(entries)
	if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EPERM) || errors.Is(err, ErrNoExtArg) {
		t.Skipf("io_uring unavailable here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func tempFile(t testing.TB, size int64) *os.File {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(t.TempDir(), "lb18u-ring"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return f
}

// waitAll enters until want completions were reaped, failing after 5 s.
func waitAll(t *testing.T, r *Ring, want int) []CQE {
	t.Helper()
	var got []CQE
	buf := make([]CQE, 8)
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < want {
		if time.Now().After(deadline) {
			t.Fatalf("reaped %d of %d completions in 5s", len(got), want)
		}
		if _, err := r.Enter(true, 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		n, err := r.Reap(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	return got
}

// TestReadWrite writes four blocks in one batch and reads them back, with
// plain and with registered buffers and files, and checks every byte and
// every completion's user data and result.
func TestReadWrite(t *testing.T) {
	for _, tc := range []struct {
		name        string
		bufs, files bool
	}{
		{"plain", false, false},        // IORING_OP_READ/WRITE on a descriptor
		{"fixed buffers", true, false}, // READ_FIXED/WRITE_FIXED
		{"fixed files", false, true},   // IOSQE_FIXED_FILE
		{"fixed both", true, true},     // what the engine uses
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRing(t, 4)
			if r.Features()&FeatSingleMmap == 0 || r.Features()&FeatNoDrop == 0 {
				t.Logf("features %#x: no single mmap or nodrop", r.Features())
			}
			f := tempFile(t, 1<<20)
			const bs = 4096
			bufs := make([][]byte, 4)
			for i := range bufs {
				bufs[i] = bytes.Repeat([]byte{byte('a' + i)}, bs)
			}
			fd := int32(f.Fd())
			if tc.bufs {
				if err := r.RegisterBuffers(bufs); err != nil {
					t.Fatal(err)
				}
			}
			if tc.files {
				if err := r.RegisterFiles([]int32{fd}); err != nil {
					t.Fatal(err)
				}
				fd = 0
			}
			for i, b := range bufs {
				if !r.PrepRW(true, fd, b, i, int64(i)*bs*3, uint64(100+i)) {
					t.Fatalf("SQ full at %d of 4", i)
				}
			}
			if r.PrepRW(true, fd, bufs[0], 0, 0, 1) {
				t.Fatal("a fifth SQE fit a 4-entry ring")
			}
			for _, c := range waitAll(t, r, 4) {
				if c.UserData < 100 || c.UserData > 103 || c.Res != bs {
					t.Errorf("write completion %+v, want user data 100..103 and res %d", c, bs)
				}
			}
			for i := range bufs {
				clear(bufs[i])
				r.PrepRW(false, fd, bufs[i], i, int64(i)*bs*3, uint64(200+i))
			}
			waitAll(t, r, 4)
			for i, b := range bufs {
				if want := bytes.Repeat([]byte{byte('a' + i)}, bs); !bytes.Equal(b, want) {
					t.Errorf("block %d read back %q..., want %q...", i, b[:4], want[:4])
				}
			}
		})
	}
}

// TestUpdateFile swaps the registered file, as a reopen does, and checks
// that the next I/O goes to the new file.
func TestUpdateFile(t *testing.T) {
	r := newRing(t, 2)
	a, b := tempFile(t, 8192), tempFile(t, 8192)
	if err := r.RegisterFiles([]int32{int32(a.Fd())}); err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateFile(0, int32(b.Fd())); err != nil {
		t.Fatal(err)
	}
	r.PrepRW(true, 0, []byte("new file"), 0, 0, 7)
	waitAll(t, r, 1)
	got := make([]byte, 8)
	if _, err := b.ReadAt(got, 0); err != nil || string(got) != "new file" {
		t.Fatalf("new file holds %q (%v), want %q", got, err, "new file")
	}
	if _, err := a.ReadAt(got, 0); err != nil || string(got) == "new file" {
		t.Fatalf("old file was written after the update (%v)", err)
	}
}

// TestErrno checks that a failed I/O completes with a negated errno:
// a write to a read-only descriptor is EBADF.
func TestErrno(t *testing.T) {
	r := newRing(t, 1)
	f := tempFile(t, 4096)
	ro, err := os.Open(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	r.PrepRW(true, int32(ro.Fd()), make([]byte, 512), 0, 0, 9)
	c := waitAll(t, r, 1)[0]
	if c.UserData != 9 || c.Errno() != syscall.EBADF {
		t.Fatalf("completion %+v errno %v, want user data 9 and EBADF", c, c.Errno())
	}
}

// TestWaitTimeout checks that waiting with nothing in flight returns after
// the timeout, not never, and not at once.
func TestWaitTimeout(t *testing.T) {
	r := newRing(t, 1)
	t0 := time.Now()
	n, err := r.Enter(true, 20*time.Millisecond)
	if err != nil || n != 0 {
		t.Fatalf("Enter = %d, %v; want 0, nil", n, err)
	}
	if d := time.Since(t0); d < 15*time.Millisecond {
		t.Fatalf("a 20ms wait returned after %s", d)
	}
}

// BenchmarkRoundTrip is one 4 KiB read through the ring per iteration on
// registered buffers and files: submit, wait, reap. It must not allocate.
func BenchmarkRoundTrip(b *testing.B) {
	r := newRing(b, 1)
	f := tempFile(b, 1<<20)
	buf := make([]byte, 4096)
	if err := r.RegisterBuffers([][]byte{buf}); err != nil {
		b.Fatal(err)
	}
	if err := r.RegisterFiles([]int32{int32(f.Fd())}); err != nil {
		b.Fatal(err)
	}
	cqes := make([]CQE, 4)
	b.ReportAllocs()
	for b.Loop() {
		r.PrepRW(false, 0, buf, 0, 0, 1)
		for got := 0; got == 0; {
			if _, err := r.Enter(true, time.Second); err != nil {
				b.Fatal(err)
			}
			got, _ = r.Reap(cqes)
		}
	}
}

// TestRoundTripAllocs is the benchmark's claim as a test.
func TestRoundTripAllocs(t *testing.T) {
	r := newRing(t, 1)
	f := tempFile(t, 1<<20)
	buf := make([]byte, 4096)
	cqes := make([]CQE, 4)
	allocs := testing.AllocsPerRun(100, func() {
		r.PrepRW(false, int32(f.Fd()), buf, 0, 0, 1)
		for got := 0; got == 0; {
			r.Enter(true, time.Second)
			got, _ = r.Reap(cqes)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per I/O, want 0", allocs)
	}
}

// TestSingleIssuer registers from one thread and submits from another,
// locked one, as the engine does: the ring refuses I/O before Enable and
// serves it after.
func TestSingleIssuer(t *testing.T) {
	r, err := NewSingleIssuer(2)
	if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EPERM) || errors.Is(err, ErrNoExtArg) {
		t.Skipf("io_uring unavailable here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f := tempFile(t, 8192)
	buf := []byte("single issuer")
	if err := r.RegisterBuffers([][]byte{buf}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if r.disabled {
			// A disabled ring takes no submissions.
			r.PrepRW(true, int32(f.Fd()), buf, 0, 0, 1)
			if _, err := r.Enter(false, 0); err == nil {
				done <- errors.New("a disabled ring accepted a submission")
				return
			}
			if err := r.Enable(); err != nil {
				done <- err
				return
			}
		} else {
			r.PrepRW(true, int32(f.Fd()), buf, 0, 0, 1)
		}
		cqes := make([]CQE, 1)
		for got := 0; got == 0; {
			if _, err := r.Enter(true, time.Second); err != nil {
				done <- err
				return
			}
			got, _ = r.Reap(cqes)
		}
		if cqes[0].Res != int32(len(buf)) {
			done <- fmt.Errorf("completion %+v", cqes[0])
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(buf))
	f.ReadAt(got, 0)
	if string(got) != string(buf) {
		t.Fatalf("file holds %q", got)
	}
}
