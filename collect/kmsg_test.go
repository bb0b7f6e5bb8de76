package collect

import (
	"context"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"lunbench/workload"
)

// The records below are in /dev/kmsg's format (Documentation/ABI/testing/
// dev-kmsg): "PRIO,SEQ,USEC,FLAGS;TEXT\n", then " KEY=value\n" lines. The
// unit attention's text is the one a Debian 6.1 guest logged when its
// iSCSI session logged in again to the SAN lab's other head.

func TestParseUnitAttention(t *testing.T) {
	for _, tc := range []struct {
		name, rec, hctl, text string
		ok                    bool
	}{
		// A relogin to another head: power-on/reset (ASC 29).
		{"reset", "4,1203,183620495,-;sd 0:0:0:1: Power-on or device reset occurred\n SUBSYSTEM=scsi\n DEVICE=+scsi:0:0:0:1\n",
			"0:0:0:1", "Power-on or device reset occurred", true},
		// ALUA state change (2A/06), no trailing keys.
		{"alua", "4,7,1,-;sd 3:0:0:12: Asymmetric access state changed\n", "3:0:0:12", "Asymmetric access state changed", true},
		// LUN inventory change (3F/0E): a long text, matched by its start.
		{"luns", "4,8,2,-;sd 3:0:0:12: Warning! Received an indication that the LUN assignments on this target have changed. The Linux SCSI layer does not automatically remap LUN assignments.\n",
			"3:0:0:12", "Warning! Received an indication that the LUN assignments on this target have changed. The Linux SCSI layer does not automatically remap LUN assignments.", true},
		// The same text for a CD-ROM (sr) is not a disk path.
		{"sr", "4,9,3,-;sr 1:0:0:0: Power-on or device reset occurred\n", "", "", false},
		// A connection error is a session event, not a unit attention.
		{"conn", "3,10,4,-; connection1:0: detected conn error (1020)\n", "", "", false},
		// Other disk messages are not unit attentions.
		{"attach", "5,11,5,-;sd 0:0:0:1: [sda] Attached SCSI disk\n", "", "", false},
		// A record without the header's ';' is not a record.
		{"garbage", "sd 0:0:0:1: Power-on or device reset occurred", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hctl, text, ok := parseUnitAttention(tc.rec)
			if hctl != tc.hctl || text != tc.text || ok != tc.ok {
				t.Errorf("got (%q, %q, %v), want (%q, %q, %v)", hctl, text, ok, tc.hctl, tc.text, tc.ok)
			}
		})
	}
}

// records reads like /dev/kmsg: one record a Read, EPIPE where the kernel
// overwrote records, then EOF.
type records struct{ recs []string }

func (r *records) Read(p []byte) (int, error) {
	if len(r.recs) == 0 {
		return 0, io.EOF
	}
	rec := r.recs[0]
	r.recs = r.recs[1:]
	if rec == "" {
		return 0, syscall.EPIPE
	}
	return copy(p, rec), nil
}

type eventList []workload.Event

func (l *eventList) Event(e workload.Event) { *l = append(*l, e) }

func TestReadUnitAttentions(t *testing.T) {
	top := Topology{Devices: []Device{{Arg: "/dev/mapper/mpatha", Maps: []Map{{Paths: []Path{
		{Device: "sda", HCTL: "2:0:0:1"}, {Device: "sdb", HCTL: "3:0:0:1"},
	}}}}}}
	at := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	var got eventList
	readUnitAttentions(&records{recs: []string{
		"4,1,1,-;sd 3:0:0:1: Power-on or device reset occurred\n", // a path of the target
		"", // overwritten records: skipped
		"4,3,3,-;sd 9:0:0:1: Power-on or device reset occurred\n", // another disk: ignored
		"6,4,4,-;sd 2:0:0:1: [sda] Attached SCSI disk\n",          // not a unit attention
	}}, unitAttentionPaths(top), func() time.Time { return at }, &got)
	if len(got) != 1 {
		t.Fatalf("events %+v, want one", got)
	}
	want := workload.Event{Time: at, Kind: workload.EvUnitAttention, Target: "/dev/mapper/mpatha", Path: "sdb",
		Detail: "sdb (3:0:0:1): Power-on or device reset occurred"}
	if got[0] != want {
		t.Errorf("event %+v, want %+v", got[0], want)
	}
}

// TestWatchUnitAttentionsLive reads the live /dev/kmsg: a line written to
// it (as root) the way the kernel logs a unit attention, for a made-up
// SCSI address unique to this test, comes back as an event, and cancelling
// the context ends a Run blocked in its read.
func TestWatchUnitAttentionsLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("writing to /dev/kmsg needs root")
	}
	hctl := fmt.Sprintf("%d:0:0:77", os.Getpid())
	top := Topology{Devices: []Device{{Arg: "/dev/mapper/lblabtest", Maps: []Map{{Paths: []Path{{Device: "sdz", HCTL: hctl}}}}}}}
	w, err := Host{}.WatchUnitAttentions(top)
	if err != nil || w == nil {
		t.Skipf("/dev/kmsg: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chanSink, 4)
	ended := make(chan struct{})
	go func() { w.Run(ctx, events); close(ended) }()
	if err := os.WriteFile("/dev/kmsg", []byte("sd "+hctl+": Power-on or device reset occurred (lunbench test)\n"), 0); err != nil {
		cancel()
		t.Skipf("write /dev/kmsg: %v", err)
	}
	select {
	case e := <-events:
		if e.Kind != workload.EvUnitAttention || e.Path != "sdz" {
			t.Errorf("event %+v", e)
		}
	case <-time.After(10 * time.Second):
		t.Error("no event within 10 s of the kernel message")
	}
	cancel()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not end after its context was cancelled")
	}
}

type chanSink chan workload.Event

func (c chanSink) Event(e workload.Event) { c <- e }
