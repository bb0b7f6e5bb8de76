package report

import (
	"strings"
	"testing"

	"lunbench/workload"
)

// TestSizeRows checks the block-size mix table: a row per size of each
// mixed phase × target × op, with the share asked for and the share got.
func TestSizeRows(t *testing.T) {
	r := &RunJSON{}
	r.Phases = []workload.PhaseResult{
		{Phase: "oltp", Target: "lun0", Op: workload.Read, Ops: 1000, Sizes: []workload.SizeResult{
			{BS: 4096, Pct: 60, Ops: 610, IOPS: 6100, MBps: 23.8},
			{BS: 65536, Pct: 40, Ops: 390, IOPS: 3900, MBps: 243.75},
		}},
		// A phase with one block size has no rows.
		{Phase: "seq", Target: "lun0", Op: workload.Read, Ops: 10},
	}
	rows := sizeRows(r)
	want := []docSize{
		{"oltp", "lun0", "read", "4KiB", "60%", "61.0%", "6,100", "23.8"},
		{"oltp", "lun0", "read", "64KiB", "40%", "39.0%", "3,900", "243.8"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v", rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
	var b strings.Builder
	(&doc{Sizes: rows}).markdownSizes(&b)
	if !strings.Contains(b.String(), "## Block-size mix") || !strings.Contains(b.String(), "| oltp | lun0 | read | 64KiB | 40% | 39.0% | 3,900 | 243.8 |") {
		t.Errorf("markdown:\n%s", b.String())
	}
	b.Reset()
	(&doc{}).markdownSizes(&b)
	if b.Len() != 0 {
		t.Errorf("a run without mixes got a section:\n%s", b.String())
	}
}
