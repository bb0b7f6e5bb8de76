package report

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"lunbench/collect/preflight"
	"lunbench/workload"
	"lunbench/workload/verify"
)

// TestSectionTexts covers the short texts the drills and verify tables
// are made of.
func TestSectionTexts(t *testing.T) {
	tests := []struct{ got, want string }{
		{commandText(nil), "-"}, // no command (a manual drill)
		{commandText(&workload.CommandResult{ExitCode: 0, Dur: 1200 * time.Millisecond}), "exit 0 in 1.2s"},         // ran
		{commandText(&workload.CommandResult{ExitCode: 3, Dur: 40 * time.Millisecond}), "exit 3 in 40ms"},           // failed with a status
		{commandText(&workload.CommandResult{TimedOut: true, Dur: time.Minute}), "timed out after 60s"},             // hung
		{commandText(&workload.CommandResult{Err: "exec: \"pcs\": not found"}), "failed: exec: \"pcs\": not found"}, // never ran
		{signedLat(-80 * time.Millisecond), "-80ms"},                                                                // I/O stopped before the inject
		{signedLat(0), "0s"}, // at once
		{errnoText(3, map[string]uint64{"ETIMEDOUT": 1, "EIO": 2}), "3 (EIO×2, ETIMEDOUT×1)"}, // by errno, sorted
		{errnoText(0, nil), "0"}, // none
		{verifyText(nil), "-"},   // no pass
		{verifyText([]verify.Summary{{Blocks: 2048, Counts: map[string]uint64{"ok": 2048}}}), "ok (2,048 blocks)"},
		{verifyText([]verify.Summary{{Blocks: 10, Counts: map[string]uint64{"ok": 7, "corrupt": 1, "lost": 2}}}), "2 lost, 1 corrupt of 10 blocks"}, // class order
		{offsetText(1 << 20), "1,048,576 (0x100000)"},                        // both ways
		{ratioText(workload.DrillTarget{Before: 0}), "-"},                    // nothing to compare with
		{ratioText(workload.DrillTarget{Before: 1, AfterRatio: 0.5}), "50%"}, // half the throughput after
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("#%d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

// TestPreflightDoc covers the host preflight section's cases.
func TestPreflightDoc(t *testing.T) {
	raw := func(r preflight.Report) map[string]json.RawMessage {
		b, _ := json.Marshal(r)
		return map[string]json.RawMessage{"preflight": b}
	}
	tests := []struct {
		name     string
		extra    map[string]json.RawMessage
		note     string // substring of the note; "" when the section has findings
		findings int
		unchkd   bool
	}{
		// An old run.json, or a run that could not check.
		{"absent", nil, "No host preflight was recorded", 0, false},
		// Something else under the key.
		{"garbage", map[string]json.RawMessage{"preflight": json.RawMessage(`"x"`)}, "cannot be read", 0, false},
		// A host with nothing iSCSI: its one info finding, and a line saying so.
		{"no initiator", raw(preflight.Report{Findings: []preflight.Finding{{Severity: preflight.Info, Check: preflight.CheckNoInitiator}}}), "", 1, true},
		// Findings with their places.
		{"findings", raw(preflight.Report{Findings: []preflight.Finding{{Severity: preflight.Error, Check: "net.rp_filter", Where: "/proc/sys/net/ipv4/conf/eth1/rp_filter", Others: []string{"/proc/sys/net/ipv4/conf/eth2/rp_filter"}}}}), "", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := preflightDoc(&RunJSON{Extra: tt.extra})
			if !strings.Contains(d.Note, tt.note) || (tt.note == "") != (d.Note == "") || len(d.Findings) != tt.findings || (d.Unchecked != "") != tt.unchkd {
				t.Errorf("got %+v", d)
			}
			for _, f := range d.Findings {
				if f.Check == "net.rp_filter" && !strings.Contains(f.Where, "and 1 more: /proc/sys/net/ipv4/conf/eth2/rp_filter") {
					t.Errorf("other places missing: %q", f.Where)
				}
			}
		})
	}
}
