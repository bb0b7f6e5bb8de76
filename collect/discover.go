package collect

import (
	"fmt"
	"strings"
)

// SANDevices lists what `lunbench watch` looks at when named nothing: every
// multipath map, then every iSCSI disk that no map (or anything else)
// holds. A disk under a map is watched as one of the map's paths.
func (h Host) SANDevices() []string {
	var out []string
	for _, n := range h.topLevel() {
		if k := h.kind(n); k == "multipath" || k == "iscsi" {
			out = append(out, n)
		}
	}
	return out
}

// BlockDevices lists the whole disks and device-mapper devices nothing is
// stacked on, as a hint for a person who has to name one.
func (h Host) BlockDevices() []string { return h.topLevel() }

// ResolveExisting is Resolve for a device that must exist now: a name that
// is neither a block device nor an existing file is an error, where Resolve
// would describe the filesystem a new file would land on.
func (h Host) ResolveExisting(arg string) (Resolved, error) {
	exists := false
	if arg != "" && !strings.Contains(arg, "/") {
		exists = h.exists("/sys/class/block/"+arg) || h.dmByName(arg) != ""
	}
	if p, err := h.abs(arg); !exists && arg != "" && err == nil {
		exists = h.exists(h.evalLinks(p))
	}
	if !exists {
		return Resolved{Arg: arg}, fmt.Errorf("no block device or file %s", arg)
	}
	return h.Resolve(arg)
}
