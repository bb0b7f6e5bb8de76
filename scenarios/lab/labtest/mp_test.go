package labtest

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"lunbench/collect"
	"lunbench/collect/preflight"
	"lunbench/report"
	"lunbench/workload"
)

// multipathFastIOFail is multipath-tools' default fast_io_fail_tmo, which
// multipathd writes into the recovery_tmo of every session it uses: the lab's
// multipath.conf does not set it, so it, not iscsid.conf's
// replacement_timeout (10), decides when a dead path's commands fail over.
const multipathFastIOFail = 5 * time.Second

// mpBudget is the failover budget of reference 001's layout for one dead
// path, from the lab's configuration: the dead connection is found within
// noop_out_interval + noop_out_timeout, and its commands fail to
// dm-multipath after recovery_tmo (fast_io_fail_tmo): predicted() is what
// lunbench's own budget must find live in the guest. worst() adds
// multipathd's polling_interval, the upper bound for I/O to resume
// after the inject. floor is the least time I/O can take to resume: a
// failure cannot be declared before noop_out_timeout + recovery_tmo.
type mpBudget struct {
	noopInterval, noopTimeout, recovery, polling time.Duration
	noPathRetry                                  int
}

func (b mpBudget) predicted() time.Duration {
	return b.noopInterval + b.noopTimeout + b.recovery
}

func (b mpBudget) worst() time.Duration {
	return b.noopInterval + b.noopTimeout + b.recovery + b.polling
}

func (b mpBudget) floor() time.Duration { return b.noopTimeout + b.recovery }

func readMPBudget(t *testing.T) mpBudget {
	t.Helper()
	conf := filepath.Join(repoRoot(t), "scenarios/lab/guest/conf")
	isc := confFile(t, filepath.Join(conf, "iscsid-mp.conf"))
	mp := confFile(t, filepath.Join(conf, "multipath.conf"))
	if _, set := mp["fast_io_fail_tmo"]; set {
		t.Fatal("multipath.conf sets fast_io_fail_tmo: take it into the budget")
	}
	return mpBudget{
		noopInterval: seconds(t, isc, "node.conn[0].timeo.noop_out_interval"),
		noopTimeout:  seconds(t, isc, "node.conn[0].timeo.noop_out_timeout"),
		recovery:     multipathFastIOFail,
		polling:      seconds(t, mp, "polling_interval"),
	}
}

