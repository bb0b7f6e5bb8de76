package collect

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"lunbench/workload"
)

// unitAttentionMessages are the texts the kernel logs for a SCSI unit
// attention, by additional sense code (scsi_report_sense in
// drivers/scsi/scsi_error.c). A target that moved to another head, or was
// reset, answers its initiator's next command with one of them.
func unitAttentionMessages() []string {
	return []string{
		"Power-on or device reset occurred",                        // 29/xx
		"Inquiry data has changed",                                 // 3F/03
		"Warning! Received an indication that the LUN assignments", // 3F/0E
		"Warning! Received an indication that the operating parameters",
		"Warning! Received an indication that the LUN reached a thin provisioning",
		"Mode parameters changed",         // 2A/01
		"Asymmetric access state changed", // 2A/06
		"Capacity data has changed",       // 2A/09
		"Parameters changed",              // 2A/xx
	}
}

// parseUnitAttention reads one /dev/kmsg record ("PRIO,SEQ,USEC,FLAGS;TEXT"
// then " KEY=value" lines, Documentation/ABI/testing/dev-kmsg) and returns
// the SCSI address and text of a unit attention logged for a disk
// ("sd 2:0:0:1: Power-on or device reset occurred"); ok is false for any
// other record.
func parseUnitAttention(rec string) (hctl, text string, ok bool) {
	_, msg, found := strings.Cut(rec, ";")
	if !found {
		return "", "", false
	}
	msg, _, _ = strings.Cut(msg, "\n")
	rest, found := strings.CutPrefix(msg, "sd ")
	if !found {
		return "", "", false
	}
	hctl, text, found = strings.Cut(rest, ": ")
	if !found || strings.Count(hctl, ":") != 3 {
		return "", "", false
	}
	for _, m := range unitAttentionMessages() {
		if strings.HasPrefix(text, m) {
			return hctl, strings.TrimSpace(text), true
		}
	}
	return "", "", false
}

// pathRef names a path device and the target it belongs to.
type pathRef struct{ target, device string }

// unitAttentionPaths maps the SCSI address of every path device of t to
// the path and its target (the argument the topology was asked about).
func unitAttentionPaths(t Topology) map[string]pathRef {
	m := map[string]pathRef{}
	for _, d := range t.Devices {
		for _, mp := range d.Maps {
			for _, p := range mp.Paths {
				if p.HCTL != "" {
					m[p.HCTL] = pathRef{target: d.Arg, device: p.Device}
				}
			}
		}
	}
	return m
}

// readUnitAttentions reads kernel message records from r, one a Read as
// /dev/kmsg gives them, and sends an EvUnitAttention for each unit
// attention logged for a path in paths. It returns when r fails (it is
// closed). Records the kernel overwrote before they were read (EPIPE) are
// skipped.
func readUnitAttentions(r io.Reader, paths map[string]pathRef, now func() time.Time, sink workload.EventSink) {
	buf := make([]byte, 8192) // a record is at most 1 KiB of text plus its keys
	for {
		n, err := r.Read(buf)
		if errors.Is(err, syscall.EPIPE) {
			continue
		}
		if err != nil {
			return
		}
		hctl, text, ok := parseUnitAttention(string(buf[:n]))
		if !ok {
			continue
		}
		if p, mine := paths[hctl]; mine {
			sink.Event(workload.Event{Time: now(), Kind: workload.EvUnitAttention, Target: p.target,
				Path: p.device, Detail: p.device + " (" + hctl + "): " + text})
		}
	}
}

// UnitAttentionWatch reads the kernel's messages for the unit attentions
// of a topology's path devices.
type UnitAttentionWatch struct {
	f     *os.File
	paths map[string]pathRef
}

// WatchUnitAttentions opens /dev/kmsg of the live system at its end, to
// report the SCSI unit attentions the kernel logs from now on for the path
// devices of t. It returns nil, nil for a fixture root or targets without
// paths; an error means the kernel's messages cannot be read
// (dmesg_restrict without root, say).
func (h Host) WatchUnitAttentions(t Topology) (*UnitAttentionWatch, error) {
	paths := unitAttentionPaths(t)
	if len(paths) == 0 || !h.live() {
		return nil, nil
	}
	f, err := os.Open("/dev/kmsg")
	if err != nil {
		return nil, err
	}
	// Earlier messages belong to earlier sessions.
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, err
	}
	return &UnitAttentionWatch{f: f, paths: paths}, nil
}

// Run sends an EvUnitAttention to sink for each unit attention until ctx
// ends, then closes the watch.
func (w *UnitAttentionWatch) Run(ctx context.Context, sink workload.EventSink) {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
		}
		w.f.Close() // ends a Read blocked in the poller
	}()
	readUnitAttentions(w.f, w.paths, time.Now, sink)
	close(done)
}
