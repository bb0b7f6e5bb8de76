package verify

import (
	"fmt"
	"time"
)

// Class is what a verify pass found in one block.
type Class uint8

// The verify classes. OK blocks hold the acknowledged generation (or, for a
// write that failed or was in flight, the one before it).
const (
	OK          Class = iota
	Lost              // an older generation than acknowledged
	Misdirected       // a stamp naming another offset
	Torn              // sectors from different writes
	Corrupt           // bad checksum or garbage
	Unwritten         // no stamp of this run (zeros, older data)
	Unreadable        // the read failed (EIO): nothing to judge, not corrupt
	NumClasses
)

func classNames() [NumClasses]string {
	return [NumClasses]string{"ok", "lost", "misdirected", "torn", "corrupt", "unwritten", "unreadable"}
}

// String returns the class's name, as written in results.
func (c Class) String() string {
	if c < NumClasses {
		return classNames()[c]
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// MarshalText writes the class's name.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a class's name.
func (c *Class) UnmarshalText(b []byte) error {
	for i, n := range classNames() {
		if n == string(b) {
			*c = Class(i)
			return nil
		}
	}
	return fmt.Errorf("unknown verify class %q", b)
}

// Finding is one block that did not verify.
type Finding struct {
	Target string `json:"target"`
	Offset int64  `json:"offset"`
	Class  Class  `json:"class"`
	Detail string `json:"detail"`
}

// Summary is the outcome of one verify pass over a target's written
// blocks.
type Summary struct {
	Target string    `json:"target"`
	Phase  string    `json:"phase,omitempty"`
	When   string    `json:"when"` // "drill NAME", "phase end", "lunbench verify"
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	// Blocks is how many written blocks were read back; Counts is per
	// class name; InDoubt counts blocks whose last write was not
	// acknowledged and that held either the old or the new generation.
	Blocks  uint64            `json:"blocks"`
	Counts  map[string]uint64 `json:"counts"`
	InDoubt uint64            `json:"in_doubt"`
	// Unreadable counts blocks whose read failed with an I/O error: the
	// class unreadable (with the errno in the finding), never corrupt.
	Unreadable uint64 `json:"unreadable,omitempty"`
	// Unchecked counts blocks an unverified write phase overwrote since
	// their last verified write: their content is unknown, so they are
	// not read back (see Map.Forget).
	Unchecked uint64 `json:"unchecked,omitempty"`
	// Findings lists problem blocks (at most the first 1000).
	Findings []Finding `json:"findings,omitempty"`
}

// Problems is the number of blocks in a class other than ok.
func (v *Summary) Problems() uint64 {
	var n uint64
	for k, c := range v.Counts {
		if k != OK.String() {
			n += c
		}
	}
	return n
}
