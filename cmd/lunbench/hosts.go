package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"lunbench/remote"
	"lunbench/report"
	"lunbench/scenarios"
	"lunbench/workload"
)

// runHosts is `lunbench run` of a scenario with hosts:: a coordinator
// drives an agent per host (remote.Run) and writes one results directory.
func runHosts(o runOptions, sc *scenarios.Scenario, stdout, stderr io.Writer, sig <-chan os.Signal) (int, error) {
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
		Scenario: sc, Dir: dirPath, Version: report.Version, Transport: hostTransport(stderr),
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
// ssh: destination.
func hostTransport(stderr io.Writer) func(remote.Host) remote.Transport {
	return func(h remote.Host) remote.Transport {
		return &remote.Local{Stderr: stderr}
	}
}

// hostsLiveView is the line output of a run over several hosts.
func hostsLiveView(o runOptions, sc *scenarios.Scenario, stdout io.Writer) ([]workload.Sink, workload.EventSink) {
	return []workload.Sink{&report.Progress{W: stdout}}, nil
}
