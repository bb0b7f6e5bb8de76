// Package uring is a minimal io_uring binding for positioned reads and
// writes: io_uring_setup, io_uring_enter and io_uring_register called
// through golang.org/x/sys/unix, and the submission and completion rings
// mapped into the process. It does only what lunbench's engine needs: one
// ring, fixed-size batches of READ/WRITE (or READ_FIXED/WRITE_FIXED on
// registered buffers) SQEs, registered files, and waiting for completions
// with a timeout.
//
// The layouts and constants below are those of the kernel's UAPI header
// include/uapi/linux/io_uring.h (stable ABI; the features used here are in
// Linux 5.11 and later).
//
// Memory ordering. The rings are shared with the kernel: the application
// owns the SQ tail and the CQ head, the kernel the SQ head and the CQ
// tail. The application must store an SQE before it publishes the new SQ
// tail (a store-release), and must read a CQE only after it loaded the CQ
// tail that covers it (a load-acquire), and must be done reading it before
// it publishes the new CQ head (a store-release). Go's sync/atomic loads and
// stores are sequentially consistent, which is stronger than both, so each
// ring index is accessed only through atomic.LoadUint32/StoreUint32.
package uring

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Setup flags, enter flags, feature bits, opcodes and register opcodes
// (include/uapi/linux/io_uring.h).
const (
	setupClamp        = 1 << 4  // IORING_SETUP_CLAMP: clamp entries to the maximum
	setupRDisabled    = 1 << 6  // IORING_SETUP_R_DISABLED: start disabled, for IORING_REGISTER_ENABLE_RINGS
	setupSingleIssuer = 1 << 12 // IORING_SETUP_SINGLE_ISSUER (Linux 6.0): one task submits
	setupDeferTaskrun = 1 << 13 // IORING_SETUP_DEFER_TASKRUN (Linux 6.1): completion work runs in io_uring_enter

	enterGetEvents = 1 << 0 // IORING_ENTER_GETEVENTS: wait for min_complete CQEs
	enterExtArg    = 1 << 3 // IORING_ENTER_EXT_ARG: argp is io_uring_getevents_arg

	// FeatSingleMmap (IORING_FEAT_SINGLE_MMAP): the SQ and CQ rings share
	// one mapping.
	FeatSingleMmap = 1 << 0
	// FeatNoDrop (IORING_FEAT_NODROP): completions that do not fit the CQ
	// ring are kept by the kernel, not dropped.
	FeatNoDrop = 1 << 1
	// FeatExtArg (IORING_FEAT_EXT_ARG): io_uring_enter takes a timeout.
	FeatExtArg = 1 << 8

	opReadFixed  = 4  // IORING_OP_READ_FIXED
	opWriteFixed = 5  // IORING_OP_WRITE_FIXED
	opRead       = 22 // IORING_OP_READ
	opWrite      = 23 // IORING_OP_WRITE

	sqeFixedFile = 1 << 0 // IOSQE_FIXED_FILE: fd is an index into the registered files

	registerBuffers     = 0  // IORING_REGISTER_BUFFERS
	registerFiles       = 2  // IORING_REGISTER_FILES
	registerFilesUpdate = 6  // IORING_REGISTER_FILES_UPDATE
	registerEnableRings = 12 // IORING_REGISTER_ENABLE_RINGS
	registerIOWQMax     = 19 // IORING_REGISTER_IOWQ_MAX_WORKERS (Linux 5.15)

	offSQRing = 0          // IORING_OFF_SQ_RING
	offCQRing = 0x8000000  // IORING_OFF_CQ_RING
	offSQEs   = 0x10000000 // IORING_OFF_SQES

	sqeSize = 64 // sizeof(struct io_uring_sqe) without IORING_SETUP_SQE128
	cqeSize = 16 // sizeof(struct io_uring_cqe) without IORING_SETUP_CQE32
)

// params is struct io_uring_params (120 bytes).
type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqringOffsets
	cqOff                                                                  cqringOffsets
}

// sqringOffsets is struct io_sqring_offsets: where each field of the SQ
// ring lives in its mapping.
type sqringOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

// cqringOffsets is struct io_cqring_offsets.
type cqringOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

// sqe is struct io_uring_sqe (64 bytes); only the fields a read or write
// uses are named.
type sqe struct {
	opcode   uint8  // 0
	flags    uint8  // 1: IOSQE_*
	ioprio   uint16 // 2
	fd       int32  // 4: a file descriptor, or an index with IOSQE_FIXED_FILE
	off      uint64 // 8: file offset
	addr     uint64 // 16: buffer address
	len      uint32 // 24: buffer length
	rwFlags  uint32 // 28
	userData uint64 // 32: returned unchanged in the CQE
	bufIndex uint16 // 40: registered buffer index (READ_FIXED/WRITE_FIXED)
	_        [22]byte
}

