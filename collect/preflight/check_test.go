package preflight

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lunbench/collect"
	goldenfile "lunbench/report/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

var fixedNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// scenarioExpect is what the test scenario declares for the database LUN:
// expect: {paths: 4, portals: 2, chap: true, recovery_tmo: "<=15s"}.
func scenarioExpect() map[string]Expect {
	yes := true
	return map[string]Expect{
		"/dev/mapper/hydra_db-a02": {Paths: 4, Portals: 2, CHAP: &yes, RecoveryTmoMax: 15 * time.Second},
	}
}

// golden compares got with testdata/golden/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", "golden", name), got, *update)
}

func TestGolden(t *testing.T) {
	tests := []struct {
		fixture string
		exit    int
		errors  []string // checks that must be among the errors
	}{
		// Reference 001 done right: no error, some notes on its 2011 multipath.conf.
		{"good", 0, nil},
		// Step 10 skipped: replacement_timeout 120 with queue_if_no_path, and recovery_tmo above the scenario's 15 s.
		{"centos-default", 1, []string{"iscsi.replacement_timeout", "expect.recovery_tmo"}},
		// sdi offline: hydra_db-a02 has 3 running paths of the 4 expected.
		{"one-path-failed", 1, []string{"mp.path-state", "expect.paths"}},
		// Strict rp_filter on both iSCSI NICs of a multi-subnet host.
		{"rp-filter", 1, []string{"net.rp_filter"}},
		// Sessions without CHAP where the scenario expects it.
		{"no-chap", 1, []string{"expect.chap"}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			r := Run(filepath.Join("testdata", tt.fixture), scenarioExpect(), fixedNow)
			var text bytes.Buffer
			if err := r.WriteText(&text, false); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.fixture+".txt", text.Bytes())
			js, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if tt.fixture == "good" {
				golden(t, "good.json", append(js, '\n'))
			}
			if r.ExitCode() != tt.exit {
				t.Errorf("exit code %d, want %d", r.ExitCode(), tt.exit)
			}
			for _, c := range tt.errors {
				if !has(r, Error, c) {
					t.Errorf("no %s error", c)
				}
			}
			var colored bytes.Buffer
			_ = r.WriteText(&colored, true)
			for _, out := range [][]byte{text.Bytes(), js, colored.Bytes()} {
				if bytes.Contains(out, []byte(fxSecret)) {
					t.Fatalf("the CHAP secret leaked into the output")
				}
			}
		})
	}
}

func has(r Report, sev Severity, check string) bool {
	for _, f := range r.Findings {
		if f.Severity == sev && f.Check == check {
			return true
		}
	}
	return false
}

// TestNoInitiator is this machine's case: nothing iSCSI at all.
func TestNoInitiator(t *testing.T) {
	root := writeTree(t, map[string]string{"proc/sys/net/ipv4/conf/all/rp_filter": "0\n"})
	r := Run(root, nil, fixedNow)
	if len(r.Findings) != 1 || r.Findings[0].Check != "host.no-iscsi" || r.Findings[0].Severity != Info {
		t.Fatalf("findings %+v, want one host.no-iscsi info", r.Findings)
	}
	if !strings.HasPrefix(r.Findings[0].Found, "no iSCSI initiator (open-iscsi) configured on this host: /etc/iscsi/iscsid.conf not found; no iSCSI sessions in /sys/class/iscsi_session") {
		t.Errorf("found %q", r.Findings[0].Found)
	}
	if r.ExitCode() != 0 {
		t.Errorf("exit %d, want 0", r.ExitCode())
	}
	found := 0
	for _, s := range r.Checked {
		if s.Found {
			found++
		}
	}
	if len(r.Checked) != 7 || found != 1 {
		t.Errorf("checked %+v: want 7 sources, rp_filter the only one found", r.Checked)
	}
	// A scenario that expects an iSCSI LUN here fails.
	r = Run(root, scenarioExpect(), fixedNow)
	if !has(r, Error, "expect.target") || r.ExitCode() != 1 {
		t.Errorf("with expectations: %+v", r.Findings)
	}
}

// writeTree writes a host tree (path -> contents) to a temporary directory
// and returns it, as a root for Run.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	writeFiles(t, root, files)
	return root
}

// writeFiles writes files (path -> contents) below dir.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// mutate starts from the good fixture and changes it.
type mutation func(files map[string]string)

func set(kv ...string) mutation {
	return func(m map[string]string) {
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
	}
}

func drop(prefixes ...string) mutation {
	return func(m map[string]string) {
		for k := range m {
			for _, p := range prefixes {
				if strings.HasPrefix(k, p) {
					delete(m, k)
				}
			}
		}
	}
}

// replace edits every file whose name starts with prefix.
func replace(prefix, old, new string) mutation {
	return func(m map[string]string) {
		for k, v := range m {
			if strings.HasPrefix(k, prefix) {
				m[k] = strings.ReplaceAll(v, old, new)
			}
		}
	}
}

