package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestPathsGolden(t *testing.T) {
	cases := []struct {
		name    string
		fixture string
		args    []string
		mpd     bool // replay the fixture's multipathd output
		dm      bool // replay the fixture's dmsetup status (no multipathd)
		json    bool
		color   bool
		golden  string
	}{
		// One iSCSI disk, no multipath: the disk is its own single path.
		{name: "single all", fixture: "single", golden: "single.txt"},
		// A by-path link to a partition resolves to the partition's disk.
		{name: "single by-path partition", fixture: "single", args: []string{"/dev/disk/by-path/ip-198.18.0.1:3260-iscsi-iqn.2026-01.test.lunbench:disk1-lun-1-part1"}, golden: "single-partition.txt"},
		// The reference layout, everything, with multipathd's view merged in.
		{name: "fourpath all", fixture: "fourpath", mpd: true, golden: "fourpath.txt"},
		// No multipathd: path groups, dm path states and fail counts from
		// dmsetup status, one map grouped by priority with a failed path.
		{name: "fourpath dmsetup", fixture: "fourpath", dm: true, golden: "fourpath-dmsetup.txt"},
		// One map named through /dev/mapper, coloured as on a terminal.
		{name: "fourpath one map colour", fixture: "fourpath", args: []string{"/dev/mapper/hydra_db-a02"}, mpd: true, color: true, golden: "fourpath-map-color.txt"},
		// The same map as topology.json would hold it, from sysfs alone.
		{name: "fourpath json", fixture: "fourpath", args: []string{"/dev/disk/by-id/dm-uuid-mpath-3600144f0f484400000004e86860a0003"}, json: true, golden: "fourpath-map.json"},
		// A failed session: its paths transport-offline, maps at 3/4.
		{name: "failed all", fixture: "failed", golden: "failed.txt"},
		// A bound loop device and a free one (not shown: size 0).
		{name: "loop all", fixture: "loop", golden: "loop.txt"},
		// NVMe and virtio, an LVM volume on a partition.
		{name: "nvme all", fixture: "nvme", golden: "nvme.txt"},
		// Named by dm name, by VG path, and a partition by kernel name.
		{name: "nvme named", fixture: "nvme", args: []string{"vg0-root", "/dev/vg0/root", "nvme0n1p1"}, golden: "nvme-named.txt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := Host{Root: fixture(t, c.fixture)}
			if c.mpd {
				h.Multipathd = fakeMultipathd(c.fixture)
			}
			if c.dm {
				h.DMSetup = fakeDMSetup(c.fixture)
			}
			var buf bytes.Buffer
			if err := Paths(&buf, c.args, h, c.json, c.color); err != nil {
				t.Fatal(err)
			}
			golden(t, c.golden, buf.Bytes())
		})
	}
}

func TestPathsUnknownDevice(t *testing.T) {
	h := Host{Root: fixture(t, "single")}
	var buf bytes.Buffer
	err := Paths(&buf, []string{"/dev/sdb", "/dev/mapper/nosuch"}, h, false, false)
	if err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("err = %v, want one naming nosuch", err)
	}
	if !strings.Contains(buf.String(), "sdb") || !strings.Contains(buf.String(), "/dev/mapper/nosuch: resolve") {
		t.Errorf("tree should show the good device and the bad one's error:\n%s", buf.String())
	}
}

// TestMultipathdUnavailable: when multipathd cannot be asked, the tree is
// built from sysfs alone and says so.
func TestMultipathdUnavailable(t *testing.T) {
	h := Host{Root: fixture(t, "fourpath"), Multipathd: func(context.Context, ...string) ([]byte, error) {
		return nil, errors.New("can't connect to multipathd socket\nmore")
	}}
	var buf bytes.Buffer
	if err := Paths(&buf, []string{"hydra_db-a02"}, h, false, false); err != nil {
		t.Fatal(err)
	}
	want := "(multipathd unavailable: can't connect to multipathd socket: path states from sysfs only)\n"
	if !strings.HasSuffix(buf.String(), want) || !strings.Contains(buf.String(), "4/4 paths usable") {
		t.Errorf("tree:\n%s\nwant it to end with %q", buf.String(), want)
	}
}

