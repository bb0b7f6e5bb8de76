//go:build !amd64

package verify

// fillWide has no wide form off amd64: fillGo does the work.
func fillWide(*[payloadLen]byte, *[payloadWords]uint64, uint64) bool { return false }

// sameWide has no wide form off amd64: sameGo does the work.
func sameWide(*[payloadLen]byte, *[payloadWords]uint64, uint64) (same, ok bool) { return false, false }
