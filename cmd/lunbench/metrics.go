package main

import (
	"errors"
	"fmt"
	"io"

	"lunbench/collect"
	"lunbench/report/metrics"
)

// metricsFlagHelp is --metrics' help, shared by run and watch.
const metricsFlagHelp = "serve live metrics for Prometheus on ADDR/metrics (HOST:PORT, e.g. 127.0.0.1:9464; off when empty)"

// startMetrics serves a metrics exporter on addr; with addr empty it does
// nothing and returns a nil exporter. targets maps target names to paths. The returned stop closes the server.
// An address that is not HOST:PORT is a usage error (exit 2), one that
// cannot be listened on a runtime failure (exit 3).
func startMetrics(addr string, targets map[string]string, stdout io.Writer) (exp *metrics.Exporter, stop func(), code int, err error) {
	if addr == "" {
		return nil, func() {}, 0, nil
	}
	exp = metrics.New(targets)
	srv, err := metrics.Serve(addr, exp)
	if err != nil {
		var ae *metrics.AddrError
		if errors.As(err, &ae) {
			return nil, nil, exitUsage, err
		}
		return nil, nil, exitRuntime, err
	}
	fmt.Fprintf(stdout, "metrics: http://%s/metrics\n", srv.Addr)
	return exp, func() { srv.Close() }, 0, nil
}

// teeDisk hands diskstats rows to each of fs that is not nil; nil when
// none is.
func teeDisk(fs ...func([]collect.DiskStat)) func([]collect.DiskStat) {
	var out []func([]collect.DiskStat)
	for _, f := range fs {
		if f != nil {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return func(rows []collect.DiskStat) {
		for _, f := range out {
			f(rows)
		}
	}
}
