package remote

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"lunbench/collect"
	"lunbench/report"
	"lunbench/scenarios"
	"lunbench/workload"
)

// ProtocolVersion is the version of the agent protocol (PROTOCOL.md). A
// coordinator refuses an agent that speaks another.
const ProtocolVersion = 1

// maxLine bounds one protocol line: a final result with every phase's
// histogram is the largest message, far below it.
const maxLine = 64 << 20

// The message types, in the order a run uses them (PROTOCOL.md).
const (
	MsgHello       = "hello"        // agent: protocol, lunbench version, arch
	MsgPing        = "ping"         // coordinator: clock-sync probe
	MsgPong        = "pong"         // agent: its clock at the ping
	MsgScenario    = "scenario"     // coordinator: this host's share of the scenario
	MsgReady       = "ready"        // agent: targets prepared, preflight done
	MsgPhaseReady  = "phase_ready"  // agent: at the barrier before a phase
	MsgStart       = "start"        // coordinator: start that phase at a time
	MsgSnapshot    = "snapshot"     // agent: a tick's slices, intervals and stalls
	MsgEvent       = "event"        // agent: one event
	MsgDrillCmd    = "drill_cmd"    // agent: its runner wants a drill command run
	MsgDrillResult = "drill_result" // coordinator: the command's result
	MsgExec        = "exec"         // coordinator: run a drill command on this host
	MsgExecResult  = "exec_result"  // agent: its result
	MsgDiskStats   = "diskstats"    // agent: a diskstats sample of its targets and paths
	MsgTopology    = "topology"     // agent: its targets' topology at the start or the end
	MsgResult      = "result"       // agent: the run's result with phase histograms
	MsgStop        = "stop"         // coordinator: stop the run (interrupt)
	MsgBye         = "bye"          // coordinator: all done, exit
	MsgError       = "error"        // agent: a fatal problem, in words
)

// Msg is one line of the protocol. Type says which fields mean something.
type Msg struct {
	Type string `json:"type"`
	// hello
	Proto   int    `json:"proto,omitempty"`
	Version string `json:"version,omitempty"`
	Arch    string `json:"arch,omitempty"`
	PID     int    `json:"pid,omitempty"`
	// ping, pong: Seq pairs them; T is the agent's clock (Unix ns) at the
	// ping's arrival.
	Seq int   `json:"seq,omitempty"`
	T   int64 `json:"t,omitempty"`
	// scenario
	Host     string              `json:"host,omitempty"`
	Scenario *scenarios.Scenario `json:"scenario,omitempty"`
	// ready
	RunHost   *report.Host    `json:"run_host,omitempty"`
	Preflight json.RawMessage `json:"preflight,omitempty"`
	// phase_ready, start: Phase is the phase's name; At (start) is the
	// agent-clock Unix ns at which to start it.
	Phase string `json:"phase,omitempty"`
	At    int64  `json:"at,omitempty"`
	// snapshot, event
	Snapshot *WireSnapshot   `json:"snapshot,omitempty"`
	Event    *workload.Event `json:"event,omitempty"`
	// drill_cmd, drill_result, exec, exec_result: ID pairs request and
	// answer; Command is a drill token (drill_cmd) or a shell command
	// (exec), Shown the command as written.
	ID      int                     `json:"id,omitempty"`
	Command string                  `json:"command,omitempty"`
	Shown   string                  `json:"shown,omitempty"`
	Timeout time.Duration           `json:"timeout_ns,omitempty"`
	Cmd     *workload.CommandResult `json:"cmd,omitempty"`
	Output  string                  `json:"output,omitempty"`
	// diskstats, topology (Phase is "start" or "end")
	DiskStats []collect.DiskStat `json:"diskstats,omitempty"`
	Topology  json.RawMessage    `json:"topology,omitempty"`
	// result
	Result *WireResult `json:"result,omitempty"`
	// error
	Error string `json:"error,omitempty"`
}

// WireSnapshot is a workload.Snapshot on the wire: each completed
// interval carries its histogram in HdrHistogram's compressed encoding.
type WireSnapshot struct {
	Time         time.Time             `json:"time"`
	Elapsed      time.Duration         `json:"elapsed"`
	Phase        string                `json:"phase"`
	PhaseIndex   int                   `json:"phase_index"`
	PhaseCount   int                   `json:"phase_count"`
	PhaseElapsed time.Duration         `json:"phase_elapsed"`
	PhaseLength  time.Duration         `json:"phase_length"`
	Ramp         bool                  `json:"ramp,omitempty"`
	Slices       []workload.Interval   `json:"slices,omitempty"`
	Intervals    []WireInterval        `json:"intervals,omitempty"`
	Stalls       []workload.StallState `json:"stalls,omitempty"`
}