// TestLabMultipath boots one guest on reference 001's layout (two portals,
// two initiator interfaces, four CHAP paths) and runs paths, check, a path
// pull, a drifted node record, the CHAP rule and a total outage in it.
func TestLabMultipath(t *testing.T) {
	b := readMPBudget(t)
	// The suite shortens no_path_retry to 2 before the total outage
	// (suite.sh), so I/O queues 2 x polling_interval, and the outage lasts
	// well past that plus the path failure's own detection.
	queueing := 2 * b.polling
	outage := b.worst() + queueing + 15*time.Second
	// The drill is injected 10 s into the phase; after the recovery a
	// login (login_timeout 15 s at most) and two checker rounds bring the
	// paths back, and the drill's verify pass needs I/O flowing again.
	phase := 10*time.Second + outage + 15*time.Second + 2*b.polling + 10*time.Second
	g := bootSuite(t, "mp", map[string]string{
		"PULL_BUDGET":  (b.predicted() + slack(b.predicted())).String(),
		"OUTAGE":       outage.String(),
		"OUTAGE_PHASE": phase.String(),
	})
	top := g.topology(t, "paths.json")
	dead := deadPath(t, top)

	t.Run("no_secrets", g.noSecrets)

	t.Run("ref001_paths", func(t *testing.T) {
		g.step(t, "paths-json", 0)
		m := onlyMap(t, top)
		if len(m.Paths) != 4 || m.Usable != 4 {
			t.Errorf("map %s: %d paths, %d usable; want 4 and 4", m.Name, len(m.Paths), m.Usable)
		}
		portals := map[string]bool{}
		for _, p := range m.Paths {
			s := session(t, top, p.Session)
			if !s.CHAP {
				t.Errorf("path %s: session %s without CHAP", p.Device, s.Name)
			}
			if s.RecoveryTmo != "5" {
				t.Errorf("session %s: recovery_tmo %s, the budget assumes multipathd's fast_io_fail_tmo 5", s.Name, s.RecoveryTmo)
			}
			for _, c := range s.Connections {
				portals[c.PersistentAddress] = true
			}
		}
		if len(portals) != 2 {
			t.Errorf("portals %v, want 2", portals)
		}
	})

	t.Run("ref001_path_pull", func(t *testing.T) {
		g.step(t, "pull", 0)
		r, d := g.drill(t, "pull", "path-pull")
		dt := d.Targets[0]
		t.Logf("path pull: stall %v, resume %v after inject, errors %d, after/before %.2f; predicted %v (noop %v+%v, recovery_tmo %v), with polling %v: %v, floor %v",
			dt.Stall, dt.Resume, dt.Errors, dt.AfterRatio, b.predicted(), b.noopInterval, b.noopTimeout, b.recovery, b.polling, b.worst(), b.floor())
		if dt.Errors != 0 {
			t.Errorf("errors %d %v, want 0 with queue_if_no_path and three live paths", dt.Errors, dt.Errnos)
		}
		if !dt.Resumed || dt.Resume > b.worst()+slack(b.worst()) {
			t.Errorf("I/O resumed %v after the inject (resumed %v), budget %v + %v", dt.Resume, dt.Resumed, b.worst(), slack(b.worst()))
		}
		if dt.Resume < b.floor()-time.Second {
			t.Errorf("I/O resumed %v after the inject, sooner than the iSCSI layer can declare a path dead (%v)", dt.Resume, b.floor())
		}
		// lunbench's own prediction, from the guest's live settings, must
		// be the one the lab configured, and the stall within it.
		bud := dt.Budget
		if bud == nil || !bud.Available {
			t.Fatalf("no failover budget in run.json: %+v", bud)
		}
		t.Logf("lunbench budget: %s, predicted %v (%s), measured %v, tolerance %v, finding %q",
			bud.Failure, bud.Predicted, bud.Formula, bud.Measured, bud.Tolerance, bud.Finding)
		if bud.Failure != "path" || bud.Predicted != b.predicted() || bud.Measured != dt.Stall {
			t.Errorf("budget %s predicted %v measured %v; want path, %v (the configured values), %v",
				bud.Failure, bud.Predicted, bud.Measured, b.predicted(), dt.Stall)
		}
		if dt.Stall > bud.Predicted+slack(bud.Predicted) {
			t.Errorf("stall %v over the predicted %v + %v", dt.Stall, bud.Predicted, slack(bud.Predicted))
		}
		// The per-path iostat, between I/O resuming and the recovery: the
		// dead path completes nothing, the 3 others carry the load. (The
		// drill's path_move is a first-sample heuristic: at a few hundred
		// IOPS a live path may idle for one sample, so it is only logged.)
		if pm := dt.PathMove; pm != nil {
			t.Logf("path move %v after the inject, from %v to %v", pm.After, pm.From, pm.To)
		}
		ops := pathOps(t, filepath.Join(g.dir, "pull", "diskstats.csv"), d.InjectAt.Add(dt.Resume+time.Second), d.RecoverAt)
		t.Logf("I/Os per path between resume and recovery: %v", ops)
		var total float64
		for _, n := range ops {
			total += n
		}
		for _, p := range onlyMap(t, top).Paths {
			// The dead path may count multipathd's checker probes, no load.
			if p.Device == dead && ops[p.Device] > total/20 {
				t.Errorf("dead path %s completed %.0f of %.0f I/Os after the failover", dead, ops[dead], total)
			}
			if p.Device != dead && ops[p.Device] == 0 {
				t.Errorf("live path %s carried no I/O after the failover", p.Device)
			}
		}
		// Round-robin (rr_min_io_rq 1) hands requests to the usable
		// paths in turn: a quarter each of four before the pull, a third
		// each of three after it.
		before := pathOps(t, filepath.Join(g.dir, "pull", "diskstats.csv"), d.InjectAt.Add(-10*time.Second), d.InjectAt)
		t.Logf("I/Os per path in the 10 s before the inject: %v", before)
		checkShares(t, "before the pull", before, 4)
		delete(ops, dead)
		checkShares(t, "after the failover", ops, 3)
		// Throughput: were the paths the bottleneck, three of four would
		// carry 3/4 of before. Under TCG the bottleneck is the guest's one
		// emulated CPU, so three paths carry about what four did: the
		// ratio lies between 3/4 and 1, less the noise of two 10 s
		// windows: three standard deviations of the ratio of their means,
		// from the before window's per-interval spread. The host is
		// shared, and its load can change several-fold between windows
		// (a run at load 400 saw 0.09): the phase's last 10 s, with the
		// paths back, measure the host's speed again. When they are off
		// the before window by more than the same tolerance, the host
		// moved and the ratio says nothing about the paths: that is
		// logged, not failed.
		rows, err := report.ReadIntervals(filepath.Join(g.dir, "pull"))
		if err != nil {
			t.Fatal(err)
		}
		var end time.Time
		for _, r := range rows {
			if r.End.After(end) {
				end = r.End
			}
		}
		bw := windowRate(t, rows, d.InjectAt.Add(-10*time.Second), d.InjectAt)
		fw := windowRate(t, rows, end.Add(-10*time.Second), end)
		tol := 3 * bw.cv * math.Sqrt(2/float64(bw.n))
		floor, drift := 0.75*(1-tol), fw.mean/bw.mean
		t.Logf("throughput before %.0f B/s, after %.0f B/s: ratio %.2f, floor %.2f (CV before %.0f%% over %d intervals); the phase's last 10 s %.2f of before",
			dt.Before, dt.After, dt.AfterRatio, floor, 100*bw.cv, bw.n, drift)
		switch {
		case math.Abs(drift-1) > tol:
			t.Logf("after/before not judged: the host's speed moved by %.0f%% (tolerance %.0f%%) between the windows", 100*math.Abs(drift-1), 100*tol)
		case dt.AfterRatio < floor:
			t.Errorf("throughput after the pull %.2f of before, under the floor %.2f (3 of 4 paths left, CV %.0f%%)", dt.AfterRatio, floor, 100*bw.cv)
		}
		if problems, _, blocks := verifyTotals(r); problems != 0 || blocks == 0 {
			t.Errorf("verify: %d problem blocks of %d read back", problems, blocks)
		}
		evs, err := report.ReadEvents(filepath.Join(g.dir, "pull"))
		if err != nil {
			t.Fatal(err)
		}
		s := session(t, top, pathByDevice(t, top, dead).Session)
		var pathEv, sessEv bool
		for _, e := range evs {
			pathEv = pathEv || e.Kind == workload.EvPathState && e.Path == dead
			sessEv = sessEv || e.Kind == workload.EvSessionState && e.Path == s.Name
		}
		if !pathEv || !sessEv {
			t.Errorf("events.jsonl: path_state of %s %v, session_state of %s %v; want both", dead, pathEv, s.Name, sessEv)
		}
	})

	t.Run("ref001_all_paths", func(t *testing.T) {
		g.step(t, "allpaths", 1) // a criterion failed: errors reached the workers
		r, d := g.drill(t, "allpaths", "all-paths")
		dt := d.Targets[0]
		t.Logf("all paths: %d errors %v, stall %v, resumed %v after %v; queueing %v, outage %v", dt.Errors, dt.Errnos, dt.Stall, dt.Resumed, dt.Resume, queueing, outage)
		if dt.Errors == 0 || dt.Errnos["EIO"] == 0 {
			t.Errorf("errors %d by errno %v; want EIO once no_path_retry ran out", dt.Errors, dt.Errnos)
		}
		if r.Verdict != report.Fail {
			t.Errorf("verdict %q, want %q: the drill's errors criterion fails", r.Verdict, report.Fail)
		}
		// The contract: no acknowledged write lost or damaged, and the
		// failed writes in doubt. Blocks a pass could not read (EIO while
		// the paths were still down) are unreadable, not lost: the phase
		// end's pass, after the paths came back, must read every block.
		for _, v := range r.Verify {
			t.Logf("verify %s: %d blocks, %v, %d in doubt", v.When, v.Blocks, v.Counts, v.InDoubt)
			for _, class := range []string{"lost", "unwritten", "torn", "misdirected", "corrupt"} {
				if v.Counts[class] != 0 {
					t.Errorf("verify %s: %d %s blocks; failed writes must be in doubt, not lost", v.When, v.Counts[class], class)
				}
			}
			if v.When == "phase end" && (v.Counts["unreadable"] != 0 || v.InDoubt == 0) {
				t.Errorf("verify at the phase end: %d unreadable, %d in doubt; want every block read and the failed writes in doubt", v.Counts["unreadable"], v.InDoubt)
			}
		}
	})

	t.Run("ref001_path_failed", func(t *testing.T) {
		// suite.sh's pathfail: the path eth0 -> h1 down, read load on
		// until the dm table and multipathd have both failed it.
		g.step(t, "pathfail-wait", 0)
		g.step(t, "paths-failed-json", 0)
		g.step(t, "paths-failed-dm", 0)
		g.step(t, "paths-failed", 0)
		mpd := g.topology(t, "paths-failed.json")
		// multipathd is asked first; on a loaded host it may not answer
		// within its timeout, and paths then reads dmsetup status.
		viaMPD := mpd.Multipathd == "used"
		if !viaMPD {
			t.Logf("multipathd %s: paths --json read dmsetup status (%s)", mpd.Multipathd, mpd.DMSetup)
			if mpd.DMSetup != "used" {
				t.Errorf("paths --json: multipathd %q and dmsetup %q: no dm path states", mpd.Multipathd, mpd.DMSetup)
			}
		}
		checkFailedPath(t, "paths --json", onlyMap(t, mpd), dead, viaMPD)
		// Without multipathd on PATH: the kernel's dm table alone.
		dm := g.topology(t, "paths-failed-dm.json")
		if dm.Multipathd != "not installed" || dm.DMSetup != "used" {
			t.Errorf("paths --json without multipathd: multipathd %q, dmsetup %q; want not installed, used", dm.Multipathd, dm.DMSetup)
		}
		checkFailedPath(t, "dmsetup", onlyMap(t, dm), dead, false)
		// What a person reads: the tree's line of each path.
		b, err := os.ReadFile(filepath.Join(g.dir, "paths-failed.txt"))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("paths with %s failed:\n%s", dead, b)
		// multipathd's words, or the kernel's when multipathd did not
		// answer in time (a loaded host) and paths read dmsetup status.
		for _, p := range onlyMap(t, mpd).Paths {
			want := regexp.MustCompile(`(multipathd active/ready|dm active)  group 1 active`)
			if p.Device == dead {
				want = regexp.MustCompile(`(multipathd failed/faulty|dm failed)  group 1 active`)
			}
			if line := pathLine(string(b), p.Device); !want.MatchString(line) {
				t.Errorf("paths: line of %s %q, want it to say %q", p.Device, line, want)
			}
		}
		g.step(t, "pathback-wait", 0) // all four back before the next steps
	})

	t.Run("ref002_drift", func(t *testing.T) {
		g.step(t, "drift", 0)
		rep := g.check(t, "check-drift.json")
		for _, f := range rep.Findings {
			where := strings.Join(append([]string{f.Where}, f.Others...), " ")
			if strings.Contains(where, "198.18.0.10,3260,1/lblab0") && strings.Contains(f.Found, "120") {
				if f.Fix == "" {
					t.Errorf("finding %s has no fix", f.Check)
				}
				t.Logf("drift found: %s: %s; fix: %s", f.Check, f.Found, f.Fix)
				return
			}
		}
		t.Errorf("no finding names the node record drifted to replacement_timeout 120; findings: %+v", rep.Findings)
	})

	t.Run("ref003_chap", func(t *testing.T) {
		g.step(t, "chap", 1) // nochap fails its expect: {chap: true}
		rep := g.check(t, "check-chap.json")
		var lun0, nochap []preflight.Finding
		for _, f := range rep.Findings {
			if f.Severity != preflight.Error {
				continue
			}
			// A target's findings name it by its path.
			switch f.Target {
			case "/dev/mapper/mpatha":
				lun0 = append(lun0, f)
			case "/dev/mapper/mpathb":
				nochap = append(nochap, f)
			}
		}
		if len(lun0) != 0 {
			t.Errorf("lun0 (CHAP both ways) has errors: %+v", lun0)
		}
		if len(nochap) == 0 || nochap[0].Check != "expect.chap" || nochap[0].Fix == "" {
			t.Errorf("nochap (logged in without CHAP): errors %+v, want expect.chap with a fix", nochap)
		}
	})
}

