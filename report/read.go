package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	cr := newCSVLines(f)
	head, err := cr.header()
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
	ix := make([]int, len(intervalsHeader))
	for i, h := range intervalsHeader {
		ix[i] = col[h]
	}
	// Size the slice from the file's length (rows are about 160 bytes):
	// growing it by doubling copied a 24 h run's rows over and over.
	var out []IntervalRow
	if st, err := f.Stat(); err == nil {
		out = make([]IntervalRow, 0, st.Size()/150+16)
	}
	in := interner{}
	line := 1
	for {
		rec, err := cr.next()
		line++
		if err == io.EOF || err == errTorn { // errTorn: the tail of a killed run
			break
		}
		if err != nil {
			return nil, fmt.Errorf("results %s: intervals.csv line %d: %w", dir, line, err)
		}
		row, err := parseRow(rec, ix, in)
		if err != nil {
			return out, nil // a partial last line: keep what is whole
		}
		out = append(out, row)
	}
	return out, nil
}

// interner hands out one copy of each repeated string (phase, target,
// device names), so rows do not each keep the CSV line they came from.
type interner map[string]string

func (in interner) get(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	s = strings.Clone(s)
	in[s] = s
	return s
}

// parseRow reads one row; ix gives, for each column of intervalsHeader
// in order, its index in the file.
func parseRow(rec []string, ix []int, in interner) (IntervalRow, error) {
	var r IntervalRow
	var first error
	keep := func(err error) {
		if first == nil && err != nil {
			first = err
		}
	}
	fl := func(c int) float64 {
		v, err := strconv.ParseFloat(rec[ix[c]], 64)
		keep(err)
		return v
	}
	u := func(c int) uint64 {
		v, err := strconv.ParseUint(rec[ix[c]], 10, 64)
		keep(err)
		return v
	}
	var err error
	r.Start, err = time.Parse(time.RFC3339Nano, rec[ix[0]])
	keep(err)
	r.End, err = time.Parse(time.RFC3339Nano, rec[ix[1]])
	keep(err)
	r.Elapsed = fl(2)
	r.Phase, r.Target = in.get(rec[ix[3]]), in.get(rec[ix[4]])
	keep(r.Op.UnmarshalText([]byte(rec[ix[5]])))
	r.Ramp = rec[ix[6]] == "true"
	r.Ops, r.Bytes = u(7), u(8)
	r.IOPS, r.MiBs = fl(9), fl(10)
	r.Errors, r.Missed = u(11), u(12)
	r.InFlight = int(u(13))
	r.MinUs, r.MeanUs, r.P50Us, r.P90Us = fl(14), fl(15), fl(16), fl(17)
	r.P99Us, r.P999Us, r.MaxUs = fl(18), fl(19), fl(20)
	return r, first
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
