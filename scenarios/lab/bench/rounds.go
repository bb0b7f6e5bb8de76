package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// row is one case's figures over its rounds.
type row struct {
	c                 benchCase
	lbIOPS, fioIOPS   spread
	ratio             spread
	cpuRatio          spread // fio's CPU per I/O over lunbench's
	lbCPU, fioCPU     spread // CPU-seconds per million I/Os
	lbThr, fioThr     int    // most OS threads seen
	approx            int    // runs whose CPU came from samples around the window
	lbMiBps, fioMiBps spread
	// Latency percentiles (ns) of one-target cases, medians over rounds.
	lbP50, fioP50, lbP99, fioP99 spread
}

// samplePeriod is how often a running tool's /proc/PID/stat is read.
const samplePeriod = 100 * time.Millisecond

// runCase runs the case's rounds, lunbench first in odd rounds and fio
// first in even ones, and sums them up.
func runCase(ctx context.Context, cfg config, d *devices, c benchCase, log io.Writer) (row, error) {
	out := row{c: c}
	tg, err := d.targets(ctx, c.Device, c.Targets, cfg.size)
	if err != nil {
		return out, err
	}
	s := setup{targets: tg, size: cfg.size, secs: cfg.secs, ramp: cfg.ramp,
		dir: filepath.Join(d.work, "run")}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return out, err
	}
	var ratios, cpuRatios, lbI, fioI, lbC, fioC, lbM, fioM []float64
	var lat [4][]float64 // lb p50, fio p50, lb p99, fio p99
	for round := 1; round <= cfg.rounds; round++ {
		var lb, fio result
		var err error
		if lunbenchFirst(round) {
			if lb, err = runLunbench(ctx, cfg.lb, c, s); err == nil {
				fio, err = runFio(ctx, c, s)
			}
		} else {
			if fio, err = runFio(ctx, c, s); err == nil {
				lb, err = runLunbench(ctx, cfg.lb, c, s)
			}
		}
		if err != nil {
			return out, fmt.Errorf("round %d: %w", round, err)
		}
		ratios = append(ratios, lb.iops/fio.iops)
		cpuRatios = append(cpuRatios, fio.cpuPerMIO/lb.cpuPerMIO)
		lbI, fioI = append(lbI, lb.iops), append(fioI, fio.iops)
		lbC, fioC = append(lbC, lb.cpuPerMIO), append(fioC, fio.cpuPerMIO)
		lbM, fioM = append(lbM, lb.mibps), append(fioM, fio.mibps)
		if lb.p50 > 0 && fio.p50 > 0 {
			for i, v := range []float64{lb.p50, fio.p50, lb.p99, fio.p99} {
				lat[i] = append(lat[i], v)
			}
		}
		out.lbThr, out.fioThr = max(out.lbThr, lb.threads), max(out.fioThr, fio.threads)
		if lb.approx || fio.approx {
			out.approx++
		}
		fmt.Fprintf(log, "%-26s round %d/%d: lunbench %9.0f IOPS %6.2f cpu-s/MIO %4d thr | fio %9.0f IOPS %6.2f cpu-s/MIO %4d thr | ratio %.3f | load %s\n",
			c.Name, round, cfg.rounds, lb.iops, lb.cpuPerMIO, lb.threads, fio.iops, fio.cpuPerMIO, fio.threads, lb.iops/fio.iops, loadavg())
	}
	out.ratio, out.lbIOPS, out.fioIOPS = summarize(ratios), summarize(lbI), summarize(fioI)
	out.cpuRatio = summarize(cpuRatios)
	out.lbCPU, out.fioCPU = summarize(lbC), summarize(fioC)
	out.lbMiBps, out.fioMiBps = summarize(lbM), summarize(fioM)
	out.lbP50, out.fioP50 = summarize(lat[0]), summarize(lat[1])
	out.lbP99, out.fioP99 = summarize(lat[2]), summarize(lat[3])
	return out, nil
}

