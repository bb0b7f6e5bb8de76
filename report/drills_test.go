package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lunbench/collect/preflight"
	goldenfile "lunbench/report/golden"
	"lunbench/scenarios"
	"lunbench/workload"
	"lunbench/workload/verify"
)

// The drills fixture, testdata/drills, is a results directory as the drill
// engine writes it (run.json's drills and verify follow workload.DrillResult
// and verify.Summary): one phase of 20 s random read/write on two targets,
// a vip-move drill at 8 s that stalls both for about 3 s (lun1 also sees
// two EIO), recovered at +6 s, verify passes after the drill (whose reads
// of lun1 stall for 800 ms) and at the phase end (lun1 lost one write and
// has a torn block), a manual drill
// that was never marked, and a preflight with one error and one warning.
// makeDrillsRun writes it; TestDrillsFixture keeps the committed copy in
// step (go test ./report -run TestDrillsFixture -update).

// drillsScenario is the scenario of the drills fixture.
func drillsScenario() *scenarios.Scenario {
	crit := func(phase, drill, metric string, cmp scenarios.Cmp, th float64, text string) scenarios.Criterion {
		return scenarios.Criterion{Phase: phase, Drill: drill, Metric: metric, Cmp: cmp, Threshold: th, Text: metric + " " + string(cmp) + " " + text}
	}
	return &scenarios.Scenario{
		Name: "drills", Seed: 7, Interval: time.Second, StallThreshold: 500 * time.Millisecond, Source: "testdata/drills.yaml",
		Targets: []scenarios.Target{
			{Name: "lun0", Path: "/dev/mapper/mpatha", AllowWrite: true},
			{Name: "lun1", Path: "/dev/mapper/mpathb", AllowWrite: true},
		},
		Phases: []scenarios.Phase{{
			Name: "failover", RW: scenarios.RandRW, ReadPct: 50, BS: 4096, QD: 8, Duration: 20 * time.Second,
			Targets: []string{"lun0", "lun1"}, OnError: scenarios.Continue, Verify: true,
			Drills: []scenarios.Drill{
				{Name: "vip-move", At: 8 * time.Second, Inject: "pcs resource move vip node2", InjectSource: "pcs resource move vip node2",
					Timeout: time.Minute, Recover: &scenarios.Recover{Command: "pcs resource clear vip", CommandSource: "pcs resource clear vip", At: 6 * time.Second},
					Expect: []scenarios.Criterion{
						crit("failover", "vip-move", "max_stall", scenarios.LE, 3, "3s"),
						crit("failover", "vip-move", "resume_within", scenarios.LE, 4, "4s"),
						crit("failover", "vip-move", "throughput_after", scenarios.GE, 0.9, "90%"),
						crit("failover", "vip-move", "errors", scenarios.EQ, 0, "0"),
						crit("failover", "vip-move", "lost_writes", scenarios.EQ, 0, "0"),
					}},
				{Name: "cable-pull", Manual: true, Timeout: time.Minute,
					Expect: []scenarios.Criterion{crit("failover", "cable-pull", "max_stall", scenarios.LE, 30, "30s")}},
			},
		}},
		Criteria: []scenarios.Criterion{
			crit("", "", "max_stall", scenarios.LE, 5, "5s"),
			crit("", "", "corrupt_blocks", scenarios.EQ, 0, "0"),
			crit("", "", "preflight_errors", scenarios.EQ, 0, "0"),
		},
	}
}