// checkFailedPath checks a map's paths with one path (dead) down: the dm
// table has failed it and kept the three others active, all in the one
// path group reference 001's group_by_node_name makes of four paths to one
// target name. With multipathd its checker must call the dead path faulty,
// the others ready; without, dmsetup's fail count must show the failure.
func checkFailedPath(t *testing.T, from string, m collect.Map, dead string, multipathd bool) {
	t.Helper()
	if len(m.Paths) != 4 || m.Usable != 3 {
		t.Errorf("%s: map %s: %d paths, %d usable; want 4 and 3", from, m.Name, len(m.Paths), m.Usable)
	}
	for _, p := range m.Paths {
		dm, chk, usable := "active", "ready", true
		if p.Device == dead {
			dm, chk, usable = "failed", "faulty", false
		}
		if p.DMState != dm || p.Usable != usable || p.Group != 1 || p.GroupState != "active" {
			t.Errorf("%s: path %s: dm %q usable %v group %d %q; want %q %v, group 1 active",
				from, p.Device, p.DMState, p.Usable, p.Group, p.GroupState, dm, usable)
		}
		switch {
		case multipathd && p.Checker != chk:
			t.Errorf("%s: path %s: checker %q, want %q", from, p.Device, p.Checker, chk)
		case multipathd && (p.Priority == nil || *p.Priority != 1):
			t.Errorf("%s: path %s: priority %v, want 1 (prio const)", from, p.Device, p.Priority)
		case !multipathd && p.Device == dead && (p.FailCount == nil || *p.FailCount == 0):
			t.Errorf("%s: path %s: no dm fail count, want 1 or more", from, p.Device)
		}
	}
}

