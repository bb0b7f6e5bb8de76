package live_test

import (
	"context"
	"os"
	"time"

	"github.com/gdamore/tcell/v2"

	"lunbench/collect"
	"lunbench/report/live"
	"lunbench/workload"
)

// Example shows the wiring in `lunbench run`: the dashboard is one more
// Sink, shares the events with the results directory, and stops the run
// through the same cancel as a signal. It is compiled, not run.
func Example() {
	var dir workload.EventSink // the results directory (report.Dir)
	screen, err := tcell.NewScreen()
	if err != nil {
		return // not a terminal: fall back to --no-tui line output
	}
	var events workload.EventSink
	dash := live.New(screen, live.Options{
		Scenario:  "acceptance",
		RunLength: 5 * time.Minute, // sum of the phases' ramp + duration
		NoColor:   os.Getenv("NO_COLOR") != "",
		OnMark: func() {
			events.Event(workload.Event{Time: time.Now(), Kind: workload.EvDrillMark, Detail: "marked by hand (m)"})
		},
	})
	events = live.TeeEvents(dir, dash)
	// runner, err := workload.NewRunner(sc, opt, events, dir, dash)
	// The diskstats goroutine also calls dash.AddDiskStats(rows).
	dash.AddDiskStats([]collect.DiskStat{})

	ctx, cancel := context.WithCancel(context.Background()) // the run's context
	uiCtx, uiStop := context.WithCancel(context.Background())
	ui := make(chan error, 1)
	go func() { ui <- dash.Run(uiCtx, cancel) }()
	// res, runErr := runner.Run(ctx)
	<-ctx.Done()
	uiStop()
	<-ui // the terminal is restored: print the summary now
}