// CQE is struct io_uring_cqe (16 bytes): the user data of the SQE it
// completes, and its result, a byte count or a negated errno.
type CQE struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// Errno is the error of a failed completion, 0 when it succeeded.
func (c CQE) Errno() syscall.Errno {
	if c.Res < 0 {
		return syscall.Errno(-c.Res)
	}
	return 0
}

// getEventsArg is struct io_uring_getevents_arg, passed with
// IORING_ENTER_EXT_ARG.
type getEventsArg struct {
	sigmask   uint64
	sigmaskSz uint32
	minWait   uint32
	ts        uint64 // address of a struct __kernel_timespec
}

// Ring is one io_uring instance. It is not safe for concurrent use: one
// goroutine submits and reaps.
type Ring struct {
	fd       int
	features uint32
	sqMap    []byte
	cqMap    []byte // aliases sqMap with IORING_FEAT_SINGLE_MMAP
	sqeMap   []byte
	sq       sqView
	cq       cqView
	sqes     []sqe
	// unsubmitted counts SQEs published in the SQ tail that no
	// io_uring_enter has consumed yet.
	unsubmitted uint32
	// Buffers and files are registered (RegisterBuffers, RegisterFiles).
	fixedBufs  bool
	fixedFiles bool
	// disabled is set until Enable on a ring made by NewSingleIssuer.
	disabled bool
	// ts and arg are the wait's timeout, kept here so that Enter
	// allocates nothing.
	ts  unix.Timespec
	arg getEventsArg
}

// ErrNoExtArg is returned by New on a kernel whose io_uring_enter takes no
// timeout (before Linux 5.11): the engine needs one to notice a stop while
// I/O is stuck.
var ErrNoExtArg = errors.New("io_uring without IORING_FEAT_EXT_ARG (Linux 5.11 or later needed)")

// New sets up a ring with at least entries submission slots; the
// completion ring has twice as many, so with at most entries I/Os in
// flight it never overflows. (A kernel with IORING_FEAT_NODROP would keep
// overflowing completions; one without would drop them and count them in
// the CQ ring's overflow field, which Reap checks.)
func New(entries uint32) (*Ring, error) { return setup(entries, 0) }

// NewSingleIssuer is New for a ring that one thread alone submits to and
// reaps from (IORING_SETUP_SINGLE_ISSUER|DEFER_TASKRUN): the kernel then
// runs completion work only when that thread enters the ring to wait,
// instead of interrupting it for each completion. The ring starts disabled:
// register buffers and files from any thread, then call Enable from the
// thread that will submit (in Go, a goroutine locked to its thread). On a
// kernel without these flags (before 6.1) it returns a ring from New.
func NewSingleIssuer(entries uint32) (*Ring, error) {
	r, err := setup(entries, setupRDisabled|setupSingleIssuer|setupDeferTaskrun)
	if errors.Is(err, unix.EINVAL) {
		return New(entries)
	}
	if err == nil {
		r.disabled = true
	}
	return r, err
}

// Enable enables a ring made by NewSingleIssuer for the calling thread,
// which is from then on the only one that may submit and wait. It does
// nothing on a ring made by New.
func (r *Ring) Enable() error {
	if !r.disabled {
		return nil
	}
	if err := r.register(registerEnableRings, nil, 0); err != nil {
		return fmt.Errorf("io_uring enable: %w", err)
	}
	r.disabled = false
	return nil
}

func setup(entries, flags uint32) (*Ring, error) {
	var p params
	p.flags = setupClamp | flags
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", e)
	}
	r := &Ring{fd: int(fd), features: p.features}
	if err := r.mapRings(&p); err != nil {
		r.Close()
		return nil, err
	}
	if p.features&FeatExtArg == 0 {
		r.Close()
		return nil, ErrNoExtArg
	}
	return r, nil
}

