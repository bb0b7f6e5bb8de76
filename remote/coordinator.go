package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"lunbench/collect"
	"lunbench/report"
	"lunbench/scenarios"
	"lunbench/workload"
)

// Options configure a coordinator run.
type Options struct {
	// Scenario is the whole scenario, hosts: and all.
	Scenario *scenarios.Scenario
	// Dir is the results directory to create.
	Dir string
	// Transport picks the transport for a host (ssh: set or not).
	Transport func(h Host) Transport
	// AgentArgs are extra arguments for a host's agent (tests give one a
	// --clock-offset).
	AgentArgs func(h Host) []string
	// Version is the lunbench version agents must speak.
	Version string
	// Sinks and Events receive the merged stream on the coordinator's
	// timeline (the dashboard); Status hears how the run goes, in words.
	Sinks  []workload.Sink
	Events workload.EventSink
	Status func(string)
	// ClockSamples is how many pings estimate each clock (default 8).
	ClockSamples int
	// Barrier is how far ahead of its release a phase's start is set, so
	// that every host gets the start message before the moment comes
	// (default 100 ms).
	Barrier time.Duration
	// HelloTimeout bounds an agent's start-up: hello, clock sync, and its
	// targets prepared (default 60 s).
	HelloTimeout time.Duration
	// NoRender skips charts and reports (the scale test).
	NoRender bool
}

// Outcome is what a coordinator run produced.
type Outcome struct {
	Run         *report.RunJSON
	Result      *workload.Result
	Hosts       []HostSummary
	Interrupted bool
}

// HostSummary is one host's part of the run, in run.json's extra.hosts.
type HostSummary struct {
	Name    string        `json:"name"`
	SSH     string        `json:"ssh,omitempty"`
	Status  string        `json:"status"` // finished, interrupted, lost, failed
	Version string        `json:"version,omitempty"`
	Arch    string        `json:"arch,omitempty"`
	Clock   ClockEstimate `json:"clock"`
	// DataEnd is the end of the last interval received from the host, on
	// the coordinator's timeline: where its data ends.
	DataEnd time.Time `json:"data_end,omitzero"`
	// LostAt is when the coordinator lost the host's agent.
	LostAt time.Time `json:"lost_at,omitzero"`
	Error  string    `json:"error,omitempty"`
	// Targets are the host's targets.
	Targets          []string `json:"targets"`
	PreflightErrors  int      `json:"preflight_errors"`
	PreflightWarning int      `json:"preflight_warnings"`
	// BytesIn and BytesOut are the protocol bytes received from and sent
	// to the agent.
	BytesIn  int64 `json:"protocol_bytes_in"`
	BytesOut int64 `json:"protocol_bytes_out"`
}

// host is the coordinator's state of one host.
type host struct {
	Host
	sub     *scenarios.Scenario
	sess    Session
	conn    *Conn
	clock   ClockEstimate
	version string
	arch    string
	runHost *report.Host
	pre     json.RawMessage
	dir     *report.Dir
	// waiting is the global index of the phase the host waits at (-1:
	// running a phase or preparing); done once its result, error or loss
	// came.
	waiting int
	done    bool
	gone    bool // lost, or its agent failed: it runs no drill command
	status  string
	errText string
	result  *workload.Result
	lastEnd time.Time
	lostAt  time.Time
	slices  []workload.Interval
	stalls  []workload.StallState
	// ivq are interval batches not yet published to the sinks.
	ivq [][]workload.Interval
	// disk is the host's diskstats.csv, diskRows its latest sample; topo
	// its topology at the start and the end.
	disk     *diskCSV
	diskRows []collect.DiskStat
	topo     map[string]json.RawMessage
}

// toCoord moves an agent's time onto the coordinator's timeline.
func (h *host) toCoord() time.Duration { return -h.clock.Offset }

// inMsg is a message (or the end of the stream) from one host.
type inMsg struct {
	h   *host
	m   *Msg
	err error
}

// Run runs sc over its hosts and writes one results directory: the merged
// view at the top, each host's own run under hosts/NAME/.
func Run(ctx context.Context, opt Options) (*Outcome, error) {
	c, err := newCoordinator(opt)
	if err != nil {
		return nil, err
	}
	defer c.closeAll()
	if err := c.startAll(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted while starting the agents: %w", ctx.Err())
		}
		return nil, err
	}
	if err := c.createDirs(); err != nil {
		return nil, err
	}
	c.loop(ctx)
	return c.finish()
}

