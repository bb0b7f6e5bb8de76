package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"lunbench/scenarios"
	"lunbench/workload"
	"lunbench/workload/verify"
)

// Version is lunbench's version, written into every run.json.
const Version = "0.1.0"

// RunJSON is the document written as run.json: everything a report needs
// besides the time series.
type RunJSON struct {
	Lunbench string `json:"lunbench"`
	// Build is the binary's module version and VCS revision.
	Build    *Build    `json:"build,omitempty"`
	Scenario string    `json:"scenario"`
	Source   string    `json:"source"`
	Status   string    `json:"status"` // running, finished, interrupted, failed
	Verdict  Verdict   `json:"verdict,omitempty"`
	Error    string    `json:"error,omitempty"`
	Host     Host      `json:"host"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end,omitzero"`
	Seed     uint64    `json:"seed"`
	// RunID is the id the stamps of verified writes carry.
	RunID       uint64                  `json:"run_id,omitempty"`
	IntervalSec float64                 `json:"interval_sec"`
	Targets     []workload.TargetResult `json:"targets,omitempty"`
	Phases      []workload.PhaseResult  `json:"phases,omitempty"`
	Stalls      []workload.Stall        `json:"stalls,omitempty"`
	// Drills are the phases' drills with their measured timings.
	Drills []workload.DrillResult `json:"drills,omitempty"`
	// Verify are the verify passes (after drills, at phase ends).
	Verify []verify.Summary `json:"verify,omitempty"`
	// Steady says how each phase with until_steady: ended.
	Steady   []workload.SteadyResult `json:"steady,omitempty"`
	Criteria []CriterionResult       `json:"criteria,omitempty"`
	// Extra holds sections later subsystems add (drills, stalls, preflight
	// checks, topology summaries), keyed by name.
	Extra map[string]json.RawMessage `json:"extra,omitempty"`
}