func TestParseMultipathdPaths(t *testing.T) {
	in := "dev dm_st  chk_st      dev_st  target WWNN TPG\n" +
		// A checker state with a space in it.
		"sdf active i/o pending running iqn.x:01 0x0001\n" +
		// Unknown values come as [undef].
		"sdg failed faulty      offline [undef]  [undef]\n"
	got := parseMultipathdPaths([]byte(in))
	want := map[string]mpdPath{
		"sdf": {dm: "active", chk: "i/o pending", dev: "running", wwnn: "iqn.x:01", tpg: "0x0001"},
		"sdg": {dm: "failed", chk: "faulty", dev: "offline"},
	}
	if len(got) != len(want) || got["sdf"] != want["sdf"] || got["sdg"] != want["sdg"] {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestSessionsAndMaps reads the whole host's sessions and maps, as the
// preflight does: the attributes it judges, CHAP from the username alone.
func TestSessionsAndMaps(t *testing.T) {
	h := Host{Root: fixture(t, "fourpath")}
	ss := h.Sessions()
	tests := []struct {
		name                 string
		chap                 bool   // username set, "(null)" is not
		recovery, first, imm string // negotiated values, the kernel's text
		recv, ping, portal   string // the leading connection
	}{
		{"session3", true, "10", "262144", "1", "5", "5", "10.10.8.90:3260"},  // CHAP
		{"session4", false, "10", "262144", "1", "5", "5", "10.10.8.90:3260"}, // username (null)
		{"session5", true, "10", "262144", "1", "5", "5", "10.10.9.90:3260"},  // the other portal
		{"session6", false, "10", "262144", "1", "5", "5", "10.10.9.90:3260"}, // and without CHAP
	}
	if len(ss) != len(tests) {
		t.Fatalf("%d sessions, want %d", len(ss), len(tests))
	}
	for i, tt := range tests {
		s := ss[i]
		if s.Name != tt.name || s.CHAP != tt.chap || s.RecoveryTmo != tt.recovery || s.FirstBurstLen != tt.first || s.ImmediateData != tt.imm {
			t.Errorf("%s: %+v", tt.name, s)
		}
		if len(s.Connections) != 1 || s.Connections[0].RecvTmo != tt.recv || s.Connections[0].PingTmo != tt.ping || s.Connections[0].Portal() != tt.portal {
			t.Errorf("%s connections: %+v", tt.name, s.Connections)
		}
	}
	ms := h.MultipathMaps()
	if len(ms) != 2 || ms[0].Name != "hydra_db-a02" || len(ms[0].Paths) != 4 || ms[1].Name != "hydra_apps-a01" {
		t.Errorf("maps: %+v", ms)
	}
	b, err := json.Marshal(ss)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("s3cret")) {
		t.Errorf("a CHAP secret reached the topology: %s", b)
	}
}

func TestParseDMStatus(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		groups   int
		err      bool
	}{
		// round-robin: no per-path status figures in INFO
		{"round-robin", "m: 0 8 multipath 2 0 0 0 1 1 A 0 2 0 8:16 A 0 8:32 F 3 \n", 1, false},
		// queue-length with a hardware handler's table args absent in status, two groups
		{"queue-length", "m: 0 8 multipath 2 1 0 0 2 2 E 0 1 1 8:16 A 0 4 A 0 1 1 8:32 A 0 0 \n", 2, false},
		// a cut line: an error, never a panic
		{"truncated", "m: 0 8 multipath 2 0 0 0 2 1 A 0 2 2 8:16 A\n", 0, true},
		// another target: ignored
		{"linear", "vg0-root: 0 8 linear \n", 0, false},
	} {
		got, err := parseDMStatus([]byte(tc.in))
		if (err != nil) != tc.err {
			t.Errorf("%s: err %v, want error %v", tc.name, err, tc.err)
			continue
		}
		if len(got["m"]) != tc.groups {
			t.Errorf("%s: %d groups, want %d (%+v)", tc.name, len(got["m"]), tc.groups, got)
		}
	}
	got, _ := parseDMStatus([]byte("m: 0 8 multipath 2 0 0 0 1 1 A 0 2 0 8:16 A 0 8:32 F 3 \n"))
	if p := got["m"][0].paths; len(p) != 2 || !p[0].active || p[1].active || p[1].fails != 3 {
		t.Errorf("paths %+v, want 8:16 active, 8:32 failed 3 times", p)
	}
}
