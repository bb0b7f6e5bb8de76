package collect

import "fmt"

// SANDevices lists what `lunbench watch` looks at when named nothing: every
// multipath map (by its /dev/mapper name, which people know it by), then
// every iSCSI disk that no map (or anything else) holds. A disk under a map
// is watched as one of the map's paths.
func (h Host) SANDevices() []string {
	var out []string
	for _, n := range h.topLevel() {
		switch h.kind(n) {
		case "multipath":
			if alias := h.attr("/sys/class/block/" + n + "/dm/name"); alias != "" {
				n = alias
			}
			out = append(out, n)
		case "iscsi":
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
	r, err := h.Resolve(arg)
	if err == nil && r.File == "" {
		return r, nil // a block device
	}
	if p, aerr := h.abs(arg); arg == "" || aerr != nil || !h.exists(h.evalLinks(p)) {
		return Resolved{Arg: arg}, fmt.Errorf("no block device or file %s", arg)
	}
	return r, err
}