const (
	records  = "var/lib/iscsi/nodes/"
	iscsid   = "etc/iscsi/iscsid.conf"
	sessions = "sys/class/iscsi_session/"
)

func TestRules(t *testing.T) {
	tests := []struct {
		name   string
		muts   []mutation
		exp    map[string]Expect
		want   []string // "severity check" that must be present
		absent []string // "severity check" that must not be
	}{
		// NOP-Out off in the records.
		{"noop-off", []mutation{replace(records, "noop_out_interval = 5", "noop_out_interval = 0")}, nil,
			[]string{"warn iscsi.noop"}, nil},
		// iscsid keeps quotes: a quoted timeout reads as 0.
		{"quoted", []mutation{replace(iscsid, "replacement_timeout = 10", `replacement_timeout = "10"`)}, nil,
			[]string{"warn iscsi.quoted-value"}, nil},
		// iscsid.conf fixed after discovery: records and the kernel still use 120.
		{"drift", []mutation{replace(records, "replacement_timeout = 10", "replacement_timeout = 120"), replace(sessions, "10\n", "120\n")}, nil,
			[]string{"warn iscsi.config-drift", "error iscsi.replacement_timeout"}, nil},
		// Records say 120 but multipathd set recovery_tmo to fast_io_fail_tmo 5: fine, a note.
		{"fast-io-fail-override", []mutation{replace(records, "replacement_timeout = 10", "replacement_timeout = 120"),
			set(sessions+"session1/recovery_tmo", "5\n", sessions+"session2/recovery_tmo", "5\n", sessions+"session3/recovery_tmo", "5\n", sessions+"session4/recovery_tmo", "5\n")}, nil,
			[]string{"info iscsi.recovery_tmo", "warn iscsi.config-drift"}, []string{"error iscsi.replacement_timeout"}},
		// A session that lost its login.
		{"session-failed", []mutation{set(sessions+"session2/state", "FAILED\n")}, nil,
			[]string{"error iscsi.session-state"}, nil},
		// net.ipv4.conf.all.rp_filter = 1 makes every interface strict.
		{"rp-all", []mutation{set("proc/sys/net/ipv4/conf/all/rp_filter", "1\n")}, nil,
			[]string{"error net.rp_filter"}, nil},
		// Loose mode (2) is what multi-subnet iSCSI needs: no finding.
		{"rp-loose", []mutation{set("proc/sys/net/ipv4/conf/eth1/rp_filter", "2\n", "proc/sys/net/ipv4/conf/eth2/rp_filter", "2\n")}, nil,
			nil, []string{"error net.rp_filter"}},
		// An iface bound to a NIC that does not exist.
		{"iface-missing", []mutation{drop("proc/sys/net/ipv4/conf/eth2/")}, nil,
			[]string{"warn net.iface-missing"}, nil},
		// Every session through sw-iscsi-0 (eth1): one NIC carries every path.
		{"one-nic", []mutation{set(sessions+"session2/ifacename", "sw-iscsi-0\n", sessions+"session4/ifacename", "sw-iscsi-0\n")}, nil,
			[]string{"warn mp.spread"}, []string{"error net.rp_filter"}},
		// Unbounded queueing through overrides.
		{"queue-forever", []mutation{set("etc/multipath.conf", "overrides {\n\tno_path_retry queue\n}\n")}, nil,
			[]string{"warn mp.queueing"}, nil},
		// queue_if_no_path on an array the hwtable does not bound (LIO), no no_path_retry anywhere.
		{"queue-if-no-path-lio", []mutation{replace("sys/class/block/", "NEXENTA \n", "LIO-ORG \n"),
			set("etc/multipath.conf", "devices {\n device {\n  vendor LIO-ORG\n  product \".*\"\n  features \"1 queue_if_no_path\"\n  failback immediate\n }\n}\nblacklist {\n devnode \"^sda\"\n}\n")}, nil,
			[]string{"warn mp.queueing"}, []string{"info mp.blacklist"}},
		// Several sessions, no multipath at all.
		{"no-multipath", []mutation{drop("etc/multipath.conf", "sys/class/block/dm-")}, nil,
			[]string{"warn iscsi.no-multipath"}, []string{"error iscsi.replacement_timeout"}},
		// multipath.conf and sessions, but multipathd built no map.
		{"no-maps", []mutation{drop("sys/class/block/dm-")}, nil,
			[]string{"warn mp.no-maps"}, nil},
		// A record that should be logged in has no session.
		{"not-logged-in", []mutation{drop(sessions + "session4/")}, nil,
			[]string{"warn iscsi.not-logged-in"}, nil},
		// Reference 001's multipath.conf exactly as published: unbalanced.
		{"unbalanced", []mutation{func(m map[string]string) {
			b, err := os.ReadFile("testdata/ref001-multipath-unbalanced.conf")
			if err != nil {
				panic(err)
			}
			m["etc/multipath.conf"] = string(b)
		}}, nil, []string{"error mp.syntax"}, nil},
		// A slow path checker.
		{"polling", []mutation{replace("etc/multipath.conf", "polling_interval            10", "polling_interval 30")}, nil,
			[]string{"warn mp.checker"}, nil},
		// CHAP chosen but the secret left empty.
		{"chap-no-password", []mutation{replace(records, "node.session.auth.password = "+fxSecret+"\n", "")}, nil,
			[]string{"warn iscsi.auth"}, nil},
		// A queue depth the session can never serve.
		{"queue-depth", []mutation{replace(records, "cmds_max = 128", "cmds_max = 16"), replace(records, "queue_depth = 32", "queue_depth = 64")}, nil,
			[]string{"warn iscsi.queue"}, nil},
		// FirstBurstLength above MaxBurstLength.
		{"burst", []mutation{replace(records, "FirstBurstLength = 262144", "FirstBurstLength = 33554432")}, nil,
			[]string{"warn iscsi.burst"}, nil},
		// One map lost a path that the other still has.
		{"fewer-paths", []mutation{drop("sys/class/block/dm-4/slaves/sdi/")}, nil,
			[]string{"warn mp.paths"}, nil},
		// The scenario names a map that does not exist.
		{"expect-missing", nil, map[string]Expect{"/dev/mapper/nosuch": {Paths: 2}},
			[]string{"error expect.target"}, nil},
		// The map is found by dm-N and wwid too; 4 paths and 2 portals hold.
		{"expect-by-dev", nil, map[string]Expect{"dm-4": {Paths: 4, Portals: 2}, "3600144f0f484400000004e8685e70001": {Paths: 4}},
			nil, []string{"error expect.target", "error expect.paths", "error expect.portals"}},
		// More portals than the target has.
		{"expect-portals", nil, map[string]Expect{"hydra_db-a02": {Portals: 3}},
			[]string{"error expect.portals"}, nil},
		// chap: false where CHAP is in use is only a warning.
		{"expect-no-chap", nil, map[string]Expect{"hydra_db-a02": {CHAP: new(bool)}},
			[]string{"warn expect.chap"}, []string{"error expect.chap"}},
		// 2 of 4 sessions (one per target) log in without CHAP, and no
		// scenario expects CHAP: mixed CHAP is a finding all the same.
		{"chap-mixed", []mutation{set(sessions+"session2/username", "(null)\n", sessions+"session4/username", "(null)\n")}, nil,
			[]string{"error iscsi.chap-mixed"}, []string{"error expect.chap", "info iscsi.auth"}},
		// The same with chap: true expected: one finding (expect.chap) names
		// the cause, not a second one for the mix.
		{"chap-mixed-expected", []mutation{set(sessions+"session2/username", "(null)\n", sessions+"session4/username", "(null)\n")},
			map[string]Expect{"hydra_db-a02": {CHAP: ptr(true)}, "hydra_apps-a01": {CHAP: ptr(true)}},
			[]string{"error expect.chap"}, []string{"error iscsi.chap-mixed", "error expect.target"}},
		// no_path_retry fail: the application gets errors the moment the
		// last path goes, which is what a failover drill must not see.
		{"no-path-retry-fail", []mutation{set("etc/multipath.conf", "overrides {\n\tno_path_retry fail\n}\n")}, nil,
			[]string{"warn mp.queueing"}, []string{"info mp.queueing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := good().files()
			for _, m := range tt.muts {
				m(files)
			}
			r := Run(writeTree(t, files), tt.exp, fixedNow)
			for _, w := range tt.want {
				sev, check, _ := strings.Cut(w, " ")
				if !has(r, Severity(sev), check) {
					t.Errorf("missing %s", w)
				}
			}
			for _, a := range tt.absent {
				sev, check, _ := strings.Cut(a, " ")
				if has(r, Severity(sev), check) {
					t.Errorf("unexpected %s", a)
				}
			}
			if t.Failed() || os.Getenv("PF_SHOW") == tt.name {
				var b bytes.Buffer
				_ = r.WriteText(&b, false)
				t.Log(b.String())
			}
		})
	}
}

func TestMatchMap(t *testing.T) {
	m := collect.Map{Name: "hydra_db-a02", Device: "dm-4", WWID: "3600144f0f484400000004e86860a0003", UUID: "mpath-3600144f0f484400000004e86860a0003"}
	tests := []struct {
		key  string
		want bool
	}{
		{"hydra_db-a02", true},                         // dm name (alias)
		{"/dev/mapper/hydra_db-a02", true},             // its /dev/mapper link
		{"/dev/dm-4", true},                            // the dm node
		{"dm-4", true},                                 // bare dm-N
		{"3600144f0f484400000004e86860a0003", true},    // wwid
		{"/dev/disk/by-id/dm-name-hydra_db-a02", true}, // udev's by-id name link
		{"/dev/disk/by-id/dm-uuid-mpath-3600144f0f484400000004e86860a0003", true}, // udev's by-id uuid link
		{"/dev/mapper/hydra_db-a0", false},                                        // a prefix is not a match
		{"", false},                                                               // nothing names nothing
	}
	for _, tt := range tests {
		if got := matchMap(tt.key, m); got != tt.want {
			t.Errorf("matchMap(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