// coordinator drives one run.
type coordinator struct {
	opt     Options
	sc      *scenarios.Scenario
	hosts   []*host
	byName  map[string]*host
	phaseIx map[string]int
	inPhase [][]string
	in      chan inMsg
	drills  *drillExec
	top     *report.Dir
	start   time.Time
	stopped bool
	last    *workload.Snapshot // the latest snapshot, for publish
	disk    *diskCSV           // the merged diskstats.csv
	mu      sync.Mutex         // Sinks and Events are called from the loop only; mu guards closeAll
}

func newCoordinator(opt Options) (*coordinator, error) {
	if opt.ClockSamples <= 0 {
		opt.ClockSamples = 8
	}
	if opt.Barrier <= 0 {
		opt.Barrier = 100 * time.Millisecond
	}
	if opt.HelloTimeout <= 0 {
		opt.HelloTimeout = 60 * time.Second
	}
	if opt.Status == nil {
		opt.Status = func(string) {}
	}
	sc := opt.Scenario
	for _, p := range sc.Phases {
		for _, d := range p.Drills {
			if d.Manual {
				return nil, fmt.Errorf("%s: drill %q of phase %q is manual; a run over several hosts takes no manual drills (lunbench mark reaches one host): give it at: or after:", d.Pos.File, d.Name, p.Name)
			}
		}
	}
	c := &coordinator{opt: opt, sc: sc, byName: map[string]*host{}, phaseIx: map[string]int{},
		inPhase: phaseHosts(sc), in: make(chan inMsg, 256)}
	for i, p := range sc.Phases {
		c.phaseIx[p.Name] = i
	}
	subs := Split(sc)
	ssh := map[string]string{}
	for _, h := range sc.Hosts {
		ssh[h.Name] = h.SSH
	}
	for _, name := range sc.HostNames() {
		h := &host{Host: Host{Name: name, SSH: ssh[name]}, sub: subs[name], waiting: -1}
		c.hosts = append(c.hosts, h)
		c.byName[name] = h
	}
	c.drills = newDrillExec(c)
	return c, nil
}

// startAll starts every host's agent at once and waits until each has
// said hello, had its clock measured, and prepared its targets.
func (c *coordinator) startAll(ctx context.Context) error {
	c.opt.Status(fmt.Sprintf("starting agents on %d host(s)", len(c.hosts)))
	errs := make([]error, len(c.hosts))
	var wg sync.WaitGroup
	for i, h := range c.hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.startHost(ctx, h)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *coordinator) startHost(ctx context.Context, h *host) error {
	var args []string
	if c.opt.AgentArgs != nil {
		args = c.opt.AgentArgs(h.Host)
	}
	sess, err := c.opt.Transport(h.Host).Start(ctx, h.Host, args)
	if err != nil {
		return fmt.Errorf("host %s: %w", h.Name, err)
	}
	h.sess = sess
	h.conn = NewConn(sess.Stdout(), sess.Stdin())
	// A host that says nothing in time is killed, which ends Recv; so is
	// every host when the run is interrupted while starting.
	t := time.AfterFunc(c.opt.HelloTimeout, func() { sess.Kill() })
	defer t.Stop()
	stop := context.AfterFunc(ctx, func() { sess.Kill() })
	defer stop()
	m, err := h.conn.Recv()
	if err != nil {
		return fmt.Errorf("host %s: no hello from the agent: %w", h.Name, err)
	}
	if m.Type != MsgHello || m.Proto != ProtocolVersion {
		return fmt.Errorf("host %s: the agent speaks protocol %d (%s), this lunbench %d", h.Name, m.Proto, m.Type, ProtocolVersion)
	}
	if m.Version != c.opt.Version {
		return fmt.Errorf("host %s: agent is lunbench %s, this is %s", h.Name, m.Version, c.opt.Version)
	}
	h.version, h.arch = m.Version, m.Arch
	var samples []ClockSample
	for i := 1; i <= c.opt.ClockSamples; i++ {
		t0 := time.Now().UnixNano()
		if err := h.conn.Send(&Msg{Type: MsgPing, Seq: i}); err != nil {
			return fmt.Errorf("host %s: clock sync: %w", h.Name, err)
		}
		m, err := h.conn.Recv()
		if err != nil || m.Type != MsgPong || m.Seq != i {
			return fmt.Errorf("host %s: clock sync: no pong %d (%v)", h.Name, i, err)
		}
		samples = append(samples, ClockSample{Sent: t0, Agent: m.T, Received: time.Now().UnixNano()})
	}
	h.clock = Estimate(samples)
	if err := h.conn.Send(&Msg{Type: MsgScenario, Host: h.Name, Scenario: h.sub}); err != nil {
		return fmt.Errorf("host %s: %w", h.Name, err)
	}
	m, err = h.conn.Recv()
	switch {
	case err != nil:
		return fmt.Errorf("host %s: the agent ended while preparing: %w", h.Name, err)
	case m.Type == MsgError:
		return errors.New(m.Error)
	case m.Type != MsgReady:
		return fmt.Errorf("host %s: want ready, got %s", h.Name, m.Type)
	}
	h.runHost, h.pre = m.RunHost, m.Preflight
	return nil
}

