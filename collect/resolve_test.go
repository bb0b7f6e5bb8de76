package collect

import (
	"slices"
	"testing"
)

func TestResolve(t *testing.T) {
	m := func(name, mm string, r Role) Member { return Member{Name: name, MajMin: mm, Role: r} }
	fourPaths := []Member{m("dm-4", "253:4", RoleLUN), m("sdf", "8:80", RolePath), m("sdg", "8:96", RolePath), m("sdh", "8:112", RolePath), m("sdi", "8:128", RolePath)}
	cases := []struct {
		name, fixture, arg string
		want               Resolved
	}{
		// /dev/mapper/NAME is a symlink to ../dm-N; dm slaves are the paths.
		{"mapper link", "fourpath", "/dev/mapper/hydra_db-a02",
			Resolved{Name: "dm-4", MajMin: "253:4", Kind: "multipath", Role: RoleLUN, Members: fourPaths}},
		// by-id link, two levels of ../ in the link.
		{"by-id link", "fourpath", "/dev/disk/by-id/dm-uuid-mpath-3600144f0f484400000004e86860a0003",
			Resolved{Name: "dm-4", MajMin: "253:4", Kind: "multipath", Role: RoleLUN, Members: fourPaths}},
		// /dev/dm-N itself (no node in the fixture: the name is enough).
		{"dm node", "fourpath", "/dev/dm-4",
			Resolved{Name: "dm-4", MajMin: "253:4", Kind: "multipath", Role: RoleLUN, Members: fourPaths}},
		// A bare multipath alias.
		{"dm name", "fourpath", "hydra_db-a02",
			Resolved{Name: "dm-4", MajMin: "253:4", Kind: "multipath", Role: RoleLUN, Members: fourPaths}},
		// One path of the map on its own: an iSCSI disk with nothing below.
		{"path device", "fourpath", "/dev/sdg",
			Resolved{Name: "sdg", MajMin: "8:96", Kind: "iscsi", Role: RoleLUN, Members: []Member{m("sdg", "8:96", RoleLUN)}}},
		// A by-path link to a partition: sampled as the disk.
		{"partition link", "single", "/dev/disk/by-path/ip-198.18.0.1:3260-iscsi-iqn.2026-01.test.lunbench:disk1-lun-1-part1",
			Resolved{Name: "sdb", MajMin: "8:16", Kind: "iscsi", Role: RoleLUN, Partition: "sdb1", Members: []Member{m("sdb", "8:16", RoleLUN)}}},
		// A loop device: its backing file is recorded (absent from the
		// fixture, so no fs member).
		{"loop", "loop", "/dev/loop0",
			Resolved{Name: "loop0", MajMin: "7:0", Kind: "loop", Role: RoleLUN, Backing: "/var/tmp/lunbench.img", Members: []Member{m("loop0", "7:0", RoleLUN)}}},
		// LVM on a partition: the partition's disk is the path.
		{"lvm on partition", "nvme", "/dev/vg0/root",
			Resolved{Name: "dm-0", MajMin: "253:0", Kind: "lvm", Role: RoleLUN, Members: []Member{m("dm-0", "253:0", RoleLUN), m("vda", "254:0", RolePath)}}},
		// An NVMe partition by kernel name.
		{"nvme partition", "nvme", "nvme0n1p1",
			Resolved{Name: "nvme0n1", MajMin: "259:0", Kind: "nvme", Role: RoleLUN, Partition: "nvme0n1p1", Members: []Member{m("nvme0n1", "259:0", RoleLUN)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Host{Root: fixture(t, c.fixture)}.Resolve(c.arg)
			if err != nil {
				t.Fatal(err)
			}
			c.want.Arg = c.arg
			if got.Name != c.want.Name || got.MajMin != c.want.MajMin || got.Kind != c.want.Kind || got.Role != c.want.Role ||
				got.Partition != c.want.Partition || got.Backing != c.want.Backing || got.File != c.want.File ||
				!slices.Equal(got.Members, c.want.Members) {
				t.Errorf("\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	h := Host{Root: fixture(t, "fourpath")}
	for _, arg := range []string{
		"",                        // nothing named
		"/dev/mapper/nosuch",      // no such map
		"/dev/disk/by-id/nothing", // dangling name
	} {
		if r, err := h.Resolve(arg); err == nil {
			t.Errorf("Resolve(%q) = %+v, want an error", arg, r)
		}
	}
}

func TestNatLess(t *testing.T) {
	in := []string{"session12", "dm-10", "sdb", "session3", "dm-2", "sda", "dm-4"}
	slices.SortFunc(in, func(a, b string) int {
		if natLess(a, b) {
			return -1
		}
		if natLess(b, a) {
			return 1
		}
		return 0
	})
	want := []string{"dm-2", "dm-4", "dm-10", "sda", "sdb", "session3", "session12"}
	if !slices.Equal(in, want) {
		t.Errorf("got %v, want %v", in, want)
	}
}
