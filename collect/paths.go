package collect

import (
	"encoding/json"
	"io"
)

// Paths is `lunbench paths [DEVICE...]`: the topology of the devices named
// (with none, every multipath map, iSCSI session and block device in use)
// as a tree, or as JSON. The tree or JSON is written even when some device
// could not be resolved; the error then says which.
func Paths(w io.Writer, args []string, h Host, asJSON bool, color bool) error {
	t, terr := h.Topology(args...)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(t); err != nil {
			return err
		}
		return terr
	}
	if len(args) == 0 && !t.hasMaps() && len(t.Sessions) == 0 && len(t.Devices) > 0 {
		// Say it first: a list of local disks alone reads as if they
		// were the SAN.
		if _, err := io.WriteString(w, "no iSCSI session or multipath map found on this host; its block devices instead:\n"); err != nil {
			return err
		}
	}
	if err := RenderTree(w, t, color); err != nil {
		return err
	}
	return terr
}
