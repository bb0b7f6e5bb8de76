package workload

import (
	"encoding/json"
	"fmt"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Op is one kind of I/O.
type Op uint8

// The ops. NumOps sizes per-op arrays.
const (
	Read Op = iota
	Write
	NumOps
)

// String returns "read" or "write".
func (o Op) String() string {
	switch o {
	case Read:
		return "read"
	case Write:
		return "write"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// MarshalText writes the op's name.
func (o Op) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads an op's name.
func (o *Op) UnmarshalText(b []byte) error {
	switch string(b) {
	case "read":
		*o = Read
	case "write":
		*o = Write
	default:
		return fmt.Errorf("unknown op %q", b)
	}
	return nil
}

// LatencySummary is a latency distribution boiled down to the figures a
// report shows. Percentiles are within 0.1% of the recorded latency (the
// histogram keeps 3 significant digits from 1 ns up); Min, Mean and Max
// are exact.
type LatencySummary struct {
	Count  uint64        `json:"count"`
	Min    time.Duration `json:"min_ns"`
	Mean   time.Duration `json:"mean_ns"`
	Stddev time.Duration `json:"stddev_ns"`
	P50    time.Duration `json:"p50_ns"`
	P90    time.Duration `json:"p90_ns"`
	P99    time.Duration `json:"p99_ns"`
	P999   time.Duration `json:"p99_9_ns"`
	P9999  time.Duration `json:"p99_99_ns"`
	Max    time.Duration `json:"max_ns"`
}

// Interval is what one target did with one op in one time slice of a phase.
type Interval struct {
	Start    time.Time
	End      time.Time
	Phase    string
	Target   string
	Op       Op
	Ops      uint64
	Bytes    uint64
	Errors   uint64
	InFlight int
	// Ramp is true for slices inside the phase's ramp (not in statistics).
	Ramp bool
	Lat  LatencySummary
	// Missed counts open-loop slots skipped after a stall (their latency
	// is in the histogram; they were not issued).
	Missed uint64
	// Hist is the interval's latency histogram. It is only valid during
	// the Sink.Add call that delivers it; sinks that keep it must copy it.
	Hist *hdr.Histogram `json:"-"`
}

// EventKind classifies an Event.
type EventKind uint8

// The kinds of event.
const (
	EvRunStart EventKind = iota
	EvRunEnd
	EvPhaseStart
	EvPhaseEnd
	EvIOError
	EvStallStart
	EvStallEnd
	EvDrillInject
	EvDrillRecover
	EvDrillMark
	EvPathState
	EvSessionState
	EvMapChange
	EvDeviceGone
	EvDeviceBack
	EvVerify
	EvInterrupted
	EvNote
	// EvUnitAttention is a SCSI unit attention the kernel logged for one of
	// a target's path devices (a target reset, a relogin to another head).
	EvUnitAttention
	// EvHostLost is a host whose agent (or its SSH connection) was lost
	// mid-run, in a run over several hosts; its data ends there.
	EvHostLost
	numEventKinds
)

func eventKindNames() [numEventKinds]string {
	return [numEventKinds]string{
		"run_start", "run_end", "phase_start", "phase_end", "io_error",
		"stall_start", "stall_end", "drill_inject", "drill_recover", "drill_mark",
		"path_state", "session_state", "map_change", "device_gone", "device_back",
		"verify", "interrupted", "note", "unit_attention", "host_lost",
	}
}

// String returns the kind's snake_case name, as written in events.jsonl.
func (k EventKind) String() string {
	if k < numEventKinds {
		return eventKindNames()[k]
	}
	return fmt.Sprintf("event(%d)", uint8(k))
}

// MarshalText writes the kind's name.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *EventKind) UnmarshalText(b []byte) error {
	for i, n := range eventKindNames() {
		if n == string(b) {
			*k = EventKind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown event kind %q", b)
}

// Event is something that happened at a point in time: a phase started, a
// drill injected a fault, I/O stalled or resumed, a path changed state.
type Event struct {
	Time   time.Time `json:"time"`
	Kind   EventKind `json:"kind"`
	Phase  string    `json:"phase,omitempty"`
	Target string    `json:"target,omitempty"`
	// Path is a path device (sdg), session (session3) or map (dm-4).
	Path   string `json:"path,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Dur is, for stalls, the exact gap between completions.
	Dur time.Duration `json:"dur_ns,omitempty"`
	// Offset is the byte offset of an I/O error or verify finding, -1 if none.
	Offset int64  `json:"offset,omitempty"`
	Errno  string `json:"errno,omitempty"`
	// Host is the host whose agent saw the event, in a run over several
	// hosts ("" on a run of one).
	Host string `json:"host,omitempty"`
}

// MarshalJSON adds a human-readable duration next to dur_ns.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	out := struct {
		plain
		DurText string `json:"dur,omitempty"`
	}{plain: plain(e)}
	if e.Dur != 0 {
		out.DurText = e.Dur.String()
	}
	return json.Marshal(out)
}

// EventSink receives events; implementations must be safe for concurrent use.
type EventSink interface {
	Event(Event)
}

// CommandResult is what one drill command (inject or recover) did.
type CommandResult struct {
	// Command is the command as written in the scenario (before ${VAR}
	// expansion, so secrets passed through the environment stay out).
	Command  string        `json:"command"`
	Start    time.Time     `json:"start"`
	End      time.Time     `json:"end"`
	Dur      time.Duration `json:"dur_ns"`
	ExitCode int           `json:"exit_code"`
	TimedOut bool          `json:"timed_out,omitempty"`
	// Err is set when the command could not be started or was killed.
	Err string `json:"error,omitempty"`
	// Output is the file (relative to the results directory) holding the
	// command's stdout and stderr.
	Output string `json:"output,omitempty"`
}

// OK reports whether the command ran to completion with exit status 0.
func (c *CommandResult) OK() bool { return c != nil && c.Err == "" && !c.TimedOut && c.ExitCode == 0 }

// DrillResult is what one drill did to one phase's I/O.
type DrillResult struct {
	Phase  string `json:"phase"`
	Name   string `json:"name"`
	Manual bool   `json:"manual,omitempty"`
	// Injected is false when the phase ended (or the run stopped) before
	// the drill's moment came, or a manual drill was never marked.
	Injected bool `json:"injected"`
	// InjectAt is the fault's moment: when the inject command started, or
	// when the operator marked a manual drill.
	InjectAt  time.Time      `json:"inject_at"`
	Inject    *CommandResult `json:"inject,omitempty"`
	RecoverAt time.Time      `json:"recover_at,omitempty"`
	Recover   *CommandResult `json:"recover,omitempty"`
	// WindowEnd closes the span the drill's errors and worst second are
	// taken from.
	WindowEnd time.Time     `json:"window_end"`
	Targets   []DrillTarget `json:"targets"`
	// The verify passes after the drill's recovery (phases with verify:
	// true) are in Result.Verify, one per target, named "drill NAME".
}

// DrillTarget is a drill's effect on one target.
type DrillTarget struct {
	Target string `json:"target"`
	// Stalled is true when a stall (no completion for longer than the
	// stall threshold) began in the drill's window.
	Stalled bool `json:"stalled"`
	// LastBefore and FirstAfter are the completions on either side of the
	// stall; Stall is the gap between them.
	LastBefore time.Time     `json:"last_before,omitempty"`
	FirstAfter time.Time     `json:"first_after,omitempty"`
	Stall      time.Duration `json:"stall_ns"`
	// Detection is inject → last completion before the gap. A drill owns
	// only a gap that became a stall (outlasted the stall threshold) after
	// its inject, so Detection is never below minus the threshold: I/O may
	// have been slow for a moment before the inject. It is 0 when the
	// drill has no stall of its own. (A manual drill may own a stall
	// already going on at its mark, as a person marks a pulled cable
	// after pulling it; then it can be lower.)
	Detection time.Duration `json:"detection_ns"`
	// Resume is inject → first completion after the gap; Resumed is false
	// when no I/O completed again before the phase ended.
	Resume  time.Duration `json:"resume_ns"`
	Resumed bool          `json:"resumed"`
	// InFlight is how many I/Os were outstanding when the stall began;
	// MaxLatency is the longest I/O that completed in the window.
	InFlight   int           `json:"in_flight"`
	MaxLatency time.Duration `json:"max_latency_ns"`
	// Errors failed in the window, by errno.
	Errors uint64            `json:"errors"`
	Errnos map[string]uint64 `json:"errnos,omitempty"`
	// Throughput (bytes/s, reads and writes together): the 10 s before the
	// inject, the worst whole second in the window, and the 10 s after I/O
	// resumed. AfterRatio is After/Before (0 when Before is 0).
	Before     float64 `json:"before_bytes_per_sec"`
	Worst      float64 `json:"worst_bytes_per_sec"`
	After      float64 `json:"after_bytes_per_sec"`
	AfterRatio float64 `json:"after_ratio"`
	// DeviceGone is how long the device node was missing (ENODEV/ENXIO)
	// during the window, 0 when it never was.
	DeviceGone time.Duration `json:"device_gone_ns,omitempty"`
	// PathMove is when traffic moved to other paths, from per-path
	// diskstats (nil when the target has no paths or none moved).
	PathMove *PathMove `json:"path_move,omitempty"`
	// Note says when the stall's attribution is ambiguous: a stall that
	// was still going on when the next drill was injected, or one of an
	// earlier drill that this drill's inject fell into; or that the
	// verify pass after the drill (or the one at the phase end, when the
	// drill had none of its own) stalled.
	Note string `json:"note,omitempty"`
	// Budget is the stall the host's settings predict for this drill,
	// beside Stall (nil for drills that were not injected).
	Budget *Budget `json:"budget,omitempty"`
	// Causes are the likely causes of a stall above the scenario's
	// max_stall, when the target is reached through an IP.
	Causes []Cause `json:"likely_causes,omitempty"`
}

// PathMove is the moment a multipath map's traffic left the paths that
// carried it before a drill.
type PathMove struct {
	// At is the end of the first diskstats sample after the inject in
	// which the map completed I/O while a path that carried I/O before
	// carried none.
	At    time.Time     `json:"at"`
	After time.Duration `json:"after_inject_ns"`
	// From are the paths that went idle, To the paths carrying I/O.
	From []string `json:"from"`
	To   []string `json:"to"`
}
