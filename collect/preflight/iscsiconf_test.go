package preflight

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseIscsidConf(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		settings []Setting
		version  string
		problems []int // lines with problems
	}{
		// Reference 001 step 10: the default commented out, the new value below.
		{"ref001-replacement", "#node.session.timeo.replacement_timeout = 120\nnode.session.timeo.replacement_timeout = 10\n",
			[]Setting{{Key: keyReplacement, Value: "10", Line: 2}}, "", nil},
		// Odd spacing: tabs, no blanks around '=', trailing blanks, CRLF.
		{"spacing", "\t node.startup=automatic  \r\nnode.session.cmds_max\t=\t128\r\n",
			[]Setting{{Key: "node.startup", Value: "automatic", Line: 1}, {Key: keyCmdsMax, Value: "128", Line: 2}}, "", nil},
		// Quotes are kept track of: iscsid would use them literally.
		{"quoted", "node.session.auth.username = \"joe\"\n",
			[]Setting{{Key: keyUser, Value: "joe", Quoted: true, Line: 1}}, "", nil},
		// Passwords are redacted at parse time; the _length key is not secret.
		{"secret", "node.session.auth.password = hunter2\nnode.session.auth.password_length = 7\ndiscovery.sendtargets.auth.password_in = x\n",
			[]Setting{{Key: keyPassword, Value: Redacted, Line: 1}, {Key: "node.session.auth.password_length", Value: "7", Line: 2},
				{Key: "discovery.sendtargets.auth.password_in", Value: Redacted, Line: 3}}, "", nil},
		// A node record: version from BEGIN RECORD, "<empty>" read as "".
		{"record", "# BEGIN RECORD 6.2.0.874\nnode.name = iqn.x:y\niface.hwaddress = <empty>\n# END RECORD\n",
			[]Setting{{Key: "node.name", Value: "iqn.x:y", Line: 2}, {Key: "iface.hwaddress", Value: "", Line: 3}}, "6.2.0.874", nil},
		// Lines iscsid ignores: no '=', key alone, empty value, value without key.
		{"garbage", "just words here\nlonely\nkey =\n= value\nnode.startup = manual\n",
			[]Setting{{Key: "node.startup", Value: "manual", Line: 5}}, "", []int{1, 2, 3, 4}},
		// A value with blanks is the rest of the line, as in iscsid.
		{"blanks-in-value", "iscsid.startup = /etc/rc.d/init.d/iscsid force-start\n",
			[]Setting{{Key: "iscsid.startup", Value: "/etc/rc.d/init.d/iscsid force-start", Line: 1}}, "", nil},
		// No trailing newline, and a byte-order mark.
		{"bom-no-newline", "\ufeffnode.startup = onboot",
			[]Setting{{Key: "node.startup", Value: "onboot", Line: 1}}, "", nil},
		// Empty input.
		{"empty", "", nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseIscsidConf("x", strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Settings, tt.settings) {
				t.Errorf("settings:\n got %+v\nwant %+v", c.Settings, tt.settings)
			}
			if c.Version != tt.version {
				t.Errorf("version %q, want %q", c.Version, tt.version)
			}
			var lines []int
			for _, p := range c.Problems {
				lines = append(lines, p.Line)
			}
			if !reflect.DeepEqual(lines, tt.problems) {
				t.Errorf("problem lines %v, want %v (%+v)", lines, tt.problems, c.Problems)
			}
		})
	}
}

func TestConfGetLastWins(t *testing.T) {
	c, _ := ParseIscsidConf("x", strings.NewReader("a.b = 1\nA.B = 2\n"))
	if s, ok := c.Get("a.b"); !ok || s.Value != "2" || s.Line != 2 {
		t.Fatalf("Get = %+v, %v; want the last one, case-insensitively", s, ok)
	}
	if _, ok := c.Get("missing"); ok {
		t.Fatal("Get(missing) found something")
	}
}

func TestLoadNodeRecords(t *testing.T) {
	rec := func(iface string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("# BEGIN RECORD 2.0-872\nnode.name = iqn.t:1\niface.iscsi_ifacename = " + iface + "\n# END RECORD\n")}
	}
	tests := []struct {
		name string
		fs   fstest.MapFS
		want []string // Layout Address Port TPGT Iface
	}{
		// open-iscsi 2.0-870 and later: <iqn>/<addr>,<port>,<tpgt>/<iface> (reference 001 step 7).
		{"tree", fstest.MapFS{
			"nodes/iqn.t:1/10.0.0.1,3260,2/sw-iscsi-0": rec("sw-iscsi-0"),
			"nodes/iqn.t:1/10.0.0.1,3260,2/sw-iscsi-1": rec("sw-iscsi-1"),
		}, []string{"tree 10.0.0.1 3260 2 sw-iscsi-0", "tree 10.0.0.1 3260 2 sw-iscsi-1"}},
		// Before 2.0-870: the portal entry is the record itself, default iface.
		{"flat", fstest.MapFS{
			"nodes/iqn.t:1/10.0.0.1,3260": &fstest.MapFile{Data: []byte("node.name = iqn.t:1\n")},
		}, []string{"flat 10.0.0.1 3260 -1 default"}},
		// IPv6 portal: split at the first comma.
		{"ipv6", fstest.MapFS{
			"nodes/iqn.t:1/fe80::1,3260,1/default": rec("default"),
		}, []string{"tree fe80::1 3260 1 default"}},
		// Entries that are not portals, and stray files, are skipped.
		{"junk", fstest.MapFS{
			"nodes/README":               &fstest.MapFile{Data: []byte("hello")},
			"nodes/iqn.t:1/not-a-portal": &fstest.MapFile{Data: []byte("x = y")},
			"nodes/iqn.t:1/10.0.0.1,abc": &fstest.MapFile{Data: []byte("x = y")},
		}, nil},
		// No nodes directory: no records, no error.
		{"missing", fstest.MapFS{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := LoadNodeRecords(tt.fs, "nodes")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, strings.Join([]string{r.Layout, r.Address, strconv.Itoa(r.Port), strconv.Itoa(r.TPGT), r.Iface}, " "))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadIfaceRecords(t *testing.T) {
	fsys := fstest.MapFS{
		// Reference 001, step 4.
		"ifaces/sw-iscsi-0": &fstest.MapFile{Data: []byte("# BEGIN RECORD 2.0-872\niface.iscsi_ifacename = sw-iscsi-0\niface.net_ifacename = eth1\niface.hwaddress = 00:0c:29:94:5b:83\niface.ipaddress =\niface.transport_name = tcp\n# END RECORD\n")},
		// An unbound iface: net_ifacename "default" means none.
		"ifaces/plain": &fstest.MapFile{Data: []byte("iface.net_ifacename = default\n")},
	}
	got, err := LoadIfaceRecords(fsys, "ifaces")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "plain" || got[0].NetIface != "" ||
		got[1].Name != "sw-iscsi-0" || got[1].NetIface != "eth1" || got[1].Transport != "tcp" {
		t.Fatalf("got %+v", got)
	}
}