// runLunbench runs the case once with lunbench.
func runLunbench(ctx context.Context, lb string, c benchCase, s setup) (result, error) {
	scen := filepath.Join(s.dir, "bench.yaml")
	if err := os.WriteFile(scen, []byte(scenarioYAML(c, s)), 0o600); err != nil {
		return result{}, err
	}
	res := filepath.Join(s.dir, "lb")
	if err := os.RemoveAll(res); err != nil {
		return result{}, err
	}
	log, err := os.Create(filepath.Join(s.dir, "lunbench.log"))
	if err != nil {
		return result{}, err
	}
	defer log.Close()
	ss, err := runSampled(ctx, samplePeriod, log, lb, "run", scen, "--no-tui", "--out", res)
	if err != nil {
		return result{}, err
	}
	r, err := lunbenchResult(res)
	if err != nil {
		return result{}, err
	}
	return r, window(&r, ss, 2*samplePeriod)
}

// runFio runs the case once with fio.
func runFio(ctx context.Context, c benchCase, s setup) (result, error) {
	out := filepath.Join(s.dir, "fio.json")
	log, err := os.Create(filepath.Join(s.dir, "fio.log"))
	if err != nil {
		return result{}, err
	}
	defer log.Close()
	ss, err := runSampled(ctx, samplePeriod, log, "fio", fioArgs(c, s, out)...)
	if err != nil {
		return result{}, err
	}
	r, err := fioResult(out)
	if err != nil {
		return result{}, err
	}
	return r, window(&r, ss, 2*samplePeriod)
}

// printTable prints the rows: medians, and the ratios' ranges over rounds.
func printTable(w io.Writer, rows []row) {
	const head = "%-31s %-8s %-8s %10s %10s %-21s %-21s %7s %7s %5s %5s %-15s %-15s\n"
	fmt.Fprintf(w, "\n"+head, "case", "engine", "fio", "lb IOPS", "fio IOPS", "IOPS ratio", "CPU ratio", "lb cpu", "fio cpu", "lb", "fio", "p50 µs", "p99 µs")
	fmt.Fprintf(w, head, "", "", "", "(median)", "(median)", "lb / fio", "fio / lb", "s/MIO", "s/MIO", "thr", "thr", "lb / fio", "lb / fio")
	for _, r := range rows {
		if r.ratio.n == 0 {
			fmt.Fprintf(w, "%-31s %-8s %-8s did not run\n", r.c.Name, r.c.engine(), r.c.Fio)
			continue
		}
		note := ""
		if r.approx > 0 {
			note = fmt.Sprintf(" (cpu approximate in %d rounds: host too loaded to sample inside the window)", r.approx)
		}
		fmt.Fprintf(w, "%-31s %-8s %-8s %10.0f %10.0f %-21s %-21s %7.2f %7.2f %5s %5s %-15s %-15s%s\n",
			r.c.Name, r.c.engine(), r.c.Fio, r.lbIOPS.med, r.fioIOPS.med, r.ratio, r.cpuRatio,
			r.lbCPU.med, r.fioCPU.med, strconv.Itoa(r.lbThr), strconv.Itoa(r.fioThr),
			latPair(r.lbP50, r.fioP50), latPair(r.lbP99, r.fioP99), note)
	}
	fmt.Fprintln(w, "IOPS ratio: lunbench IOPS / fio IOPS of the same round, median [min-max] over the rounds;")
	fmt.Fprintln(w, "CPU ratio: fio's CPU per I/O / lunbench's, same round (above 1: lunbench spends less CPU per I/O);")
	fmt.Fprintln(w, "cpu: CPU-seconds (user + system, all threads, from /proc/PID/stat) per million I/Os in the measured window, median;")
	fmt.Fprintln(w, "thr: the most OS threads the process had in the window;")
	fmt.Fprintln(w, "p50, p99: completion latency of one-target cases, medians over the rounds: lunbench from just before")
	fmt.Fprintln(w, "  its system call to just after (Go's syscall entry and exit, about 0.25 µs, included), fio's clat.")
}

// latPair prints two latency medians (ns) as µs: "2.31/2.08"; "-" when a
// case has none.
func latPair(lb, fio spread) string {
	if lb.n == 0 || fio.n == 0 {
		return "-"
	}
	return fmt.Sprintf("%s/%s", micros(lb.med), micros(fio.med))
}

// micros prints ns as µs with three significant digits below 1 ms.
func micros(ns float64) string {
	us := ns / 1e3
	switch {
	case us < 10:
		return strconv.FormatFloat(us, 'f', 2, 64)
	case us < 100:
		return strconv.FormatFloat(us, 'f', 1, 64)
	}
	return strconv.FormatFloat(us, 'f', 0, 64)
}
