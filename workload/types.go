package workload

import (
	"encoding/json"
	"fmt"
	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"time"
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
// report shows. Durations are exact to the microsecond (histogram precision
// is 3 significant digits; Min and Max are exact).
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
	numEventKinds
)

func eventKindNames() [numEventKinds]string {
	return [numEventKinds]string{
		"run_start", "run_end", "phase_start", "phase_end", "io_error",
		"stall_start", "stall_end", "drill_inject", "drill_recover", "drill_mark",
		"path_state", "session_state", "map_change", "device_gone", "device_back",
		"verify", "interrupted", "note",
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
