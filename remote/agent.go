package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"lunbench/collect/preflight"
	"lunbench/report"
	"lunbench/scenarios"
	"lunbench/workload"
)

// AgentOptions configure one agent: its channel to the coordinator and
// the machine it runs on.
type AgentOptions struct {
	In  io.Reader // the coordinator's messages (the agent's stdin)
	Out io.Writer // the agent's messages (its stdout)
	// Version is the lunbench version the agent reports in its hello.
	Version string
	// Skew is added to every time the agent sends: a test-only way to
	// give the agent a wrong wall clock (lunbench agent --clock-offset).
	Skew time.Duration
	// SysRoot is the root preflight reads ("/" for the real host).
	SysRoot string
}

// agent is one running agent.
type agent struct {
	opt  AgentOptions
	conn *Conn
	out  *outbox
	// starts carries start messages to the phase gate; drills the
	// coordinator's answers to drill commands, by ID.
	starts chan *Msg
	mu     sync.Mutex
	drills map[int]chan *Msg
	nextID int
	// exec runs drill commands the coordinator sends to this host.
	exec workload.CommandRunner
}

// RunAgent speaks the protocol until the coordinator says bye or closes
// the channel (then it stops any run at once). It returns the error that
// ended it (nil after bye or a closed channel).
func RunAgent(ctx context.Context, opt AgentOptions) error {
	a := &agent{opt: opt, conn: NewConn(opt.In, opt.Out), starts: make(chan *Msg, 4),
		drills: map[int]chan *Msg{}, exec: workload.ShellRunner{}}
	if a.opt.SysRoot == "" {
		a.opt.SysRoot = "/"
	}
	a.out = newOutbox(a.conn)
	defer a.out.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := a.send(&Msg{Type: MsgHello, Proto: ProtocolVersion, Version: opt.Version, Arch: runtime.GOARCH, PID: os.Getpid()}); err != nil {
		return err
	}
	runCtx, runStop := context.WithCancel(ctx)
	runDone := make(chan struct{})
	started := false
	defer func() {
		runStop()
		if started {
			<-runDone
		}
	}()
	for {
		m, err := a.conn.Recv()
		if err != nil {
			// The coordinator is gone (or said nothing we can read):
			// nothing it could still want, so stop now.
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		switch m.Type {
		case MsgPing:
			a.send(&Msg{Type: MsgPong, Seq: m.Seq, T: a.now().UnixNano()})
		case MsgScenario:
			if started {
				a.fail("a second scenario: this agent already runs one")
				continue
			}
			started = true
			go func() {
				defer close(runDone)
				a.run(runCtx, m.Host, m.Scenario)
			}()
		case MsgStart:
			select {
			case a.starts <- m:
			default:
			}
		case MsgDrillResult:
			a.mu.Lock()
			ch := a.drills[m.ID]
			delete(a.drills, m.ID)
			a.mu.Unlock()
			if ch != nil {
				ch <- m
			}
		case MsgExec:
			go a.runExec(ctx, m)
		case MsgStop:
			runStop()
		case MsgBye:
			return nil
		}
	}
}

// send queues a message for the coordinator.
func (a *agent) send(m *Msg) error { return a.out.Send(m) }

// now is the agent's wall clock, skewed as a test asked.
func (a *agent) now() time.Time { return time.Now().Add(a.opt.Skew) }

func (a *agent) fail(msg string) { a.send(&Msg{Type: MsgError, Error: msg}) }

// run prepares and runs this host's share of the scenario, streaming
// snapshots and events, and sends the result.
func (a *agent) run(ctx context.Context, host string, sc *scenarios.Scenario) {
	if sc == nil {
		a.fail("scenario message without a scenario")
		return
	}
	opt := workload.Options{Commands: &drillProxy{a: a}, PhaseGate: a.gate}
	runner, err := workload.NewRunner(sc, opt, nil)
	if err != nil {
		a.fail(fmt.Sprintf("host %s: %v", host, err))
		return
	}
	exp := map[string]preflight.Expect{}
	for _, t := range sc.Targets {
		if t.Expect != nil {
			exp[t.Path] = preflight.Expect(*t.Expect)
		}
	}
	pre, _ := json.Marshal(preflight.Run(a.opt.SysRoot, exp, a.now()))
	h := report.ThisHost()
	a.send(&Msg{Type: MsgReady, RunHost: &h, Preflight: pre})
	events := eventSender{a}
	runner.Attach(events, snapshotSender{a})
	col := a.startCollectors(sc, events)
	res, err := runner.Run(ctx)
	col.stop()
	if res != nil {
		shiftResult(res, a.opt.Skew)
		if w, werr := ResultToWire(res); werr == nil {
			msg := &Msg{Type: MsgResult, Result: w}
			if err != nil {
				msg.Error = err.Error()
			}
			a.send(msg)
			return
		} else {
			err = errors.Join(err, werr)
		}
	}
	a.fail(fmt.Sprintf("host %s: %v", host, err))
}

// gate holds a phase at the coordinator's barrier: it says it is ready,
// waits for the start, then sleeps until the start's moment.
func (a *agent) gate(ctx context.Context, _ int, name string) error {
	if err := a.send(&Msg{Type: MsgPhaseReady, Phase: name}); err != nil {
		return err
	}
	for {
		select {
		case m := <-a.starts:
			if m.Phase != name {
				continue // a stale start; ours comes
			}
			if d := time.Duration(m.At - a.now().UnixNano()); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				}
			}
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// runExec runs a drill command the coordinator sends to this host and
// answers with its result and output.
func (a *agent) runExec(ctx context.Context, m *Msg) {
	out, err := os.CreateTemp("", "lunbench-drill-*.log")
	path := ""
	if err == nil {
		path = out.Name()
		out.Close()
		defer os.Remove(path)
	}
	var res workload.CommandResult
	if sr, ok := a.exec.(workload.ShownRunner); ok && m.Shown != "" && m.Shown != m.Command {
		res = sr.RunShown(ctx, m.Command, m.Shown, m.Timeout, path)
	} else {
		res = a.exec.Run(ctx, m.Command, m.Timeout, path)
	}
	var text string
	if path != "" {
		if b, err := os.ReadFile(path); err == nil {
			const max = 64 << 10
			if len(b) > max {
				b = append(b[:max:max], "\n[output cut at 64KiB]\n"...)
			}
			text = string(b)
		}
	}
	shiftCommand(&res, a.opt.Skew)
	a.send(&Msg{Type: MsgExecResult, ID: m.ID, Cmd: &res, Output: text})
}

// drillProxy is the agent runner's CommandRunner: a drill command is run
// once for every host, by the coordinator or the drill's on: host, so it
// asks the coordinator and waits for the answer.
type drillProxy struct{ a *agent }

// Run implements workload.CommandRunner; command is the coordinator's
// token for one drill command (see Split).
func (p *drillProxy) Run(ctx context.Context, command string, timeout time.Duration, _ string) workload.CommandResult {
	a := p.a
	ch := make(chan *Msg, 1)
	a.mu.Lock()
	a.nextID++
	id := a.nextID
	a.drills[id] = ch
	a.mu.Unlock()
	start := a.now()
	fail := func(why string) workload.CommandResult {
		return workload.CommandResult{Start: start, End: a.now(), Dur: a.now().Sub(start), ExitCode: -1, Err: why}
	}
	if err := a.send(&Msg{Type: MsgDrillCmd, ID: id, Command: command, Timeout: timeout}); err != nil {
		return fail(err.Error())
	}
	select {
	case m := <-ch:
		if m.Cmd == nil {
			return fail("the coordinator sent no result: " + m.Error)
		}
		return *m.Cmd
	case <-ctx.Done():
		return fail("killed: the run stopped")
	}
}

// eventSender streams the runner's events.
type eventSender struct{ a *agent }

func (s eventSender) Event(e workload.Event) {
	shiftEvent(&e, s.a.opt.Skew)
	s.a.send(&Msg{Type: MsgEvent, Event: &e})
}

// snapshotSender streams the runner's snapshots: every tick's slices (the
// dashboard's) and the intervals with their histograms.
type snapshotSender struct{ a *agent }

func (s snapshotSender) Add(snap *workload.Snapshot) {
	w, err := ToWire(snap)
	if err != nil {
		s.a.fail(err.Error())
		return
	}
	shiftSnapshot(w, s.a.opt.Skew)
	s.a.send(&Msg{Type: MsgSnapshot, Snapshot: w})
}
