package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"lunbench/workload"
)

// IntervalRow is one row of intervals.csv read back.
type IntervalRow struct {
	Start, End time.Time
	Elapsed    float64
	Phase      string
	Target     string
	Op         workload.Op
	Ramp       bool
	Ops, Bytes uint64
	IOPS, MiBs float64
	Errors     uint64
	Missed     uint64
	InFlight   int
	// Latencies in microseconds.
	MinUs, MeanUs, P50Us, P90Us, P99Us, P999Us, MaxUs float64
}

// ReadRun reads run.json from a results directory.
func ReadRun(dir string) (*RunJSON, error) {
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		return nil, fmt.Errorf("results %s: %w", dir, err)
	}
	var r RunJSON
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("results %s: run.json: %w", dir, err)
	}
	return &r, nil
}

// ReadIntervals reads intervals.csv. A last line cut short by a crash is
// ignored rather than failing the whole file.
func ReadIntervals(dir string) ([]IntervalRow, error) {
	f, err := os.Open(filepath.Join(dir, "intervals.csv"))
	if err != nil {
		return nil, fmt.Errorf("results %s: %w", dir, err)
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReaderSize(f, 256<<10))
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("results %s: intervals.csv: %w", dir, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, h := range intervalsHeader {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("results %s: intervals.csv: missing column %q", dir, h)
		}
	}
	var out []IntervalRow
	line := 1
	for {
		rec, err := cr.Read()
		line++
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				break // truncated tail of a killed run
			}
			return nil, fmt.Errorf("results %s: intervals.csv line %d: %w", dir, line, err)
		}
		row, err := parseRow(rec, col)
		if err != nil {
			return out, nil // a partial last line: keep what is whole
		}
		out = append(out, row)
	}
	return out, nil
}

func parseRow(rec []string, col map[string]int) (IntervalRow, error) {
	var r IntervalRow
	var errs []error
	get := func(k string) string { return rec[col[k]] }
	fl := func(k string) float64 {
		v, err := strconv.ParseFloat(get(k), 64)
		errs = append(errs, err)
		return v
	}
	u := func(k string) uint64 {
		v, err := strconv.ParseUint(get(k), 10, 64)
		errs = append(errs, err)
		return v
	}
	var err error
	r.Start, err = time.Parse(time.RFC3339Nano, get("start"))
	errs = append(errs, err)
	r.End, err = time.Parse(time.RFC3339Nano, get("end"))
	errs = append(errs, err)
	r.Elapsed = fl("elapsed_s")
	r.Phase, r.Target = get("phase"), get("target")
	errs = append(errs, r.Op.UnmarshalText([]byte(get("op"))))
	r.Ramp = get("ramp") == "true"
	r.Ops, r.Bytes = u("ops"), u("bytes")
	r.IOPS, r.MiBs = fl("iops"), fl("mib_s")
	r.Errors, r.Missed = u("errors"), u("missed")
	r.InFlight = int(u("in_flight"))
	r.MinUs, r.MeanUs, r.P50Us, r.P90Us = fl("lat_min_us"), fl("lat_mean_us"), fl("lat_p50_us"), fl("lat_p90_us")
	r.P99Us, r.P999Us, r.MaxUs = fl("lat_p99_us"), fl("lat_p99_9_us"), fl("lat_max_us")
	return r, errors.Join(errs...)
}

// ReadEvents reads events.jsonl, skipping a torn last line.
func ReadEvents(dir string) ([]workload.Event, error) {
	f, err := os.Open(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("results %s: %w", dir, err)
	}
	defer f.Close()
	var out []workload.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e workload.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			continue
		}
		out = append(out, e)
	}
	return out, sc.Err()
}
