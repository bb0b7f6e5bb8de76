package collect

import (
	"slices"
	"testing"
)

// TestSANDevices checks what `lunbench watch` watches when named nothing.
func TestSANDevices(t *testing.T) {
	tests := []struct {
		tree string
		want []string
	}{
		// Two multipath maps by their aliases; their eight paths are not
		// listed on their own.
		{"fourpath", []string{"hydra_db-a02", "hydra_apps-a01"}},
		// One iSCSI disk without multipath: the disk (its partition is
		// sampled as the disk).
		{"single", []string{"sdb"}},
		// NVMe, virtio and LVM: nothing a SAN serves.
		{"nvme", nil},
	}
	for _, tc := range tests {
		t.Run(tc.tree, func(t *testing.T) {
			if got := (Host{Root: fixture(t, tc.tree)}).SANDevices(); !slices.Equal(got, tc.want) {
				t.Errorf("SANDevices() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestResolveExisting checks that a name for nothing is an error, where
// Resolve would describe the filesystem a new file would land on.
func TestResolveExisting(t *testing.T) {
	h := Host{Root: fixture(t, "fourpath")}
	tests := []struct {
		arg string
		ok  bool
	}{
		{"hydra_db-a02", true},               // a dm name
		{"sdf", true},                        // a kernel name
		{"/dev/mapper/hydra_apps-a01", true}, // a /dev link
		{"nosuchdev", false},                 // nothing by that name
		{"/dev/mapper/nosuch", false},        // a /dev path that is not there
		{"", false},                          // no name at all
	}
	for _, tc := range tests {
		if _, err := h.ResolveExisting(tc.arg); (err == nil) != tc.ok {
			t.Errorf("ResolveExisting(%q): %v, want ok %v", tc.arg, err, tc.ok)
		}
	}
}
