package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/gdamore/tcell/v2"

	"lunbench/remote"
	"lunbench/report"
	"lunbench/report/live"
	"lunbench/scenarios"
	"lunbench/workload"
)

// runHosts is `lunbench run` of a scenario with hosts:: a coordinator
// drives an agent per host (remote.Run) and writes one results directory.
func runHosts(o runOptions, sc *scenarios.Scenario, stdout, stderr io.Writer, sig <-chan os.Signal) (int, error) {
	// The SSH transport's progress (connecting, copying lunbench) goes
	// where the view's status goes, once the view exists.
	status := func(s string) { fmt.Fprintln(stdout, "lunbench:", s) }
	transport, err := hostTransport(o, func(s string) { status(s) }, stderr)
	if err != nil {
		return exitUsage, err
	}
	dirPath := o.out
	if dirPath == "" {
		dirPath = filepath.Join(o.root, report.DirName(o.now(), sc.Name))
	} else if err := report.CheckOutDir(o.out); err != nil {
		return exitUsage, err
	}
	fmt.Fprintf(stdout, "lunbench %s: scenario %s (%s) on hosts %v, results in %s\n", report.Version, sc.Name, sc.Source, sc.HostNames(), dirPath)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			select {
			case s := <-sig:
				if s == syscall.SIGUSR1 {
					continue // manual marks reach no host: the scenario has none
				}
				fmt.Fprintf(stderr, "\nlunbench: %v: stopping every host, draining in-flight I/O and writing results\n", s)
				cancel()
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	view := newHostsView(o, sc, stdout, stderr, cancel)
	defer view.end()
	status = view.status
	out, err := remote.Run(ctx, remote.Options{
		Scenario: sc, Dir: dirPath, Version: report.Version, Transport: transport,
		Sinks: view.sinks, Events: view.events, Status: view.status,
	})
	view.end()
	if err != nil {
		if ctx.Err() != nil {
			return exitInterrupted, err // nothing was written yet
		}
		return exitRuntime, err
	}
	fmt.Fprintln(stdout)
	report.PrintSummaryWidth(stdout, out.Run, terminalWidth(stdout))
	remote.PrintHosts(stdout, out.Hosts)
	fmt.Fprintf(stdout, "results: %s\n", dirPath)
	switch {
	case out.Run.Status == "failed":
		return exitRuntime, fmt.Errorf("%s", out.Run.Error)
	case out.Interrupted:
		return exitInterrupted, nil
	case out.Run.Verdict == report.Fail:
		return exitFail, nil
	}
	return exitPass, nil
}

// hostTransport starts a host's agent over ssh, or here when it has no
// ssh: destination. The hosts share one SSH transport, which reads this
// binary (to copy it where needed) once.
func hostTransport(o runOptions, status func(string), stderr io.Writer) (func(remote.Host) remote.Transport, error) {
	if o.sshConfig != "" {
		if _, err := os.Stat(o.sshConfig); err != nil {
			return nil, fmt.Errorf("--ssh-config: %w", err)
		}
	}
	for _, opt := range o.sshOptions {
		if k, _, ok := strings.Cut(opt, "="); !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("--ssh-option %q: expected KEY=VALUE, as ssh -o takes it (ServerAliveInterval=10)", opt)
		}
	}
	ssh := &remote.SSH{ConfigFile: o.sshConfig, Options: o.sshOptions, Stderr: stderr, Status: status}
	local := &remote.Local{Stderr: stderr}
	return func(h remote.Host) remote.Transport {
		if h.SSH != "" {
			return ssh
		}
		return local
	}, nil
}

// hostsView is the live view of a run over several hosts: the dashboard
// on a terminal (rows per host, totals, the host in the stall banner), or
// progress lines.
type hostsView struct {
	sinks  []workload.Sink
	events workload.EventSink
	status func(string)
	end    func()
}

func newHostsView(o runOptions, sc *scenarios.Scenario, stdout, stderr io.Writer, quit func()) *hostsView {
	hosts := map[string]string{}
	for _, t := range sc.Targets {
		hosts[t.Name] = t.HostOf()
	}
	v := &hostsView{end: func() {}}
	var screen tcell.Screen
	if !o.noTUI && isTerminal(stdout) {
		var err error
		if screen, err = tcell.NewScreen(); err != nil {
			fmt.Fprintf(stderr, "lunbench: no dashboard (%v); line output instead\n", err)
			screen = nil
		}
	}
	if screen == nil {
		v.sinks = []workload.Sink{hostProgress{p: &report.Progress{W: stdout}, hosts: hosts}}
		v.status = func(s string) { fmt.Fprintln(stdout, "lunbench:", s) }
		return v
	}
	dash := live.New(screen, live.Options{Scenario: sc.Name, RunLength: runLength(sc), NoColor: os.Getenv("NO_COLOR") != "",
		Targets: targetPaths(sc), Hosts: hosts, HostOrder: sc.HostNames()})
	v.sinks, v.events, v.status = []workload.Sink{dash}, dash, dash.SetStatus
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- dash.Run(ctx, quit) }()
	v.end = sync.OnceFunc(func() {
		stop()
		if err := <-done; err != nil {
			fmt.Fprintf(stderr, "lunbench: dashboard: %v\n", err)
		}
	})
	return v
}

// hostProgress is the progress line of a run over several hosts: a stall
// names its host.
type hostProgress struct {
	p     *report.Progress
	hosts map[string]string
}

func (h hostProgress) Add(s *workload.Snapshot) {
	if len(s.Stalls) > 0 {
		c := *s
		c.Stalls = append([]workload.StallState(nil), s.Stalls...)
		for i := range c.Stalls {
			c.Stalls[i].Target += "@" + h.hosts[c.Stalls[i].Target]
		}
		s = &c
	}
	h.p.Add(s)
}