// closeAll ends every agent: bye, stdin closed, and a kill for one that
// does not exit within seconds.
func (c *coordinator) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	var wg sync.WaitGroup
	for _, h := range c.hosts {
		if h.sess == nil {
			continue
		}
		sess, conn := h.sess, h.conn
		h.sess = nil
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn.Send(&Msg{Type: MsgBye})
			sess.Stdin().Close()
			done := make(chan struct{})
			go func() { sess.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				sess.Kill()
				<-done
			}
		}()
	}
	wg.Wait()
}

// reader forwards a host's messages to the loop.
func (c *coordinator) reader(h *host) {
	for {
		m, err := h.conn.Recv()
		c.in <- inMsg{h: h, m: m, err: err}
		if err != nil {
			return
		}
	}
}

// loop handles every host's stream until all are done.
func (c *coordinator) loop(ctx context.Context) {
	c.start = time.Now()
	for _, h := range c.hosts {
		go c.reader(h)
	}
	c.event(nil, workload.Event{Kind: workload.EvNote, Detail: fmt.Sprintf("run over %d host(s): %s", len(c.hosts), c.hostList())})
	stopCh := ctx.Done()
	for !c.allDone() {
		select {
		case im := <-c.in:
			c.handle(im)
		case dd := <-c.drills.doneCh:
			c.drills.finished(dd)
		case <-stopCh:
			stopCh = nil
			c.stopAll("interrupted")
		}
		c.release()
	}
	c.drills.wait()
}

func (c *coordinator) hostList() string {
	s := ""
	for i, h := range c.hosts {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s (clock %+v ± %v)", h.Name, h.clock.Offset.Round(time.Microsecond), h.clock.Uncertainty.Round(time.Microsecond))
	}
	return s
}

func (c *coordinator) allDone() bool {
	for _, h := range c.hosts {
		if !h.done {
			return false
		}
	}
	return true
}

// stopAll asks every agent still running to stop.
func (c *coordinator) stopAll(why string) {
	if c.stopped {
		return
	}
	c.stopped = true
	c.opt.Status("stopping every host: " + why)
	for _, h := range c.hosts {
		if !h.done {
			h.conn.Send(&Msg{Type: MsgStop})
		}
	}
}

// handle takes one message (or a stream's end) from a host.
func (c *coordinator) handle(im inMsg) {
	h := im.h
	if h.done {
		return
	}
	if im.err != nil {
		why := "the agent's channel closed"
		if !errors.Is(im.err, io.EOF) {
			why = im.err.Error()
		}
		c.lose(h, why)
		return
	}
	m := im.m
	switch m.Type {
	case MsgSnapshot:
		c.snapshot(h, m.Snapshot)
	case MsgEvent:
		if m.Event != nil {
			e := *m.Event
			shiftEvent(&e, h.toCoord())
			c.event(h, e)
		}
	case MsgPhaseReady:
		if i, ok := c.phaseIx[m.Phase]; ok {
			h.waiting = i
			c.publish(true)
		}
	case MsgDiskStats:
		c.diskStats(h, m.DiskStats)
	case MsgTopology:
		c.topology(h, m.Phase, m.Topology)
	case MsgDrillCmd:
		c.drills.request(h, m)
	case MsgExecResult:
		c.drills.execResult(h, m)
	case MsgResult:
		c.result(h, m)
	case MsgError:
		h.done, h.gone, h.status, h.errText = true, true, "failed", m.Error
		c.event(h, workload.Event{Kind: workload.EvNote, Detail: "agent failed: " + m.Error})
		c.hostEnded(h)
	}
}

// lose records a host lost mid-run and applies on_host_loss.
func (c *coordinator) lose(h *host, why string) {
	h.done, h.gone, h.status, h.errText, h.lostAt = true, true, "lost", why, time.Now()
	detail := fmt.Sprintf("host %s lost: %s; its data ends at %s", h.Name, why, fmtTime(h.lastEnd))
	c.event(h, workload.Event{Kind: workload.EvHostLost, Detail: detail})
	c.hostEnded(h)
	if c.sc.OnHostLoss == scenarios.Stop {
		c.stopAll("on_host_loss: stop")
	}
}

