package workload

import "testing"

// TestRecorderTrySwapPreemptedWorker is a worker the kernel preempted in
// the middle of a record: trySwap must neither wait for it nor take the
// half it may still be writing, and must hand that half over, with the
// record in it, at the first call after the worker moved on.
func TestRecorderTrySwapPreemptedWorker(t *testing.T) {
	r := NewRecorder(Read)
	r.Done(Read, 512, 1000, 1)
	// The worker raises seq and reads active (half 0), then is preempted.
	r.seq.Add(1)
	half := &r.halves[r.active.Load()]
	called := 0
	take := func(s *slice) {
		called++
		if s != half {
			t.Fatal("handed over the half the worker was not recording into")
		}
		if s.op[Read].ops != 2 {
			t.Fatalf("half holds %d ops, want 2 (the finished record included)", s.op[Read].ops)
		}
	}
	for range 3 {
		if r.trySwap(take) {
			t.Fatal("trySwap took a half while the worker was recording into it")
		}
	}
	// Records started after the flip go to the other half.
	if &r.halves[r.active.Load()] == half {
		t.Fatal("active half not flipped")
	}
	// The worker runs again and finishes its record in the old half.
	half.op[Read].ops++
	r.seq.Add(1)
	if !r.trySwap(take) || called != 1 {
		t.Fatalf("trySwap after the record ended: called %d times, want 1", called)
	}
	if r.pending {
		t.Fatal("still pending after the hand-over")
	}
}