// pathLine is the line of paths' tree that starts with a path device.
func pathLine(tree, dev string) string {
	for _, line := range strings.Split(tree, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, "│├└─ "), dev+" ") {
			return line
		}
	}
	return ""
}

func onlyMap(t *testing.T, top collect.Topology) collect.Map {
	t.Helper()
	if len(top.Devices) != 1 || len(top.Devices[0].Maps) != 1 {
		t.Fatalf("paths.json: %d devices, want 1 with 1 map", len(top.Devices))
	}
	return top.Devices[0].Maps[0]
}

func session(t *testing.T, top collect.Topology, name string) collect.Session {
	t.Helper()
	for _, s := range top.Sessions {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("paths.json: no session %q", name)
	return collect.Session{}
}

func pathByDevice(t *testing.T, top collect.Topology, dev string) collect.Path {
	t.Helper()
	for _, p := range onlyMap(t, top).Paths {
		if p.Device == dev {
			return p
		}
	}
	t.Fatalf("paths.json: no path %s", dev)
	return collect.Path{}
}

// deadPath is the path device the pull drill kills: initiator interface
// lblab0 (eth0) to head h1's portal 198.18.1.11 (sanlab.sh path-down i0-h1).
func deadPath(t *testing.T, top collect.Topology) string {
	t.Helper()
	for _, p := range onlyMap(t, top).Paths {
		s := session(t, top, p.Session)
		if s.IfaceName == "lblab0" && len(s.Connections) > 0 && s.Connections[0].PersistentAddress == "198.18.1.11" {
			return p.Device
		}
	}
	t.Fatal("paths.json: no path lblab0 -> 198.18.1.11")
	return ""
}

// checkShares checks that each of n round-robin paths carried its share,
// 1/n, of the I/Os: within half the gap between 1/n and 1/(n+1), so n paths
// sharing the load cannot pass for n+1.
func checkShares(t *testing.T, when string, ops map[string]float64, n int) {
	t.Helper()
	var total float64
	for _, v := range ops {
		total += v
	}
	tol := (1/float64(n) - 1/float64(n+1)) / 2
	if len(ops) != n || total == 0 {
		t.Errorf("%s: I/O on %d paths (%v), want %d", when, len(ops), ops, n)
		return
	}
	for dev, v := range ops {
		if share := v / total; math.Abs(share-1/float64(n)) > tol {
			t.Errorf("%s: path %s carried %.0f%% of the I/Os, want %.0f%% ± %.0f%% (round-robin over %d)", when, dev, 100*share, 100/float64(n), 100*tol, n)
		}
	}
}

// rate is the throughput of a window of intervals: the mean of the
// per-interval rates (reads and writes together, bytes/s), their
// coefficient of variation and their count.
type rate struct {
	mean, cv float64
	n        int
}

// windowRate is the rate of the intervals wholly inside [from, to].
func windowRate(t *testing.T, rows []report.IntervalRow, from, to time.Time) rate {
	t.Helper()
	per := map[time.Time]float64{}
	for _, r := range rows {
		if !r.Start.Before(from) && !r.End.After(to) {
			per[r.Start] += float64(r.Bytes) / r.End.Sub(r.Start).Seconds()
		}
	}
	if len(per) < 3 {
		t.Fatalf("%d intervals between %v and %v, want 3 or more", len(per), from, to)
	}
	var sum, sq float64
	for _, v := range per {
		sum += v
	}
	mean := sum / float64(len(per))
	for _, v := range per {
		sq += (v - mean) * (v - mean)
	}
	return rate{mean: mean, cv: math.Sqrt(sq/float64(len(per)-1)) / mean, n: len(per)}
}

// pathOps sums, per path device, the I/Os (r/s + w/s times the sample's
// length) of the diskstats.csv samples that ended in (from, to].
func pathOps(t *testing.T, path string, from, to time.Time) map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("%s: %v (%d rows)", path, err, len(rows))
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	num := func(r []string, name string) float64 {
		v, err := strconv.ParseFloat(r[col[name]], 64)
		if err != nil {
			t.Fatalf("%s: %s %q: %v", path, name, r[col[name]], err)
		}
		return v
	}
	ops := map[string]float64{}
	for _, r := range rows[1:] {
		at, err := time.Parse(time.RFC3339Nano, r[col["time"]])
		if err != nil {
			t.Fatalf("%s: time %q: %v", path, r[col["time"]], err)
		}
		if r[col["role"]] != "path" || !at.After(from) || at.After(to) {
			continue
		}
		ops[r[col["device"]]] += (num(r, "r/s") + num(r, "w/s")) * num(r, "interval_s")
	}
	return ops
}
