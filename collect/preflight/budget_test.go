package preflight

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lunbench/collect"
	"lunbench/scenarios"
	"lunbench/workload"
)

// fixtureHost is a Host over testdata/<name>, or over a copy of it changed
// by edit (path -> new contents) when edit is not empty.
func fixtureHost(t *testing.T, name string, edit map[string]string) Host {
	t.Helper()
	root := filepath.Join("testdata", name)
	if len(edit) > 0 {
		dir := t.TempDir()
		files := map[string]string{}
		for _, f := range fixtures() {
			if f.name == name {
				files = f.files()
			}
		}
		for k, v := range edit {
			files[k] = v
			if v == fxDelete {
				delete(files, k)
			}
		}
		writeFiles(t, dir, files)
		root = dir
	}
	return Host{Root: root, FS: os.DirFS(root), Sys: collect.Host{Root: root}}
}

// fxDelete as an edit's contents removes the file (and so its directory,
// when nothing else is in it) from the fixture copy.
const fxDelete = "\x00delete"

// onePathMap leaves hydra_db-a02 (dm-4) of reference 001 with its first
// path, sdc of session 1, as a map over a single portal would be.
var onePathMap = map[string]string{
	"sys/class/block/dm-4/slaves/sde/dev": fxDelete,
	"sys/class/block/dm-4/slaves/sdg/dev": fxDelete,
	"sys/class/block/dm-4/slaves/sdi/dev": fxDelete,
}

// liveMap replays reference 001's `multipathd show maps json` (features
// "1 queue_if_no_path", queueing "12 chk") with the map's features and
// queueing replaced ("" keeps them), as multipathd reports the live map.
func liveMap(features, queueing string) func(context.Context, ...string) ([]byte, error) {
	return func(_ context.Context, args ...string) ([]byte, error) {
		name := "../testdata/fixtures/fourpath.multipathd-paths.txt"
		if len(args) > 2 && args[2] == "json" {
			name = "../testdata/fixtures/fourpath.multipathd-maps.json"
		}
		b, err := os.ReadFile(name)
		s := string(b)
		if features != "" {
			s = strings.ReplaceAll(s, `"features": "1 queue_if_no_path"`, `"features": "`+features+`"`)
		}
		if queueing != "" {
			s = strings.ReplaceAll(s, `"queueing": "12 chk"`, `"queueing": "`+queueing+`"`)
		}
		return []byte(s), err
	}
}