// makeDrillsRun writes the drills fixture into dir.
func makeDrillsRun(t *testing.T, dir string) {
	t.Helper()
	sc := drillsScenario()
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	inject := at(8000)
	d, err := CreateDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WriteScenario(sc); err != nil {
		t.Fatal(err)
	}
	// 20 one-second intervals per target and op: 40 MiB/s each way, with
	// the stall in seconds 8 to 11 and lun1 at 80% afterwards (a path down).
	const mib = 1 << 20
	for s := range 20 {
		var ivs []workload.Interval
		for ti, tg := range []string{"lun0", "lun1"} {
			for _, op := range []workload.Op{workload.Read, workload.Write} {
				bytesPerSec := 40.0 * mib
				switch {
				case s == 8:
					bytesPerSec *= 0.1
				case s >= 9 && s <= 10:
					bytesPerSec = 0
				case s > 10 && ti == 1:
					bytesPerSec *= 0.8
				}
				ops := uint64(bytesPerSec / 4096)
				lat := time.Duration(800+100*ti) * time.Microsecond
				iv := workload.Interval{Start: at(s * 1000), End: at((s + 1) * 1000), Phase: "failover", Target: tg, Op: op,
					Ops: ops, Bytes: ops * 4096, InFlight: 8,
					Lat: workload.LatencySummary{Count: ops, Min: lat / 4, Mean: lat, P50: lat, P90: 2 * lat, P99: 4 * lat, P999: 8 * lat, Max: 10 * lat}}
				if s == 11 {
					iv.Lat.Max = 3100 * time.Millisecond
				}
				if ti == 1 && s == 9 {
					iv.Errors = 1
				}
				ivs = append(ivs, iv)
			}
		}
		d.Add(&workload.Snapshot{Time: at((s + 1) * 1000), Elapsed: time.Duration(s+1) * time.Second, Phase: "failover",
			PhaseCount: 1, PhaseElapsed: time.Duration(s+1) * time.Second, PhaseLength: 20 * time.Second, Intervals: ivs})
	}
	for _, e := range []workload.Event{
		{Time: at(0), Kind: workload.EvPhaseStart, Phase: "failover"},
		{Time: inject, Kind: workload.EvDrillInject, Phase: "failover", Detail: "vip-move: pcs resource move vip node2"},
		{Time: at(8120), Kind: workload.EvStallStart, Phase: "failover", Target: "lun0"},
		{Time: at(8150), Kind: workload.EvStallStart, Phase: "failover", Target: "lun1"},
		{Time: at(9400), Kind: workload.EvIOError, Phase: "failover", Target: "lun1", Offset: 1 << 20, Errno: "EIO", Detail: "write"},
		{Time: at(10900), Kind: workload.EvStallEnd, Phase: "failover", Target: "lun0", Dur: 2980 * time.Millisecond},
		{Time: at(11150), Kind: workload.EvStallEnd, Phase: "failover", Target: "lun1", Dur: 3200 * time.Millisecond},
		{Time: at(14000), Kind: workload.EvDrillRecover, Phase: "failover", Detail: "vip-move: pcs resource clear vip"},
		{Time: at(14600), Kind: workload.EvStallStart, Phase: "failover", Target: "lun1", Dur: 500 * time.Millisecond,
			Detail: "no I/O completed for 500ms with 4 in flight (reads of the verify pass; the workers are parked)"},
		{Time: at(14900), Kind: workload.EvStallEnd, Phase: "failover", Target: "lun1", Dur: 800 * time.Millisecond,
			Detail: "I/O resumed after 800ms (reads of the verify pass)"},
		{Time: at(15000), Kind: workload.EvVerify, Phase: "failover", Target: "lun1", Offset: 8 << 20, Detail: "lost: generation 3, acknowledged 4"},
		// The verify pass at the phase end, after the measured window:
		// lun0's reads hang 400 ms.
		{Time: at(20400), Kind: workload.EvStallStart, Phase: "failover", Target: "lun0", Dur: 300 * time.Millisecond,
			Detail: "no I/O completed for 300ms with 4 in flight (reads of the verify pass at the phase end)"},
		{Time: at(20500), Kind: workload.EvStallEnd, Phase: "failover", Target: "lun0", Dur: 400 * time.Millisecond,
			Detail: "I/O resumed after 400ms (reads of the verify pass at the phase end)"},
		{Time: at(20700), Kind: workload.EvPhaseEnd, Phase: "failover"},
	} {
		d.Event(e)
	}

	targets := []workload.DrillTarget{
		{Target: "lun0", Stalled: true, LastBefore: at(7920), FirstAfter: at(10900), Stall: 2980 * time.Millisecond,
			Detection: -80 * time.Millisecond, Resume: 2900 * time.Millisecond, Resumed: true, InFlight: 8,
			MaxLatency: 3100 * time.Millisecond, Before: 80 * mib, Worst: 0, After: 79.2 * mib, AfterRatio: 0.99,
			PathMove: &workload.PathMove{At: at(11000), After: 3 * time.Second, From: []string{"sdb", "sdc"}, To: []string{"sdd", "sde"}}},
		{Target: "lun1", Stalled: true, LastBefore: at(7950), FirstAfter: at(11150), Stall: 3200 * time.Millisecond,
			Detection: -50 * time.Millisecond, Resume: 3150 * time.Millisecond, Resumed: true, InFlight: 8,
			MaxLatency: 3300 * time.Millisecond, Errors: 2, Errnos: map[string]uint64{"EIO": 2},
			Before: 80 * mib, Worst: 0, After: 64 * mib, AfterRatio: 0.8, DeviceGone: 400 * time.Millisecond,
			Note: "the verify pass after it stalled 800ms"},
	}
	verifies := []verify.Summary{
		{Target: "lun0", Phase: "failover", When: "drill vip-move", Start: at(14100), End: at(14500), Blocks: 4096,
			Counts: map[string]uint64{"ok": 4096}, InDoubt: 8},
		{Target: "lun1", Phase: "failover", When: "drill vip-move", Start: at(14100), End: at(15000), Blocks: 4096,
			Counts: map[string]uint64{"ok": 4094, "lost": 1, "torn": 1}, InDoubt: 6,
			Findings: []verify.Finding{
				{Target: "lun1", Offset: 8 << 20, Class: verify.Lost, Detail: "generation 3, acknowledged 4"},
				{Target: "lun1", Offset: 12<<20 + 4096, Class: verify.Torn, Detail: "sectors 0-3 generation 5, 4-7 generation 4"},
			}},
		{Target: "lun0", Phase: "failover", When: "phase end", Start: at(20000), End: at(20600), Blocks: 6144,
			Counts: map[string]uint64{"ok": 6144}},
		{Target: "lun1", Phase: "failover", When: "phase end", Start: at(20000), End: at(20700), Blocks: 6144,
			Counts: map[string]uint64{"ok": 6142, "lost": 1, "torn": 1}},
	}
	res := &workload.Result{Start: t0, End: at(21000), Seed: 7, PhasesRun: 1,
		Stalls: []workload.Stall{
			{Phase: "failover", Target: "lun0", Start: at(7920), End: at(10900), Dur: 2980 * time.Millisecond, InFlight: 8},
			{Phase: "failover", Target: "lun1", Start: at(7950), End: at(11150), Dur: 3200 * time.Millisecond, InFlight: 8},
			{Phase: "failover", Target: "lun1", Start: at(14100), End: at(14900), Dur: 800 * time.Millisecond, InFlight: 4, DuringVerify: true},
			{Phase: "failover", Target: "lun0", Start: at(20100), End: at(20500), Dur: 400 * time.Millisecond, InFlight: 4, DuringVerify: true, PhaseEnd: true},
		},
		Drills: []workload.DrillResult{
			{Phase: "failover", Name: "vip-move", Injected: true, InjectAt: inject,
				Inject:    &workload.CommandResult{Command: "pcs resource move vip node2", Start: inject, End: at(9200), Dur: 1200 * time.Millisecond, Output: "drills/failover-vip-move-inject.log"},
				RecoverAt: at(14000),
				Recover:   &workload.CommandResult{Command: "pcs resource clear vip", Start: at(14000), End: at(14000).Add(time.Minute), Dur: time.Minute, ExitCode: -1, TimedOut: true, Output: "drills/failover-vip-move-recover.log"},
				WindowEnd: at(14000), Targets: targets},
			{Phase: "failover", Name: "cable-pull", Manual: true},
		},
		Verify: verifies,
	}
	for _, tg := range []string{"lun0", "lun1"} {
		for _, op := range []workload.Op{workload.Read, workload.Write} {
			res.Phases = append(res.Phases, workload.PhaseResult{Phase: "failover", Target: tg, Op: op, Start: t0, End: at(20000),
				Seconds: 20, Ops: 170000, Bytes: 170000 * 4096, IOPS: 8500, BytesPerSec: 8500 * 4096, MBps: 8500 * 4096.0 / mib,
				Lat: workload.LatencySummary{Count: 170000, Min: 200 * time.Microsecond, Mean: 900 * time.Microsecond, P50: 800 * time.Microsecond,
					P90: 1600 * time.Microsecond, P99: 3200 * time.Microsecond, P999: 6400 * time.Microsecond, P9999: 2 * time.Second, Max: 3300 * time.Millisecond}})
		}
		n := uint32(len(res.Targets))
		res.Targets = append(res.Targets, workload.TargetResult{Name: tg, Device: workload.Device{Path: sc.Targets[n].Path,
			Resolved: fmt.Sprintf("/dev/dm-%d", n), Kind: "block", Size: 10 << 30, LogicalBlock: 512, PhysicalBlock: 4096,
			Major: 253, Minor: n, KernelName: fmt.Sprintf("dm-%d", n)}})
	}
	res.Phases[3].Errors, res.Phases[3].Errnos = 2, map[string]uint64{"EIO": 2}

	pre := preflight.Report{Root: "/", Time: t0.Add(-time.Second),
		Checked: []preflight.Source{{What: "iscsid.conf", Where: "/etc/iscsi/iscsid.conf", Found: true}},
		Findings: []preflight.Finding{
			{Severity: preflight.Error, Check: "expect.paths", Target: "/dev/mapper/mpathb", Where: "/sys/block/dm-1/slaves",
				Found: "2 running paths, expected 4", Why: "with half the paths a controller failover leaves one path", Fix: "log in to the missing portals"},
			{Severity: preflight.Warn, Check: "iscsi.noop", Where: "/etc/iscsi/iscsid.conf:12", Others: []string{"/etc/iscsi/nodes/iqn.x/10.0.0.1,3260,1/default:9"},
				Found: "node.conn[0].timeo.noop_out_interval = 0", Why: "a dead path is only noticed when an I/O times out", Fix: "set noop_out_interval = 5"},
		},
		Summary: preflight.Summary{Errors: 1, Warnings: 1, Text: "1 error, 1 warning, 0 info: the host is not set up the way the drills assume (exit 1)"},
	}
	preJSON, err := json.Marshal(pre)
	if err != nil {
		t.Fatal(err)
	}
	run := &RunJSON{Lunbench: Version, Scenario: sc.Name, Source: sc.Source, Status: "finished",
		Host:  Host{Hostname: "testhost", Kernel: "6.12.0", OS: "linux", Arch: "amd64", CPUs: 2, GoVer: "go1.26"},
		Start: t0, End: res.End, Seed: 7, IntervalSec: 1, Targets: res.Targets, Phases: res.Phases, Stalls: res.Stalls,
		Drills: res.Drills, Verify: res.Verify, Extra: map[string]json.RawMessage{"preflight": preJSON}}
	// lun0 sits on reference 001's four-path map, lun1 on reference 000's
	// single session to a VIP: preflight's fixture hosts.
	fo := map[string]preflight.Failover{
		"lun0": preflight.ReadFailover(preflight.NewHost("../collect/preflight/testdata/good"), "lun0", "/dev/mapper/hydra_db-a02", "dm-4", "multipath"),
		"lun1": preflight.ReadFailover(preflight.NewHost("../collect/preflight/testdata/vip"), "lun1", "/dev/sdb", "sdb", "scsi"),
	}
	AddBudgets(run, sc, fo)
	run.Criteria = Evaluate(sc, res, ExtraFor(run))
	run.Verdict = VerdictOf(run.Criteria, res)
	if err := d.WriteRun(run); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDrillsFixture checks that testdata/drills is what makeDrillsRun
// writes (-update rewrites it).
func TestDrillsFixture(t *testing.T) {
	want := filepath.Join("testdata", "drills")
	if *update {
		os.RemoveAll(want)
		makeDrillsRun(t, want)
	}
	got := filepath.Join(t.TempDir(), "drills")
	makeDrillsRun(t, got)
	for _, name := range []string{"run.json", "intervals.csv", "events.jsonl", "scenario.yaml"} {
		g, err := os.ReadFile(filepath.Join(got, name))
		if err != nil {
			t.Fatal(err)
		}
		w, err := os.ReadFile(filepath.Join(want, name))
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(g, w) {
			t.Errorf("testdata/drills/%s is stale (run with -update)", name)
		}
	}
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got, *update)
}

