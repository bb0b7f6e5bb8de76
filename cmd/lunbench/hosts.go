package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"lunbench/remote"
	"lunbench/report"
	"lunbench/scenarios"
	"lunbench/workload"
)

// runHosts is `lunbench run` of a scenario with hosts:: a coordinator
// drives an agent per host (remote.Run) and writes one results directory.
func runHosts(o runOptions, sc *scenarios.Scenario, stdout, stderr io.Writer, sig <-chan os.Signal) (int, error) {
	transport, err := hostTransport(o, stdout, stderr)
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
	sinks, events := hostsLiveView(o, sc, stdout)
	out, err := remote.Run(ctx, remote.Options{
		Scenario: sc, Dir: dirPath, Version: report.Version, Transport: transport,
		Sinks: sinks, Events: events,
		Status: func(s string) { fmt.Fprintln(stdout, "lunbench:", s) },
	})
	if err != nil {
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
func hostTransport(o runOptions, stdout, stderr io.Writer) (func(remote.Host) remote.Transport, error) {
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
	ssh := &remote.SSH{ConfigFile: o.sshConfig, Options: o.sshOptions, Stderr: stderr,
		Status: func(s string) { fmt.Fprintln(stdout, "lunbench:", s) }}
	local := &remote.Local{Stderr: stderr}
	return func(h remote.Host) remote.Transport {
		if h.SSH != "" {
			return ssh
		}
		return local
	}, nil
}

// hostsLiveView is the line output of a run over several hosts.
func hostsLiveView(o runOptions, sc *scenarios.Scenario, stdout io.Writer) ([]workload.Sink, workload.EventSink) {
	return []workload.Sink{&report.Progress{W: stdout}}, nil
}