func TestPredict(t *testing.T) {
	s := time.Second
	tests := []struct {
		name     string
		fixture  string
		edit     map[string]string
		live     [2]string // live map features and queueing from multipathd; "" keeps the fixture's
		asked    bool      // multipathd is asked (a fake replays it)
		path     string
		dev      string
		failure  string
		want     time.Duration
		formula  string
		from     string
		notAdded string // a term read but not added
		reason   string // part of the reason when not available
	}{
		// Reference 001, one of four paths pulled: NOP-Out 5 + 5 and
		// replacement_timeout 10; polling_interval is not added.
		{name: "ref001 path", fixture: "good", path: "/dev/mapper/hydra_db-a02", dev: "dm-4", want: 20 * s,
			formula: "noop_out_interval + noop_out_timeout + replacement_timeout", from: "topology", notAdded: "polling_interval"},
		// Every path pulled: the built-in hwtable's no_path_retry 30 for
		// NEXENTA COMSTAR beats defaults' 12, times polling_interval 10.
		{name: "ref001 all paths", fixture: "good", path: "/dev/mapper/hydra_db-a02", dev: "dm-4", failure: "all-paths", want: 320 * s,
			formula: "noop_out_interval + noop_out_timeout + replacement_timeout + no_path_retry 30 x polling_interval 10s", from: "scenario"},
		// One session of four is not the last: a path failure.
		{name: "ref001 one session", fixture: "good", path: "hydra_db-a02", failure: "session", want: 20 * s, from: "scenario", notAdded: "polling_interval"},
		// The live map does not queue (multipathd reports features 0):
		// with every path gone I/O fails once the sessions give up.
		{name: "live map without queueing", fixture: "good", asked: true, live: [2]string{"0", "off"}, path: "/dev/mapper/hydra_db-a02", dev: "dm-4", failure: "all-paths", want: 20 * s,
			formula: "noop_out_interval + noop_out_timeout + replacement_timeout", from: "scenario", notAdded: "no_path_retry"},
		// multipathd says the live map queues for 12 checks ("12 chk"),
		// not the 30 the files resolve to: the live value wins.
		{name: "live no_path_retry", fixture: "good", asked: true, path: "/dev/mapper/hydra_db-a02", dev: "dm-4", failure: "all-paths", want: 140 * s,
			formula: "noop_out_interval + noop_out_timeout + replacement_timeout + no_path_retry 12 x polling_interval 10s", from: "scenario"},
		// The live map queues without a bound ("on"): unbounded, and the
		// sum is only the iSCSI terms.
		{name: "live queue forever", fixture: "good", asked: true, live: [2]string{"", "on"}, path: "/dev/mapper/hydra_db-a02", dev: "dm-4", failure: "all-paths", want: 20 * s,
			formula: "noop_out_interval + noop_out_timeout + replacement_timeout + features (unbounded)", from: "scenario"},
		// Step 10 skipped: recovery_tmo 120 holds a dead path's I/O for 130 s.
		{name: "centos default", fixture: "centos-default", path: "/dev/mapper/hydra_db-a02", dev: "dm-4", want: 130 * s, from: "topology"},
		// A degraded map still has other paths: the same budget.
		{name: "one path failed", fixture: "one-path-failed", path: "/dev/mapper/hydra_db-a02", dev: "dm-4", want: 20 * s, from: "topology"},
		// A VIP move under a one-path map: the iSCSI level only; the map's
		// queueing (30 x 10 s) is read but not added.
		{name: "session under a one-path map", fixture: "good", edit: onePathMap, path: "/dev/mapper/hydra_db-a02", dev: "dm-4", want: 20 * s,
			formula: "noop_out_interval + noop_out_timeout + replacement_timeout", from: "topology", notAdded: "no_path_retry"},
		// The same map losing its only path for good: the queueing counts.
		{name: "all paths of a one-path map", fixture: "good", edit: onePathMap, path: "/dev/mapper/hydra_db-a02", dev: "dm-4", failure: "all-paths", want: 320 * s, from: "scenario"},
		// Reference 000: one session to the VIP, no multipath.
		{name: "ref000 vip", fixture: "vip", path: "/dev/sdb", dev: "sdb", want: 130 * s,
			formula: "noop_out_interval + noop_out_timeout + replacement_timeout", from: "topology"},
		// NOP-Out off on the session: the disk's SCSI command timeout
		// (60 s here) notices the dead connection instead.
		{name: "nop off", fixture: "vip", path: "/dev/sdb", dev: "sdb", want: 180 * s, formula: "scsi_cmd_timeout + replacement_timeout", from: "topology",
			edit: map[string]string{"sys/class/iscsi_connection/connection1:0/recv_tmo": "0\n", "sys/class/block/sdb/device/timeout": "60\n"}},
		// The kernel hides a failed session's timers: the node record's
		// values stand in, and say so.
		{name: "timers from the record", fixture: "vip", path: "/dev/sdb", dev: "sdb", want: 130 * s, from: "topology",
			edit: map[string]string{"sys/class/iscsi_connection/connection1:0/recv_tmo": "", "sys/class/iscsi_session/session1/recovery_tmo": ""}},
		// A loop device on a host with iSCSI: nothing to predict from.
		{name: "loop beside iscsi", fixture: "vip", path: "/dev/loop0", dev: "loop0", reason: "is a loop device, not an iSCSI LUN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fixtureHost(t, tt.fixture, tt.edit)
			if tt.asked {
				h.Sys.Multipathd = liveMap(tt.live[0], tt.live[1])
			}
			kind := map[string]string{"dm-4": "multipath", "sdb": "scsi", "loop0": "loop"}[tt.dev]
			b := ReadFailover(h, "lun0", tt.path, tt.dev, kind).Predict(tt.failure)
			if tt.reason != "" {
				if b.Available || !strings.Contains(b.Reason, tt.reason) || b.Predicted != 0 {
					t.Fatalf("want not available with %q, got available %v, %v, reason %q", tt.reason, b.Available, b.Predicted, b.Reason)
				}
				return
			}
			if !b.Available || b.Predicted != tt.want {
				t.Fatalf("predicted %v (available %v, %s), want %v; terms %+v", b.Predicted, b.Available, b.Reason, tt.want, b.Terms)
			}
			if tt.formula != "" && b.Formula != tt.formula {
				t.Errorf("formula %q, want %q", b.Formula, tt.formula)
			}
			if b.FailureFrom != tt.from {
				t.Errorf("failure_from %q, want %q", b.FailureFrom, tt.from)
			}
			var sum time.Duration
			for _, term := range b.Terms {
				if !b.Unbounded || term.Name != "features" {
					sum += term.Value
				}
				if term.Source == "" || term.Name == "" {
					t.Errorf("term without a name or source: %+v", term)
				}
			}
			if sum != b.Predicted {
				t.Errorf("terms add up to %v, predicted %v", sum, b.Predicted)
			}
			if tt.notAdded != "" && (len(b.NotAdded) == 0 || !strings.HasPrefix(b.NotAdded[0].Name, tt.notAdded)) {
				t.Errorf("not_added %+v, want %s", b.NotAdded, tt.notAdded)
			}
			if b.Tolerance != Tolerance(b.Predicted) {
				t.Errorf("tolerance %v", b.Tolerance)
			}
		})
	}
}

