package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// syncBuffer is a bytes.Buffer the run's goroutine writes while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMetricsScrapedDuringRun runs a real scenario against a file with
// --metrics on a free loopback port, scrapes /metrics while I/O runs and
// parses it with Prometheus's own text parser: the counters, the latency
// histogram and the phase must be there, with the values the run reached.
func TestMetricsScrapedDuringRun(t *testing.T) {
	dir := directDir(t)
	sc := writeScenario(t, dir, `
name: metrics
interval: 500ms
targets:
  - name: f
    path: `+filepath.Join(dir, "target.dat")+`
    size: 32MiB
    allow_write: true
phases:
  - {name: mix, rw: randrw, read_pct: 50%, bs: 4k, qd: 4, duration: 4s}
criteria:
  errors: "== 0"
`)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- execute([]string{"run", sc, "--no-tui", "--out", filepath.Join(dir, "res"), "--metrics", "127.0.0.1:0"}, nil, &stdout, &stderr, make(chan os.Signal))
	}()
	urlRe := regexp.MustCompile(`metrics: (http://127\.0\.0\.1:\d+/metrics)`)
	var url string
	var fams map[string]*dto.MetricFamily
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if url == "" {
			if m := urlRe.FindStringSubmatch(stdout.String()); m != nil {
				url = m[1]
			}
		} else if f := scrape(t, url); f != nil && opsOf(f, "read") > 0 && opsOf(f, "write") > 0 {
			fams = f
			break
		}
		select {
		case code := <-done:
			t.Fatalf("run ended (exit %d) before a scrape saw I/O; stdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	if fams == nil {
		t.Fatalf("no scrape with I/O of both ops within 20 s (url %q); stdout:\n%s", url, stdout.String())
	}
	for _, name := range []string{"lunbench_io_ops_total", "lunbench_io_bytes_total", "lunbench_io_errors_total",
		"lunbench_io_latency_seconds", "lunbench_io_in_flight", "lunbench_phase_info", "lunbench_stall_active",
		"lunbench_stall_age_seconds", "lunbench_drill_active", "lunbench_verdict_failing", "lunbench_elapsed_seconds"} {
		if fams[name] == nil {
			t.Errorf("metric %s missing from the scrape", name)
		}
	}
	for _, m := range fams["lunbench_io_latency_seconds"].GetMetric() {
		h := m.GetHistogram()
		if h.GetSampleCount() == 0 || h.GetSampleSum() <= 0 {
			t.Errorf("latency histogram %v: count %d, sum %g", m.GetLabel(), h.GetSampleCount(), h.GetSampleSum())
		}
		if got := h.GetBucket()[len(h.GetBucket())-1].GetCumulativeCount(); got > h.GetSampleCount() {
			t.Errorf("last finite bucket %d > count %d", got, h.GetSampleCount())
		}
	}
	if ph := fams["lunbench_phase_info"].GetMetric(); len(ph) != 1 || label(ph[0], "phase") != "mix" {
		t.Errorf("phase_info %v, want phase mix", ph)
	}
	if v := fams["lunbench_verdict_failing"].GetMetric()[0].GetGauge().GetValue(); v != 0 {
		t.Errorf("verdict_failing %g during a run without errors", v)
	}
	if code := <-done; code != exitPass {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	if _, err := http.Get(url); err == nil {
		t.Errorf("the metrics endpoint still answers after the run ended")
	}
}

// scrape fetches and parses url; nil when it cannot (yet).
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the scrape does not parse as Prometheus text: %v", err)
	}
	return fams
}

// opsOf is lunbench_io_ops_total summed over targets for op.
func opsOf(fams map[string]*dto.MetricFamily, op string) float64 {
	sum := 0.0
	for _, m := range fams["lunbench_io_ops_total"].GetMetric() {
		if label(m, "op") == op {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestMetricsBadAddress(t *testing.T) {
	for _, tc := range []struct {
		addr string
		code int
	}{
		{"9464", exitUsage},             // no host:port form
		{"127.0.0.1:", exitUsage},       // no port
		{"198.51.100.1:1", exitRuntime}, // well-formed, but not an address of this host
	} {
		var stdout, stderr bytes.Buffer
		code := execute([]string{"run", "quickstart", "--no-tui", "--out", t.TempDir(), "--metrics", tc.addr}, nil, &stdout, &stderr, make(chan os.Signal))
		if code != tc.code {
			t.Errorf("--metrics %s: exit %d, want %d; stderr: %s", tc.addr, code, tc.code, stderr.String())
		}
	}
}
