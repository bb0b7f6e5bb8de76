package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/spf13/cobra"

	"lunbench/collect"
	"lunbench/report"
	"lunbench/report/live"
	"lunbench/workload"
)

// watchOptions are the flags of `lunbench watch`, and what tests put in
// place of the machine.
type watchOptions struct {
	devices   []string
	record    string
	interval  time.Duration // diskstats sampling for the view and stalls
	threshold time.Duration // in-flight I/O with no completion this long is a stall
	noTUI     bool
	metrics   string // --metrics ADDR, "" off
	host      collect.Host
	now       func() time.Time
	// ticks drives the sampling; nil means a ticker at interval. Tests
	// send fake times on an unbuffered channel: a send returns once the
	// previous tick is fully handled.
	ticks <-chan time.Time
	// screen replaces the terminal (tests: tcell's simulation screen).
	screen tcell.Screen
	// ticked, when set, is called once the baselines are read and then
	// each time a tick is fully handled (tests).
	ticked func()
}

// lineEvery is the period of line mode's output and of diskstats.csv rows.
const lineEvery = time.Second

func newWatchCmd(stdout, stderr io.Writer, sig <-chan os.Signal) *cobra.Command {
	o := watchOptions{now: time.Now}
	var root string
	cmd := &cobra.Command{
		Use:   "watch [DEVICE...]",
		Short: "Watch LUNs that something else loads: throughput, await, stalls and path states",
		Long: `watch shows the live dashboard fed by the collectors alone, for a LUN that a
database or a hypervisor is loading: throughput, IOPS, await and %util from
/proc/diskstats, a stall banner when I/O is in flight and nothing completes
for longer than --stall-threshold, and path, session and map state changes
as events. With no argument it watches every multipath map and every iSCSI
disk. q (or Ctrl-C) ends it with exit 0. --record DIR writes diskstats.csv,
events.jsonl and run.json there, so 'lunbench report DIR' charts the session.
Without a terminal, or with --no-tui, it prints one line per second per device.`,
		RunE: func(_ *cobra.Command, args []string) error {
			o.devices = args
			o.host = collect.Host{Root: root}
			code, err := runWatch(o, stdout, stderr, sig)
			if code == exitPass && err == nil {
				return nil
			}
			return &exitError{code: code, err: err}
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.record, "record", "", "write diskstats.csv, events.jsonl and run.json to this directory")
	f.DurationVar(&o.interval, "interval", 250*time.Millisecond, "diskstats sampling period for the view and stall detection")
	f.DurationVar(&o.threshold, "stall-threshold", 500*time.Millisecond, "I/O in flight with no completion this long is a stall")
	f.BoolVar(&o.noTUI, "no-tui", false, "line output instead of the dashboard (also when stdout is not a terminal)")
	f.StringVar(&o.metrics, "metrics", "", metricsFlagHelp)
	f.StringVar(&root, "root", "/", "read /sys, /proc and /dev under this directory (for fixture trees)")
	f.MarkHidden("root")
	return cmd
}

// runWatch is `lunbench watch`. It returns the exit code and the error to
// show: 0 when the user ends it, 2 for arguments that name no device, 3
// when diskstats cannot be read or the record directory written.
func runWatch(o watchOptions, stdout, stderr io.Writer, sig <-chan os.Signal) (int, error) {
	if o.interval <= 0 || o.threshold <= 0 {
		return exitUsage, errors.New("watch: --interval and --stall-threshold must be positive")
	}
	h := o.host
	args := o.devices
	if len(args) == 0 {
		if args = h.SANDevices(); len(args) == 0 {
			hint := ""
			if devs := h.BlockDevices(); len(devs) > 0 {
				hint = " (block devices here: " + strings.Join(devs, ", ") + ")"
			}
			return exitUsage, fmt.Errorf("watch: no multipath maps or iSCSI disks found; name a device%s", hint)
		}
	}
	for _, a := range args {
		if _, err := h.ResolveExisting(a); err != nil {
			return exitUsage, fmt.Errorf("watch: %w", err)
		}
	}
	fast, err := collect.NewSampler(h, args...)
	if err != nil {
		return exitUsage, fmt.Errorf("watch: %w", err)
	}
	defer fast.Close()
	slow, err := collect.NewSampler(h, args...)
	if err != nil {
		return exitUsage, fmt.Errorf("watch: %w", err)
	}
	defer slow.Close()
	if _, err := fast.Sample(o.now); err != nil {
		return exitRuntime, fmt.Errorf("watch: %w", err)
	}
	start := fast.Taken()
	slow.Sample(o.now)
	topo, _ := h.Topology(args...)

	var rec *watchRecord
	if o.record != "" {
		if rec, err = newWatchRecord(o.record, args, start, topo); err != nil {
			return exitRuntime, fmt.Errorf("watch: %w", err)
		}
	}
	sinks := []workload.EventSink{}
	if rec != nil {
		sinks = append(sinks, rec.dir)
	}
	exp, stopMetrics, code, err := startMetrics(o.metrics, nil, stdout)
	if err != nil {
		return code, fmt.Errorf("watch: %w", err)
	}
	defer stopMetrics()
	if exp != nil {
		exp.CountSlices()
		sinks = append(sinks, exp)
		pathStates(topo, exp.SetPathState)
	}
	screen := o.screen
	if screen == nil && !o.noTUI && isTerminal(stdout) {
		if screen, err = tcell.NewScreen(); err != nil {
			fmt.Fprintf(stderr, "lunbench: no dashboard (%v); line output instead\n", err)
			screen = nil
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var events workload.EventSink
	var dash *live.Dashboard
	dashDone := make(chan error, 1)
	if screen != nil {
		defer restoreOnPanic(screen)
		dash = live.New(screen, live.Options{
			Scenario: strings.Join(args, " "), Watch: true, NoColor: os.Getenv("NO_COLOR") != "",
			Redraw: o.interval, Now: o.now,
			OnMark: func() {
				events.Event(workload.Event{Time: o.now(), Kind: workload.EvDrillMark, Detail: "operator marked a manual fault (m)"})
			},
		})
		pathStates(topo, dash.SetPathState)
		sinks = append(sinks, dash)
		go func() { dashDone <- dash.Run(ctx, cancel) }()
	} else {
		dashDone <- nil
		sinks = append(sinks, lineEvents{stdout})
		fmt.Fprintf(stdout, "lunbench watch: %s (diskstats every %s, stall after %s); Ctrl-C ends\n",
			strings.Join(args, ", "), o.interval, o.threshold)
	}
	events = live.TeeEvents(sinks...)
	events.Event(workload.Event{Time: start, Kind: workload.EvRunStart, Detail: "watch " + strings.Join(args, " ")})
	if !hasMultipath(topo) {
		events.Event(workload.Event{Time: start, Kind: workload.EvNote, Detail: "no multipath map here: each device is its own single path"})
	}

	ticks := o.ticks
	if ticks == nil {
		tk := time.NewTicker(o.interval)
		defer tk.Stop()
		ticks = tk.C
	}
	watcher := collect.NewWatcher(h, args...)
	watcher.Poll(start)
	det := newDiskStallDetector(o.threshold)
	lastLine, last := start, start
	var runErr error // diskstats became unreadable: exit 3, the recording kept
	if o.ticked != nil {
		o.ticked()
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case s := <-sig:
			if s == syscall.SIGUSR1 {
				events.Event(workload.Event{Time: o.now(), Kind: workload.EvDrillMark, Detail: "operator marked a manual fault (SIGUSR1)"})
				continue
			}
			break loop
		case _, ok := <-ticks:
			if !ok {
				break loop
			}
			// The tick only asks for a reading; the reading's own time
			// stamps the rows, the stall detector and the events, so a
			// tick served late does not stretch the rates.
			rows, err := fast.Sample(o.now)
			if err != nil {
				runErr = fmt.Errorf("watch: %w", err)
				break loop
			}
			now := fast.Taken()
			last = now
			snap, evs := det.update(now, start, rows)
			for _, e := range evs {
				events.Event(e)
			}
			for _, e := range watcher.Poll(now) {
				events.Event(e)
			}
			if dash != nil {
				dash.AddDiskStats(rows)
				dash.Add(snap)
			}
			if exp != nil {
				exp.AddDiskStats(rows)
				exp.Add(snap)
			}
			if now.Sub(lastLine) >= lineEvery-o.interval/2 {
				lastLine = now
				// The recorded rows are a reading of their own, stamped
				// with its own time, over the second since the last one.
				secRows, _ := slow.Sample(o.now)
				if rec != nil {
					rec.csv.Write(secRows)
					rec.csv.Flush()
				}
				if dash == nil {
					printWatchLines(stdout, now, secRows, snap.Stalls)
				}
			}
			if o.ticked != nil {
				o.ticked()
			}
		}
	}
	cancel()
	if err := <-dashDone; err != nil {
		fmt.Fprintf(stderr, "lunbench: dashboard: %v\n", err)
	}
	end := o.now()
	if last.After(end) {
		end = last // a fake clock in tests
	}
	for _, e := range det.close(end) {
		events.Event(e)
	}
	events.Event(workload.Event{Time: end, Kind: workload.EvRunEnd, Detail: "watch ended"})
	if rec != nil {
		endTopo, _ := h.Topology(args...)
		if err := rec.finish(end, det.stalls, topo, endTopo, runErr); err != nil {
			return exitRuntime, fmt.Errorf("watch: %w", err)
		}
		fmt.Fprintf(stdout, "recorded: %s (lunbench report %s)\n", rec.dir.Path, rec.dir.Path)
	}
	for _, s := range det.stalls {
		fmt.Fprintf(stdout, "stall: %s %s for %.3f s (±%s, sampled)\n", s.Start.Format("15:04:05.000"), s.Target, s.Dur.Seconds(), o.interval)
	}
	if runErr != nil {
		return exitRuntime, runErr
	}
	return exitPass, nil
}

func hasMultipath(t collect.Topology) bool {
	for _, d := range t.Devices {
		if len(d.Maps) > 0 {
			return true
		}
	}
	return false
}

// restoreOnPanic, deferred by the goroutine that owns a dashboard's
// screen, gives the terminal back (tcell's Fini, which is idempotent)
// before a panic goes on: a panic on that goroutine would otherwise end
// the process with the terminal still raw. The dashboard's own goroutine
// does the same in live.Dashboard.Run.
func restoreOnPanic(s tcell.Screen) {
	if r := recover(); r != nil {
		s.Fini()
		panic(r)
	}
}

// lineEvents prints events in line mode, one per line.
type lineEvents struct{ w io.Writer }

func (l lineEvents) Event(e workload.Event) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %-13s", e.Time.Format("15:04:05.000"), e.Kind)
	for _, s := range []string{e.Target, e.Path, e.Detail} {
		if s != "" {
			b.WriteString(" " + s)
		}
	}
	if e.Kind == workload.EvStallEnd {
		fmt.Fprintf(&b, " (%.3f s)", e.Dur.Seconds())
	}
	fmt.Fprintln(l.w, b.String())
}

// printWatchLines is line mode's once-a-second output: a line per device,
// paths indented under their LUN, with the stall still going on if any.
func printWatchLines(w io.Writer, now time.Time, rows []collect.DiskStat, stalls []workload.StallState) {
	for _, r := range rows {
		name := r.Target
		if r.Role == collect.RolePath {
			name = "  └ " + r.Device
		} else if r.Device != r.Target {
			name += " (" + r.Device + ")"
		}
		await := 0.0
		if n := r.RPS + r.WPS; n > 0 {
			await = (r.RAwait*r.RPS + r.WAwait*r.WPS) / n
		}
		line := fmt.Sprintf("%s %-24s r/s %7s w/s %7s MiB/s %7.2f await %6.2fms util %5.1f%% infl %d",
			now.Format("15:04:05"), name, report.Thousands(r.RPS), report.Thousands(r.WPS),
			(r.RkBPS+r.WkBPS)/1024, await, r.Util, r.InFlight)
		for _, s := range stalls {
			if r.Role != collect.RolePath && s.Target == r.Target {
				line += fmt.Sprintf("  I/O STALLED %.1f s", s.For.Seconds())
			}
		}
		fmt.Fprintln(w, line)
	}
}

// watchRecord is --record: a results directory holding what a watch saw.
type watchRecord struct {
	dir  *report.Dir
	csvF *os.File
	csv  *collect.DiskStatsCSV
	run  *report.RunJSON
}

func newWatchRecord(path string, args []string, start time.Time, topo collect.Topology) (*watchRecord, error) {
	dir, err := report.CreateDir(path)
	if err != nil {
		return nil, err
	}
	r := &watchRecord{dir: dir, run: &report.RunJSON{
		Lunbench: report.Version, Scenario: "watch", Source: "lunbench watch " + strings.Join(args, " "),
		Status: "running", Host: report.ThisHost(), Start: start, IntervalSec: lineEvery.Seconds(),
	}}
	if r.csvF, err = os.Create(filepath.Join(path, "diskstats.csv")); err != nil {
		dir.Close()
		return nil, fmt.Errorf("results directory: %w", err)
	}
	r.csv = collect.NewDiskStatsCSV(r.csvF)
	r.csv.Flush()
	if err := dir.WriteRun(r.run); err != nil {
		return nil, fmt.Errorf("write run.json: %w", err)
	}
	dir.WriteJSON("topology.json", map[string]any{"start": topo})
	return r, nil
}

// finish closes the streams and writes run.json as finished (failed, with
// the error, when runErr is set), with the stalls seen, and the topology
// at the end.
func (r *watchRecord) finish(end time.Time, stalls []workload.Stall, start, endTopo collect.Topology, runErr error) error {
	r.csv.Flush()
	r.csvF.Sync()
	errCSV := r.csvF.Close()
	r.dir.WriteJSON("topology.json", map[string]any{"start": start, "end": endTopo})
	r.run.Status, r.run.End, r.run.Stalls = "finished", end, stalls
	if runErr != nil {
		r.run.Status, r.run.Error = "failed", runErr.Error()
	}
	if err := r.dir.WriteRun(r.run); err != nil {
		return fmt.Errorf("write run.json: %w", err)
	}
	if err := errors.Join(r.dir.Close(), errCSV); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// pathStates hands each path device of the topology and its state to set.
func pathStates(topo collect.Topology, set func(device, state string)) {
	for _, d := range topo.Devices {
		for _, m := range d.Maps {
			for _, p := range m.Paths {
				set(p.Device, p.State)
			}
		}
		for _, p := range d.Paths {
			set(p.Device, p.State)
		}
	}
}