// TestPredictSources checks that each term says where it was read.
func TestPredictSources(t *testing.T) {
	b := ReadFailover(fixtureHost(t, "good", nil), "lun0", "/dev/mapper/hydra_db-a02", "dm-4", "multipath").Predict("all-paths")
	want := []string{
		"/sys/class/iscsi_connection/connection1:0/recv_tmo",
		"/sys/class/iscsi_connection/connection1:0/ping_tmo",
		"/sys/class/iscsi_session/session1/recovery_tmo",
		"no_path_retry 30, multipath-tools' built-in hwtable for NEXENTA COMSTAR",
	}
	for i, w := range want {
		if i >= len(b.Terms) || b.Terms[i].Source != w {
			t.Errorf("term %d: %+v, want source %q", i, b.Terms, w)
		}
	}
	rec := ReadFailover(fixtureHost(t, "vip", map[string]string{"sys/class/iscsi_session/session1/recovery_tmo": ""}), "lun0", "/dev/sdb", "sdb", "scsi").Predict("")
	if got := rec.Terms[2].Source; !strings.Contains(got, "etc/iscsi/nodes/") || !strings.Contains(got, "recovery_tmo not readable") {
		t.Errorf("replacement_timeout from the node record: source %q", got)
	}
}

func TestPredictNoISCSI(t *testing.T) {
	root := t.TempDir() // this machine's kernel has no iSCSI transport: no /sys/class/iscsi_session
	b := ReadFailover(Host{Root: root, FS: os.DirFS(root), Sys: collect.Host{Root: root}}, "lun0", "/dev/loop3", "loop3", "loop").Predict("")
	if b.Available || !strings.Contains(b.Reason, "kernel's iSCSI transport is not loaded") || !strings.Contains(b.Reason, "/dev/loop3 is a loop device") {
		t.Fatalf("got %+v", b)
	}
}