// Host describes the machine the run was made on.
type Host struct {
	Hostname string `json:"hostname"`
	Kernel   string `json:"kernel"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	CPUs     int    `json:"cpus"`
	GoVer    string `json:"go"`
}

// ThisHost reads the host facts.
func ThisHost() Host {
	h := Host{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVer: runtime.Version()}
	h.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.Kernel = string(trimNL(b))
	}
	return h
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

var _ workload.Sink = (*Dir)(nil)
var _ workload.EventSink = (*Dir)(nil)

// Dir is a results directory being written during a run. It is a Sink for
// snapshots (intervals.csv, hist/*.hlog) and an EventSink (events.jsonl).
// Streams are flushed at every interval, so a killed run leaves parseable
// files; run.json is replaced atomically.
type Dir struct {
	Path string

	mu       sync.Mutex
	ivFile   *os.File
	ivBuf    *bufio.Writer
	ivCSV    *csv.Writer
	evFile   *os.File
	evBuf    *bufio.Writer
	hlogs    map[string]*hlogFile
	lastSync time.Time
	err      error
	closed   bool
	// OnError, if set, is called once, with the first write error, as
	// soon as it happens: a run whose results can no longer be written
	// stops rather than measure what nobody will see.
	OnError func(error)
}

// fail keeps the first write error (file names the stream) and reports
// it to OnError. d.mu is held.
func (d *Dir) fail(file string, err error) {
	if err == nil || d.err != nil {
		return
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is in file already
	}
	d.err = fmt.Errorf("write %s: %w", file, err)
	if d.OnError != nil {
		d.OnError(d.err)
	}
}

type hlogFile struct {
	f    *os.File
	bw   *bufio.Writer
	w    *hdr.HistogramLogWriter
	name string // under the results directory, for messages
}

// DirName returns the directory name for a run: <UTC time>_<scenario>.
func DirName(t time.Time, scenario string) string {
	safe := regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(scenario, "-")
	return t.UTC().Format("2006-01-02T15-04-05Z") + "_" + safe
}

// IntervalsHeader is the header row of intervals.csv.
var intervalsHeader = []string{"start", "end", "elapsed_s", "phase", "target", "op", "ramp", "ops", "bytes",
	"iops", "mib_s", "errors", "missed", "in_flight", "lat_min_us", "lat_mean_us", "lat_p50_us", "lat_p90_us",
	"lat_p99_us", "lat_p99_9_us", "lat_max_us"}

// CheckOutDir accepts a results directory named with --out only if it does
// not exist yet or is empty: another run's run.json and hlogs mixed with this
// run's would make both unreadable.
func CheckOutDir(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("results directory %s: %w", path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && !fi.IsDir() {
		return fmt.Errorf("results directory %s exists and is not a directory", path)
	}
	names, err := f.Readdirnames(1)
	if err != nil && err != io.EOF {
		return fmt.Errorf("results directory %s: %w", path, err)
	}
	if len(names) > 0 {
		return fmt.Errorf("results directory %s exists and is not empty (it holds %s); name a new directory, or remove the old results first", path, names[0])
	}
	return nil
}

// CreateDir makes a results directory at path (which must not exist yet
// or be empty) and opens its streams.
func CreateDir(path string) (*Dir, error) {
	if err := os.MkdirAll(filepath.Join(path, "hist"), 0o755); err != nil {
		return nil, fmt.Errorf("results directory: %w", err)
	}
	d := &Dir{Path: path, hlogs: map[string]*hlogFile{}}
	var err error
	if d.ivFile, err = os.Create(filepath.Join(path, "intervals.csv")); err != nil {
		return nil, fmt.Errorf("results directory: %w", err)
	}
	d.ivBuf = bufio.NewWriterSize(d.ivFile, 64<<10)
	d.ivCSV = csv.NewWriter(d.ivBuf)
	d.ivCSV.Write(intervalsHeader)
	if d.evFile, err = os.Create(filepath.Join(path, "events.jsonl")); err != nil {
		return nil, fmt.Errorf("results directory: %w", err)
	}
	d.evBuf = bufio.NewWriter(d.evFile)
	return d, nil
}

// WriteScenario writes the resolved scenario as scenario.yaml.
func (d *Dir) WriteScenario(sc *scenarios.Scenario) error {
	b, err := scenarios.Marshal(sc)
	if err != nil {
		return err
	}
	return WriteAtomic(filepath.Join(d.Path, "scenario.yaml"), b)
}

// WriteRun replaces run.json atomically.
func (d *Dir) WriteRun(r *RunJSON) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return WriteAtomic(filepath.Join(d.Path, "run.json"), append(b, '\n'))
}

// WriteJSON writes any document atomically under the directory.
func (d *Dir) WriteJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteAtomic(filepath.Join(d.Path, name), append(b, '\n'))
}

// WriteAtomic writes a file through a temporary file and a rename, so a
// reader never sees half of it.
func WriteAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	// Results are meant to be read by others (CI, colleagues): 0644, not
	// CreateTemp's 0600.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// Add writes the snapshot's completed intervals.
func (d *Dir) Add(s *workload.Snapshot) {
	if len(s.Intervals) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	// Microseconds to the nanosecond: sub-microsecond latencies (zram,
	// NVMe) would lose up to 5% at one decimal.
	us := func(t time.Duration) string { return strconv.FormatFloat(float64(t)/1e3, 'f', -1, 64) }
	for _, iv := range s.Intervals {
		secs := iv.End.Sub(iv.Start).Seconds()
		var iops, mibs float64
		if secs > 0 {
			iops = float64(iv.Ops) / secs
			mibs = float64(iv.Bytes) / secs / (1 << 20)
		}
		d.ivCSV.Write([]string{
			iv.Start.UTC().Format(time.RFC3339Nano), iv.End.UTC().Format(time.RFC3339Nano),
			strconv.FormatFloat(s.Elapsed.Seconds(), 'f', 3, 64),
			iv.Phase, iv.Target, iv.Op.String(), strconv.FormatBool(iv.Ramp),
			strconv.FormatUint(iv.Ops, 10), strconv.FormatUint(iv.Bytes, 10),
			strconv.FormatFloat(iops, 'f', 1, 64), strconv.FormatFloat(mibs, 'f', 3, 64),
			strconv.FormatUint(iv.Errors, 10), strconv.FormatUint(iv.Missed, 10), strconv.Itoa(iv.InFlight),
			us(iv.Lat.Min), us(iv.Lat.Mean), us(iv.Lat.P50), us(iv.Lat.P90), us(iv.Lat.P99), us(iv.Lat.P999), us(iv.Lat.Max),
		})
		if iv.Hist != nil && iv.Ops > 0 {
			d.writeHlog(iv)
		}
	}
	d.ivCSV.Flush()
	d.flushLocked(s.Time)
}

// writeHlog appends the interval's histogram to hist/<phase>_<target>_<op>.hlog.
func (d *Dir) writeHlog(iv workload.Interval) {
	key := fmt.Sprintf("%s_%s_%s", iv.Phase, iv.Target, iv.Op)
	hf := d.hlogs[key]
	if hf == nil {
		safe := hlogSafe(key)
		f, err := os.Create(filepath.Join(d.Path, "hist", safe+".hlog"))
		if err != nil {
			d.fail("hist/"+safe+".hlog", err)
			return
		}
		hf = &hlogFile{f: f, bw: bufio.NewWriter(f)}
		hf.w = hdr.NewHistogramLogWriter(hf.bw)
		hf.w.OutputLogFormatVersion()
		hf.w.OutputComment(fmt.Sprintf("lunbench %s phase=%s target=%s op=%s values in nanoseconds, 1 ns to 1 h at 3 significant digits", Version, iv.Phase, iv.Target, iv.Op))
		base := iv.Start.UnixMilli()
		hf.w.OutputStartTime(base)
		hf.w.OutputBaseTime(base)
		hf.w.SetBaseTime(base)
		hf.w.OutputLegend()
		hf.name = "hist/" + safe + ".hlog"
		d.hlogs[key] = hf
	}
	iv.Hist.SetTag(iv.Op.String())
	d.fail(hf.name, hf.w.OutputIntervalHistogram(iv.Hist))
}

// PhaseHlogName is the file (under hist/) holding the whole measured phase's
// latency histogram of one phase × target × op, written at the run's end:
// the report reads it instead of merging every interval of <key>.hlog.
func PhaseHlogName(phase, target string, op workload.Op) string {
	return hlogSafe(fmt.Sprintf("%s_%s_%s", phase, target, op)) + ".phase.hlog"
}

// hlogSafe makes a phase_target_op key usable as a file name.
func hlogSafe(key string) string {
	return regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(key, "-")
}

// WritePhaseHists writes each phase result's histogram (ramp excluded) to
// hist/PhaseHlogName, one interval per file covering the measured phase.
func (d *Dir) WritePhaseHists(phases []workload.PhaseResult) error {
	for _, p := range phases {
		if p.Hist == nil || p.Hist.TotalCount() == 0 {
			continue
		}
		var b bytes.Buffer
		w := hdr.NewHistogramLogWriter(&b)
		w.OutputLogFormatVersion()
		w.OutputComment(fmt.Sprintf("lunbench %s phase=%s target=%s op=%s whole measured phase, values in nanoseconds, 1 ns to 1 h at 3 significant digits", Version, p.Phase, p.Target, p.Op))
		base := p.Start.UnixMilli()
		w.OutputStartTime(base)
		w.OutputBaseTime(base)
		w.SetBaseTime(base)
		w.OutputLegend()
		p.Hist.SetStartTimeMs(p.Start.UnixMilli())
		p.Hist.SetEndTimeMs(p.End.UnixMilli())
		p.Hist.SetTag(p.Op.String())
		if err := w.OutputIntervalHistogram(p.Hist); err != nil {
			return err
		}
		if err := WriteAtomic(filepath.Join(d.Path, "hist", PhaseHlogName(p.Phase, p.Target, p.Op)), b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// Event appends an event to events.jsonl.
func (d *Dir) Event(e workload.Event) {
	b, err := json.Marshal(e)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	if err != nil {
		d.fail("events.jsonl", err)
		return
	}
	d.evBuf.Write(b)
	d.evBuf.WriteByte('\n')
	// Events are rare and each may be the last thing a crashing run says.
	d.fail("events.jsonl", d.evBuf.Flush())
}

func (d *Dir) flushLocked(now time.Time) {
	d.fail("intervals.csv", d.ivCSV.Error())
	d.fail("intervals.csv", d.ivBuf.Flush())
	for _, h := range d.hlogs {
		d.fail(h.name, h.bw.Flush())
	}
	d.fail("events.jsonl", d.evBuf.Flush())
	// fsync at most every 10 s: enough to survive a host crash mid-drill
	// without costing the run.
	if now.Sub(d.lastSync) >= 10*time.Second {
		d.lastSync = now
		d.fail("intervals.csv", d.ivFile.Sync())
		d.fail("events.jsonl", d.evFile.Sync())
	}
}

// Close flushes and closes every stream and returns the first write error.
func (d *Dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return d.err
	}
	d.closed = true
	d.ivCSV.Flush()
	d.fail("intervals.csv", d.ivCSV.Error())
	d.fail("intervals.csv", d.ivBuf.Flush())
	d.fail("events.jsonl", d.evBuf.Flush())
	for _, h := range d.hlogs {
		d.fail(h.name, h.bw.Flush())
		d.fail(h.name, h.f.Sync())
		d.fail(h.name, h.f.Close())
	}
	d.fail("intervals.csv", d.ivFile.Sync())
	d.fail("events.jsonl", d.evFile.Sync())
	d.fail("intervals.csv", d.ivFile.Close())
	d.fail("events.jsonl", d.evFile.Close())
	return d.err
}

// Fail records a write error of a results file that the Dir does not
// write itself (diskstats.csv, from the collectors), as if it did: the
// first one is kept and goes to OnError.
func (d *Dir) Fail(file string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fail(file, err)
}

// Err returns the first write error so far.
func (d *Dir) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}