// hostEnded lets the drills waiting on a host's commands go.
func (c *coordinator) hostEnded(h *host) {
	c.drills.hostGone(h)
	c.publish(true)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "its start (no interval received)"
	}
	return t.UTC().Format("15:04:05.000")
}

// snapshot moves a host's snapshot to the coordinator's timeline and
// writes it to the host's and the merged results.
func (c *coordinator) snapshot(h *host, w *WireSnapshot) {
	if w == nil {
		return
	}
	shiftSnapshot(w, h.toCoord())
	s, err := w.Snapshot()
	if err != nil {
		c.event(h, workload.Event{Kind: workload.EvNote, Detail: "bad snapshot: " + err.Error()})
		return
	}
	for _, iv := range s.Intervals {
		if iv.End.After(h.lastEnd) {
			h.lastEnd = iv.End
		}
	}
	h.dir.Add(s)
	c.top.Add(s)
	h.slices, h.stalls = s.Slices, s.Stalls
	if len(s.Intervals) > 0 {
		h.ivq = append(h.ivq, s.Intervals)
	}
	c.last = s
	c.publish(false)
}

// publish gives the sinks (dashboard, progress lines) the merged view:
// every host's latest slices and stalls (target names are unique across
// hosts), and one interval's worth of every running host's intervals
// once each has sent it (all queued ones when force is set, as a host
// stops running).
func (c *coordinator) publish(force bool) {
	if len(c.opt.Sinks) == 0 || c.last == nil {
		return
	}
	ready := true
	for _, h := range c.hosts {
		if !h.done && h.waiting < 0 && len(h.ivq) == 0 {
			ready = false
		}
	}
	m := *c.last
	m.Elapsed = m.Time.Sub(c.start)
	m.Slices, m.Stalls, m.Intervals = nil, nil, nil
	for _, o := range c.hosts {
		m.Slices = append(m.Slices, o.slices...)
		m.Stalls = append(m.Stalls, o.stalls...)
		switch {
		case force:
			for _, b := range o.ivq {
				m.Intervals = append(m.Intervals, b...)
			}
			o.ivq = nil
		case ready && len(o.ivq) > 0:
			m.Intervals = append(m.Intervals, o.ivq[0]...)
			o.ivq = o.ivq[1:]
		}
	}
	for _, sk := range c.opt.Sinks {
		sk.Add(&m)
	}
}

// event writes an event (nil host: the coordinator's own).
func (c *coordinator) event(h *host, e workload.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if h != nil {
		e.Host = h.Name
		if h.dir != nil {
			h.dir.Event(e)
		}
	}
	if c.top != nil {
		c.top.Event(e)
	}
	if c.opt.Events != nil {
		c.opt.Events.Event(e)
	}
}

// result takes a host's final result.
func (c *coordinator) result(h *host, m *Msg) {
	h.done, h.status = true, "finished"
	if m.Result == nil {
		h.status, h.errText = "failed", "result message without a result"
		return
	}
	r, err := m.Result.WorkloadResult()
	if err != nil {
		h.status, h.errText = "failed", err.Error()
		return
	}
	shiftResult(r, h.toCoord())
	h.result = r
	switch {
	case m.Error != "":
		h.status, h.errText = "failed", m.Error
	case r.Interrupted:
		h.status = "interrupted"
	}
	c.publish(true)
}

// release starts the next phase on its hosts once no host is running one
// and every host of it waits at its barrier: phases keep the scenario's
// order across hosts.
func (c *coordinator) release() {
	next := -1
	for _, h := range c.hosts {
		switch {
		case h.done:
			continue
		case h.waiting < 0:
			return // running a phase, or not at a barrier yet
		case next < 0 || h.waiting < next:
			next = h.waiting
		}
	}
	if next < 0 {
		return
	}
	name := c.sc.Phases[next].Name
	at := time.Now().Add(c.opt.Barrier)
	for _, h := range c.hosts {
		if h.done || h.waiting != next {
			continue
		}
		h.waiting = -1
		h.conn.Send(&Msg{Type: MsgStart, Phase: name, At: at.Add(h.clock.Offset).UnixNano()})
	}
	c.opt.Status(fmt.Sprintf("phase %s started on %v", name, c.inPhase[next]))
}

func eventNote(detail string) workload.Event {
	return workload.Event{Kind: workload.EvNote, Detail: detail}
}