func TestJudge(t *testing.T) {
	s := time.Second
	avail := func(p time.Duration, unbounded bool) workload.Budget {
		return workload.Budget{Available: true, Predicted: p, Tolerance: Tolerance(p), Unbounded: unbounded, Formula: "x"}
	}
	tests := []struct {
		name     string
		b        workload.Budget
		measured time.Duration
		finding  bool
		ratio    float64
	}{
		// The prototype's path pull: 17.7 s against 20 s predicted.
		{"within", avail(20*s, false), 17700 * time.Millisecond, false, 0.885},
		// Exactly at the edge: 20 s + 2 s + 4 s.
		{"at the edge", avail(20*s, false), 26 * s, false, 1.3},
		// Just past it: a finding.
		{"far above", avail(20*s, false), 26*s + time.Millisecond, true, 1.30005},
		// The no-GARP VIP move: 107 s against a 20 s budget.
		{"no garp", avail(20*s, false), 107 * s, true, 5.35},
		// Unbounded queueing explains any stall.
		{"unbounded", avail(20*s, true), 500 * s, false, 25},
		// Nothing predicted: never a finding or a ratio.
		{"not available", workload.Budget{Reason: "no iSCSI"}, 5 * s, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b
			Judge(&b, tt.measured)
			if (b.Finding != "") != tt.finding {
				t.Errorf("finding %q, want one: %v", b.Finding, tt.finding)
			}
			if d := b.Ratio - tt.ratio; d > 1e-9 || d < -1e-9 {
				t.Errorf("ratio %v, want %v", b.Ratio, tt.ratio)
			}
			if b.Measured != tt.measured {
				t.Errorf("measured %v", b.Measured)
			}
		})
	}
}

// TestDrillBudgetsText renders check --scenario's budget section for
// reference 001: one path pulled, then every path.
func TestDrillBudgetsText(t *testing.T) {
	sc := &scenarios.Scenario{
		Targets: []scenarios.Target{{Name: "db", Path: "/dev/mapper/hydra_db-a02"}, {Name: "scratch", Path: "/dev/loop7"}},
		Phases: []scenarios.Phase{{Name: "p", Drills: []scenarios.Drill{
			{Name: "pull-one"}, {Name: "pull-all", Failure: scenarios.FailureAllPaths}}}},
	}
	bs := DrillBudgets(fixtureHost(t, "good", nil), sc)
	if len(bs) != 4 {
		t.Fatalf("%d budgets, want 2 drills x 2 targets", len(bs))
	}
	var b strings.Builder
	writeBudgets(&b, bs)
	tcs := TargetsCauses(fixtureHost(t, "good", nil), sc)
	if len(tcs) != 1 || tcs[0].Target != "db" || len(tcs[0].Causes) != 4 {
		t.Fatalf("likely causes %+v: want db's four (scratch is no iSCSI LUN)", tcs)
	}
	writeCauses(&b, tcs)
	golden(t, "budgets.txt", []byte(b.String()))
}

// TestPredictLiveSource checks that a live multipathd value names its
// source, not the file it overrides.
func TestPredictLiveSource(t *testing.T) {
	h := fixtureHost(t, "good", nil)
	h.Sys.Multipathd = liveMap("", "")
	b := ReadFailover(h, "lun0", "/dev/mapper/hydra_db-a02", "dm-4", "multipath").Predict("all-paths")
	last := b.Terms[len(b.Terms)-1]
	if last.Source != `queueing "12 chk" of the live map (multipathd show maps)` || last.Value != 120*time.Second {
		t.Errorf("no_path_retry term %+v", last)
	}
}

// TestReadFailoversFile resolves a scenario's file target on this host: a
// file is never an iSCSI LUN, whatever the host has.
func TestReadFailoversFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "lbbud.dat")
	if err := os.WriteFile(f, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	fo := ReadFailovers(NewHost("/"), []scenarios.Target{{Name: "file", Path: f}})
	b := fo["file"].Predict("")
	if b.Available || !strings.HasPrefix(b.Reason, f+" is a file, not an iSCSI LUN") {
		t.Fatalf("budget %+v", b)
	}
}
