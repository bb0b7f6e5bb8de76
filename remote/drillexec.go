package remote

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"lunbench/workload"
)

// drillExec runs each drill command once for all hosts: the first host
// whose runner reaches it starts it (on the coordinator, or on the drill's
// on: host); every host asking gets the same result, on its own clock.
type drillExec struct {
	c       *coordinator
	cmds    workload.CommandRunner
	pending map[string]*drillCmd
	doneCh  chan *drillCmd
	// execs are commands sent to an on: host's agent, by ID.
	mu     sync.Mutex
	execs  map[int]execWait
	nextID int
	wg     sync.WaitGroup
	// Results are the commands as run, for the merged drills.
	results map[string]workload.CommandResult
}

// drillCmd is one command of one drill.
type drillCmd struct {
	token   string
	on      *host // nil: the coordinator
	waiters []waiter
	done    bool
	res     workload.CommandResult // on the coordinator's timeline
}

// execWait is a command sent to a host's agent, waiting for its answer.
type execWait struct {
	h  *host
	ch chan *Msg
}

type waiter struct {
	h  *host
	id int
}

func newDrillExec(c *coordinator) *drillExec {
	return &drillExec{c: c, cmds: workload.ShellRunner{}, pending: map[string]*drillCmd{},
		doneCh: make(chan *drillCmd, 16), execs: map[int]execWait{}, results: map[string]workload.CommandResult{}}
}

// request takes a host runner's drill command (on the loop goroutine).
func (d *drillExec) request(h *host, m *Msg) {
	dc := d.pending[m.Command]
	if dc == nil {
		dc = &drillCmd{token: m.Command}
		d.pending[m.Command] = dc
		if err := d.start(dc, m.Timeout); err != nil {
			dc.done = true
			dc.res = workload.CommandResult{Start: time.Now(), End: time.Now(), ExitCode: -1, Err: err.Error()}
		}
	}
	dc.waiters = append(dc.waiters, waiter{h, m.ID})
	if dc.done {
		d.answer(dc)
	}
}

// start runs the command in the background.
func (d *drillExec) start(dc *drillCmd, timeout time.Duration) error {
	pi, di, what, err := parseDrillToken(dc.token)
	if err != nil || pi >= len(d.c.sc.Phases) || di >= len(d.c.sc.Phases[pi].Drills) {
		return fmt.Errorf("unknown drill command %q", dc.token)
	}
	p := d.c.sc.Phases[pi]
	dr := p.Drills[di]
	command, shown := dr.Inject, dr.InjectSource
	if what == "recover" {
		command, shown = dr.Recover.Command, dr.Recover.CommandSource
	}
	if dr.On != "" {
		dc.on = d.c.byName[dr.On]
		if dc.on == nil || dc.on.gone {
			return fmt.Errorf("drill %s: host %s, which runs its commands, is not running", dr.Name, dr.On)
		}
	}
	out := filepath.Join(d.c.opt.Dir, "drills", fmt.Sprintf("%s.%s.%s.log", safeName(p.Name), safeName(dr.Name), what))
	d.c.event(nil, workload.Event{Kind: workload.EvNote, Phase: p.Name, Path: dr.Name,
		Detail: fmt.Sprintf("drill %s: %s command runs on %s", dr.Name, what, hostName(dc.on))})
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if dc.on == nil {
			dc.res = d.runHere(command, shown, timeout, out)
		} else {
			dc.res = d.runOn(dc.on, command, shown, timeout, out)
		}
		dc.res.Command = shown
		dc.res.Output = filepath.Join("drills", filepath.Base(out))
		d.doneCh <- dc
	}()
	return nil
}

func hostName(h *host) string {
	if h == nil {
		return "the coordinator"
	}
	return "host " + h.Name
}

func (d *drillExec) runHere(command, shown string, timeout time.Duration, out string) workload.CommandResult {
	if sr, ok := d.cmds.(workload.ShownRunner); ok && shown != "" && shown != command {
		return sr.RunShown(context.Background(), command, shown, timeout, out)
	}
	return d.cmds.Run(context.Background(), command, timeout, out)
}

// runOn sends the command to h's agent and waits for its answer.
func (d *drillExec) runOn(h *host, command, shown string, timeout time.Duration, out string) workload.CommandResult {
	ch := make(chan *Msg, 1)
	d.mu.Lock()
	d.nextID++
	id := d.nextID
	d.execs[id] = execWait{h, ch}
	d.mu.Unlock()
	start := time.Now()
	if err := h.conn.Send(&Msg{Type: MsgExec, ID: id, Command: command, Shown: shown, Timeout: timeout}); err != nil {
		return workload.CommandResult{Start: start, End: time.Now(), ExitCode: -1, Err: err.Error()}
	}
	m := <-ch
	if m.Cmd == nil {
		return workload.CommandResult{Start: start, End: time.Now(), ExitCode: -1, Err: m.Error}
	}
	res := *m.Cmd
	shiftCommand(&res, h.toCoord())
	os.MkdirAll(filepath.Dir(out), 0o755)
	os.WriteFile(out, []byte(m.Output), 0o644)
	return res
}

// execResult routes an on: host's answer to its waiting command.
func (d *drillExec) execResult(_ *host, m *Msg) {
	d.mu.Lock()
	ew, ok := d.execs[m.ID]
	delete(d.execs, m.ID)
	d.mu.Unlock()
	if ok {
		ew.ch <- m
	}
}

// hostGone fails the commands a lost host was running.
func (d *drillExec) hostGone(h *host) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, ew := range d.execs {
		if ew.h == h {
			ew.ch <- &Msg{Error: fmt.Sprintf("host %s ended before the command did", h.Name)}
			delete(d.execs, id)
		}
	}
}

// finished answers every host waiting on a command (on the loop).
func (d *drillExec) finished(dc *drillCmd) {
	dc.done = true
	d.results[dc.token] = dc.res
	d.answer(dc)
}

// answer sends dc's result to its waiters, each on its own clock.
func (d *drillExec) answer(dc *drillCmd) {
	for _, w := range dc.waiters {
		if w.h.gone {
			continue
		}
		res := dc.res
		shiftCommand(&res, w.h.clock.Offset)
		w.h.conn.Send(&Msg{Type: MsgDrillResult, ID: w.id, Cmd: &res})
	}
	dc.waiters = nil
}

// wait waits for commands still running (the run is over).
func (d *drillExec) wait() {
	all := make(chan struct{})
	go func() { d.wg.Wait(); close(all) }()
	for {
		select {
		case dc := <-d.doneCh:
			d.results[dc.token] = dc.res
		case <-all:
			for {
				select {
				case dc := <-d.doneCh:
					d.results[dc.token] = dc.res
				default:
					return
				}
			}
		}
	}
}

// safeName makes a name usable in a file name.
func safeName(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '-' || ch == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
