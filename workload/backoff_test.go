package workload

import (
	"testing"
	"time"
)

// TestBackoffFor: no pause after a lone error, then 1 ms doubling, capped
// at 100 ms.
func TestBackoffFor(t *testing.T) {
	tests := []struct {
		run  int
		want time.Duration
	}{
		{0, 0},                         // no error
		{1, 0},                         // a lone error: the retry goes at once
		{2, time.Millisecond},          // the second in a row: 1 ms
		{3, 2 * time.Millisecond},      // doubling
		{8, 64 * time.Millisecond},     // still doubling
		{9, 100 * time.Millisecond},    // capped
		{1000, 100 * time.Millisecond}, // and stays capped, no overflow
	}
	for _, tt := range tests {
		if got := backoffFor(tt.run); got != tt.want {
			t.Errorf("backoffFor(%d) = %v, want %v", tt.run, got, tt.want)
		}
	}
}

// TestBackoffRecordAllocs: recording a pause allocates nothing.
func TestBackoffRecordAllocs(t *testing.T) {
	r := NewRecorder(Read)
	if a := testing.AllocsPerRun(1000, func() { r.Backoff(Read, 1000) }); a != 0 {
		t.Errorf("Backoff allocates %v times", a)
	}
}