// WireInterval is an interval with its histogram encoded.
type WireInterval struct {
	workload.Interval
	Hist []byte `json:"hist,omitempty"`
}

// WireResult is a workload.Result with each phase result's histogram
// encoded, in the order of Result.Phases.
type WireResult struct {
	workload.Result
	Hists [][]byte `json:"hists"`
}

// encodeHist encodes h as HdrHistogram's compressed V2 form (base64 text,
// the form .hlog files hold); nil for an empty or missing histogram.
func encodeHist(h *hdr.Histogram) ([]byte, error) {
	if h == nil || h.TotalCount() == 0 {
		return nil, nil
	}
	return h.Encode(hdr.V2CompressedEncodingCookieBase)
}

// decodeHist reverses encodeHist; nil stays nil.
func decodeHist(b []byte) (*hdr.Histogram, error) {
	if len(b) == 0 {
		return nil, nil
	}
	h, err := hdr.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	return h, nil
}

// ToWire converts a snapshot for sending.
func ToWire(s *workload.Snapshot) (*WireSnapshot, error) {
	w := &WireSnapshot{Time: s.Time, Elapsed: s.Elapsed, Phase: s.Phase, PhaseIndex: s.PhaseIndex,
		PhaseCount: s.PhaseCount, PhaseElapsed: s.PhaseElapsed, PhaseLength: s.PhaseLength, Ramp: s.Ramp,
		Slices: s.Slices, Stalls: s.Stalls}
	for _, iv := range s.Intervals {
		b, err := encodeHist(iv.Hist)
		if err != nil {
			return nil, err
		}
		iv.Hist = nil
		w.Intervals = append(w.Intervals, WireInterval{Interval: iv, Hist: b})
	}
	return w, nil
}

// Snapshot converts a received snapshot back, histograms decoded.
func (w *WireSnapshot) Snapshot() (*workload.Snapshot, error) {
	s := &workload.Snapshot{Time: w.Time, Elapsed: w.Elapsed, Phase: w.Phase, PhaseIndex: w.PhaseIndex,
		PhaseCount: w.PhaseCount, PhaseElapsed: w.PhaseElapsed, PhaseLength: w.PhaseLength, Ramp: w.Ramp,
		Slices: w.Slices, Stalls: w.Stalls}
	for _, wi := range w.Intervals {
		iv := wi.Interval
		h, err := decodeHist(wi.Hist)
		if err != nil {
			return nil, err
		}
		iv.Hist = h
		s.Intervals = append(s.Intervals, iv)
	}
	return s, nil
}

// ResultToWire converts a run's result for sending.
func ResultToWire(r *workload.Result) (*WireResult, error) {
	w := &WireResult{Result: *r}
	for _, p := range r.Phases {
		b, err := encodeHist(p.Hist)
		if err != nil {
			return nil, err
		}
		w.Hists = append(w.Hists, b)
	}
	return w, nil
}

// WorkloadResult converts a received result back, histograms decoded.
func (w *WireResult) WorkloadResult() (*workload.Result, error) {
	r := w.Result
	r.Phases = append([]workload.PhaseResult(nil), w.Phases...)
	for i := range r.Phases {
		if i >= len(w.Hists) {
			break
		}
		h, err := decodeHist(w.Hists[i])
		if err != nil {
			return nil, err
		}
		r.Phases[i].Hist = h
	}
	return &r, nil
}

// Conn is one end of the protocol: JSON lines in, JSON lines out. Send is
// safe for concurrent use; Recv is for one reader.
type Conn struct {
	mu  sync.Mutex
	w   io.Writer
	enc *json.Encoder
	sc  *bufio.Scanner
	// Sent and Received count the bytes on the wire, for the scale figures.
	Sent, Received int64
}

// NewConn speaks the protocol over r and w.
func NewConn(r io.Reader, w io.Writer) *Conn {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	c := &Conn{w: w, sc: sc}
	c.enc = json.NewEncoder(countWriter{c})
	return c
}

type countWriter struct{ c *Conn }

func (cw countWriter) Write(b []byte) (int, error) {
	n, err := cw.c.w.Write(b)
	cw.c.Sent += int64(n)
	return n, err
}

// Send writes one message as one line.
func (c *Conn) Send(m *Msg) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.enc.Encode(m)
}

// Recv reads the next message; io.EOF when the other end closed.
func (c *Conn) Recv() (*Msg, error) {
	if !c.sc.Scan() {
		if err := c.sc.Err(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	line := c.sc.Bytes()
	c.Received += int64(len(line)) + 1
	m := &Msg{}
	if err := json.Unmarshal(line, m); err != nil {
		return nil, fmt.Errorf("protocol: bad line %q: %w", truncate(line, 80), err)
	}
	return m, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