// TestDrillsDocuments renders the drills fixture: report.md, junit.xml
// and the console summary against golden files, and the sections of
// report.html.
func TestDrillsDocuments(t *testing.T) {
	dir := copyFixture(t, "drills")
	if err := Render(dir, Options{Width: 400, Height: 300}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ file, golden string }{
		{"report.md", "drills.report.md"},
		{"junit.xml", "drills.junit.xml"},
	} {
		b, err := os.ReadFile(filepath.Join(dir, f.file))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, f.golden, b)
	}
	r, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	var sum bytes.Buffer
	PrintSummary(&sum, r)
	golden(t, "drills.summary.txt", sum.Bytes())

	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, tt := range []struct{ name, want string }{
		{"drills table", "<h2>Drills</h2>"},                          // the section
		{"timed-out recover", "timed out after 60s"},                 // a hung command is reported
		{"path move", "sdb,sdc → sdd,sde after 3s"},                  // traffic left the failed paths
		{"verify section", "<h2>Data verification</h2>"},             // the passes
		{"finding offset", "8,388,608 (0x800000)"},                   // first findings with offsets
		{"preflight", "<h2>Host preflight</h2>"},                     // the host's set-up
		{"preflight fix", "set noop_out_interval = 5"},               // every finding's fix
		{"drill criterion", "drill vip-move: max_stall &lt;= 3s"},    // rules name their drill
		{"not injected", "not injected (manual drill never marked)"}, // a drill that never happened
		{"no raw preflight", `<h3>preflight</h3>`},                   // not dumped as JSON as well
	} {
		has := strings.Contains(html, tt.want)
		if has == (tt.name == "no raw preflight") {
			t.Errorf("%s: report.html has %q: %v", tt.name, tt.want, has)
		}
	}
}
