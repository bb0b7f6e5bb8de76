package uring

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
)

// sqView is the application's side of the submission ring: it owns tail,
// the kernel owns head. Indices run freely over uint32 and wrap; a slot is
// index&mask.
type sqView struct {
	head, tail    *uint32
	mask, entries uint32
}

// space returns how many SQEs fit before the kernel consumes more. A ring
// whose indices say more are queued than it holds is corrupt.
func (v *sqView) space() (int, error) {
	queued := atomic.LoadUint32(v.tail) - atomic.LoadUint32(v.head)
	if queued > v.entries {
		return 0, fmt.Errorf("io_uring SQ ring corrupt: %d queued in %d entries", queued, v.entries)
	}
	return int(v.entries - queued), nil
}

// cqView is the application's side of the completion ring: it owns head,
// the kernel owns tail and the CQE array between them.
type cqView struct {
	head, tail    *uint32
	overflow      *uint32 // completions the kernel dropped (no NODROP)
	mask, entries uint32
	cqes          []byte // entries × 16-byte struct io_uring_cqe
}

// reap copies up to len(dst) ready CQEs out of the ring, then publishes
// the new head so the kernel may reuse their slots. The tail is loaded
// once (acquire) before any CQE is read; the head is stored (release) only
// after the last copied CQE was read.
func (v *cqView) reap(dst []CQE) (int, error) {
	head := atomic.LoadUint32(v.head)
	ready := atomic.LoadUint32(v.tail) - head
	if ready > v.entries {
		return 0, fmt.Errorf("io_uring CQ ring corrupt: %d ready in %d entries", ready, v.entries)
	}
	n := min(int(ready), len(dst))
	for i := 0; i < n; i++ {
		dst[i] = parseCQE(v.cqes[((head+uint32(i))&v.mask)*cqeSize:])
	}
	atomic.StoreUint32(v.head, head+uint32(n))
	return n, nil
}

// parseCQE decodes one struct io_uring_cqe from b, in the host's byte
// order (little-endian on every architecture lunbench is built for).
func parseCQE(b []byte) CQE {
	_ = b[cqeSize-1]
	return CQE{UserData: binary.LittleEndian.Uint64(b[0:]), Res: int32(binary.LittleEndian.Uint32(b[8:])),
		Flags: binary.LittleEndian.Uint32(b[12:])}
}