// mapRings maps the SQ ring, the CQ ring (the same mapping with
// IORING_FEAT_SINGLE_MMAP) and the SQE array, and points the views at
// their fields.
func (r *Ring) mapRings(p *params) error {
	sqLen := int(p.sqOff.array + p.sqEntries*4)
	cqLen := int(p.cqOff.cqes + p.cqEntries*cqeSize)
	if p.features&FeatSingleMmap != 0 {
		sqLen = max(sqLen, cqLen)
	}
	var err error
	mmap := func(off int64, n int) ([]byte, error) {
		b, err := unix.Mmap(r.fd, off, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
		if err != nil {
			return nil, fmt.Errorf("io_uring mmap at %#x: %w", off, err)
		}
		return b, nil
	}
	if r.sqMap, err = mmap(offSQRing, sqLen); err != nil {
		return err
	}
	r.cqMap = r.sqMap
	if p.features&FeatSingleMmap == 0 {
		if r.cqMap, err = mmap(offCQRing, cqLen); err != nil {
			return err
		}
	}
	if r.sqeMap, err = mmap(offSQEs, int(p.sqEntries)*sqeSize); err != nil {
		return err
	}
	u32 := func(b []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
	r.sq = sqView{head: u32(r.sqMap, p.sqOff.head), tail: u32(r.sqMap, p.sqOff.tail),
		mask: *u32(r.sqMap, p.sqOff.ringMask), entries: *u32(r.sqMap, p.sqOff.ringEntries)}
	r.cq = cqView{head: u32(r.cqMap, p.cqOff.head), tail: u32(r.cqMap, p.cqOff.tail), overflow: u32(r.cqMap, p.cqOff.overflow),
		mask: *u32(r.cqMap, p.cqOff.ringMask), entries: *u32(r.cqMap, p.cqOff.ringEntries),
		cqes: r.cqMap[p.cqOff.cqes : p.cqOff.cqes+p.cqEntries*cqeSize]}
	r.sqes = unsafe.Slice((*sqe)(unsafe.Pointer(&r.sqeMap[0])), p.sqEntries)
	// The SQ array indirects ring slots to SQEs; mapping slot i to SQE i
	// once lets the SQE at tail&mask be filled in place.
	array := unsafe.Slice((*uint32)(unsafe.Pointer(&r.sqMap[p.sqOff.array])), p.sqEntries)
	for i := range array {
		array[i] = uint32(i)
	}
	return nil
}

// Close unmaps the rings and closes the ring's descriptor; the kernel
// cancels or waits out requests still in flight.
func (r *Ring) Close() error {
	if r.sqeMap != nil {
		unix.Munmap(r.sqeMap)
	}
	if r.cqMap != nil && (r.sqMap == nil || &r.cqMap[0] != &r.sqMap[0]) {
		unix.Munmap(r.cqMap)
	}
	if r.sqMap != nil {
		unix.Munmap(r.sqMap)
	}
	r.sqeMap, r.cqMap, r.sqMap = nil, nil, nil
	return unix.Close(r.fd)
}

// Features returns the IORING_FEAT_* bits the kernel reported.
func (r *Ring) Features() uint32 { return r.features }

// Entries returns the number of submission slots.
func (r *Ring) Entries() uint32 { return r.sq.entries }

// RegisterBuffers registers bufs with the kernel (IORING_REGISTER_BUFFERS):
// their pages are pinned once, and reads and writes into them are issued
// as READ_FIXED/WRITE_FIXED with buffer index i, skipping the per-I/O page
// mapping. The buffers must stay allocated while the ring lives (Go's heap
// does not move objects).
func (r *Ring) RegisterBuffers(bufs [][]byte) error {
	iov := make([]unix.Iovec, len(bufs))
	for i, b := range bufs {
		iov[i].Base = &b[0]
		iov[i].SetLen(len(b))
	}
	if err := r.register(registerBuffers, unsafe.Pointer(&iov[0]), len(iov)); err != nil {
		return fmt.Errorf("io_uring register buffers: %w", err)
	}
	r.fixedBufs = true
	return nil
}

// RegisterFiles registers fds (IORING_REGISTER_FILES); SQEs then name a
// file by its index (IOSQE_FIXED_FILE), which spares the kernel a file
// table lookup and reference per I/O.
func (r *Ring) RegisterFiles(fds []int32) error {
	if err := r.register(registerFiles, unsafe.Pointer(&fds[0]), len(fds)); err != nil {
		return fmt.Errorf("io_uring register files: %w", err)
	}
	r.fixedFiles = true
	return nil
}

// filesUpdate is struct io_uring_files_update.
type filesUpdate struct {
	offset uint32
	resv   uint32
	fds    uint64 // address of an __s32 array
}

// UpdateFile replaces registered file idx with fd (after a reopen). I/O
// already in flight on the old file completes on it.
func (r *Ring) UpdateFile(idx int, fd int32) error {
	fds := [1]int32{fd}
	up := filesUpdate{offset: uint32(idx), fds: uint64(uintptr(unsafe.Pointer(&fds[0])))}
	if err := r.register(registerFilesUpdate, unsafe.Pointer(&up), 1); err != nil {
		return fmt.Errorf("io_uring update file %d: %w", idx, err)
	}
	return nil
}

func (r *Ring) register(op uintptr, arg unsafe.Pointer, n int) error {
	for {
		_, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), op, uintptr(arg), uintptr(n), 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

// UnfixFiles makes later SQEs name files by descriptor again (after
// UpdateFile failed); the registration itself stays.
func (r *Ring) UnfixFiles() { r.fixedFiles = false }

// SetMaxWorkers bounds the kernel's io-wq worker threads that serve this
// ring (IORING_REGISTER_IOWQ_MAX_WORKERS): bounded is for regular files
// and block devices, unbounded for sockets and the like; 0 keeps a limit.
// A request the device cannot take at once (its queue is full) is handed
// to an io-wq worker that blocks for it; without a bound a deep queue on a
// shallow device grows one kernel thread per waiting request, each counted
// as a thread of the process.
func (r *Ring) SetMaxWorkers(bounded, unbounded uint32) error {
	v := [2]uint32{bounded, unbounded}
	if err := r.register(registerIOWQMax, unsafe.Pointer(&v[0]), 2); err != nil {
		return fmt.Errorf("io_uring max workers: %w", err)
	}
	return nil
}

// Space returns how many SQEs can be queued before the next Enter.
func (r *Ring) Space() int {
	n, _ := r.sq.space()
	return n
}

// PrepRW queues a read (write false) or write of buf at off on file fd (a
// registered file index when files are registered), tagged userData. With
// registered buffers, bufIndex names buf's registration, which must contain
// buf. It returns false when the submission ring is full.
func (r *Ring) PrepRW(write bool, fd int32, buf []byte, bufIndex int, off int64, userData uint64) bool {
	if n, _ := r.sq.space(); n == 0 {
		return false
	}
	tail := atomic.LoadUint32(r.sq.tail)
	e := &r.sqes[tail&r.sq.mask]
	*e = sqe{fd: fd, off: uint64(off), addr: uint64(uintptr(unsafe.Pointer(&buf[0]))), len: uint32(len(buf)), userData: userData}
	switch {
	case r.fixedBufs && write:
		e.opcode, e.bufIndex = opWriteFixed, uint16(bufIndex)
	case r.fixedBufs:
		e.opcode, e.bufIndex = opReadFixed, uint16(bufIndex)
	case write:
		e.opcode = opWrite
	default:
		e.opcode = opRead
	}
	if r.fixedFiles {
		e.flags = sqeFixedFile
	}
	// Publish: the SQE is written before the tail that hands it over.
	atomic.StoreUint32(r.sq.tail, tail+1)
	r.unsubmitted++
	return true
}

// Enter submits the queued SQEs and, when wait is set, waits until at
// least one completion is ready or timeout passes. It returns how many SQEs
// the kernel consumed. A timeout, or a signal, is not an error.
func (r *Ring) Enter(wait bool, timeout time.Duration) (int, error) {
	var flags uintptr
	var minComplete uintptr
	var argp unsafe.Pointer
	var argsz uintptr
	if wait {
		flags = enterGetEvents | enterExtArg
		minComplete = 1
		r.ts = unix.NsecToTimespec(int64(max(timeout, time.Microsecond)))
		r.arg = getEventsArg{ts: uint64(uintptr(unsafe.Pointer(&r.ts)))}
		argp, argsz = unsafe.Pointer(&r.arg), unsafe.Sizeof(r.arg)
	}
	n, _, e := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(r.unsubmitted), minComplete, flags, uintptr(argp), argsz)
	switch e {
	case 0:
		r.unsubmitted -= uint32(n)
		return int(n), nil
	case unix.ETIME, unix.EINTR:
		// The wait ended without a completion; whatever was submitted
		// shows in the SQ head.
		r.unsubmitted = atomic.LoadUint32(r.sq.tail) - atomic.LoadUint32(r.sq.head)
		return 0, nil
	case unix.EAGAIN, unix.EBUSY:
		// The kernel is short of resources or has completions to flush
		// first: the caller reaps and tries again.
		return 0, nil
	}
	return 0, fmt.Errorf("io_uring_enter: %w", e)
}

// Reap copies the completions that are ready into dst (as many as fit) and
// frees their slots in the CQ ring. It returns how many it copied.
func (r *Ring) Reap(dst []CQE) (int, error) {
	if n := atomic.LoadUint32(r.cq.overflow); n != 0 {
		return 0, fmt.Errorf("io_uring CQ ring overflowed: %d completions dropped", n)
	}
	return r.cq.reap(dst)
}

// Unsubmitted returns how many queued SQEs no Enter has consumed yet.
func (r *Ring) Unsubmitted() int { return int(r.unsubmitted) }
