package main

import "fmt"

// benchCase is one row of the bench table: one lunbench configuration
// against one fio configuration on the same devices, run side by side in
// rotated rounds.
//
// To add a case, add a row to cases below (with a comment saying what it
// shows); a new lunbench engine needs nothing else here, as Engine is put
// into the phase as `engine:`. See /work/wt/NOTES-i18.md.
type benchCase struct {
	// Name labels the row.
	Name string
	// Device is where the targets live: devZram (memory-backed, so the
	// harness's own cost shows) or devDisk (loop devices with direct I/O
	// over files on the machine's disk, so I/O has real latency).
	Device string
	// Targets is how many devices the case drives at once.
	Targets int
	// RW is lunbench's rw (read, write, randread, randwrite); fio's rw is
	// derived from it.
	RW string
	// BS is the block size in both tools' notation (4k, 1M).
	BS string
	// QD is the queue depth per target: lunbench's qd, fio's numjobs (for
	// psync, one thread per slot) or iodepth (for libaio, io_uring).
	QD int
	// Verify runs lunbench with verify: true (fio plain): the row is what
	// verification costs.
	Verify bool
	// Engine is lunbench's engine: "" is the default (threads).
	Engine string
	// Fio is fio's ioengine: psync (with --thread and numjobs = qd),
	// libaio or io_uring (iodepth = qd, one job per target).
	Fio string
}

// Device kinds.
const (
	devZram = "zram"
	devDisk = "disk"
)

// cases is the bench table, in the order it is printed.
var cases = []benchCase{
	// One I/O at a time: the cost of issuing and timing one I/O.
	{Name: "4k randread qd1", Device: devZram, Targets: 1, RW: "randread", BS: "4k", QD: 1, Fio: "psync"},
	// A queue: the scheduling of qd threads on the machine's CPUs.
	{Name: "4k randread qd32", Device: devZram, Targets: 1, RW: "randread", BS: "4k", QD: 32, Fio: "psync"},
	// Writes: the payload each write carries (incompressible in both).
	{Name: "4k randwrite qd32", Device: devZram, Targets: 1, RW: "randwrite", BS: "4k", QD: 32, Fio: "psync"},
	// Verification on: stamps and checks against fio's plain writes.
	{Name: "4k randwrite qd32 verify", Device: devZram, Targets: 1, RW: "randwrite", BS: "4k", QD: 32, Verify: true, Fio: "psync"},
	// Large sequential I/O: copying dominates; the harness must not add.
	{Name: "1M read qd8", Device: devZram, Targets: 1, RW: "read", BS: "1M", QD: 8, Fio: "psync"},
	{Name: "1M write qd8", Device: devZram, Targets: 1, RW: "write", BS: "1M", QD: 8, Fio: "psync"},
	// Many LUNs: QD 128 over four targets (qd 32 each). At qd 128 each,
	// 512 threads busy in zram on two CPUs measure the kernel's scheduler
	// more than either tool; deep queues on devices with real latency are
	// the io_uring rows' (devDisk).
	{Name: "4x 4k randread qd32", Device: devZram, Targets: 4, RW: "randread", BS: "4k", QD: 32, Fio: "psync"},
	// Deep queues across many LUNs with real latency (issue 18 §5): four
	// loop devices over files on the disk at QD 32, 128 and 256 each.
	// lunbench's threads engine against fio libaio, its io_uring engine
	// against fio io_uring; the goal at 4 × QD256 is io_uring's CPU per
	// I/O at most 0.6 × the threads engine's at equal or better IOPS,
	// with at most targets + a few OS threads.
	{Name: "4x 4k randread qd32 disk", Device: devDisk, Targets: 4, RW: "randread", BS: "4k", QD: 32, Fio: "libaio"},
	{Name: "4x 4k randread qd32 disk uring", Device: devDisk, Targets: 4, RW: "randread", BS: "4k", QD: 32, Engine: "io_uring", Fio: "io_uring"},
	{Name: "4x 4k randread qd128 disk", Device: devDisk, Targets: 4, RW: "randread", BS: "4k", QD: 128, Fio: "libaio"},
	{Name: "4x 4k randread qd128 disk uring", Device: devDisk, Targets: 4, RW: "randread", BS: "4k", QD: 128, Engine: "io_uring", Fio: "io_uring"},
	{Name: "4x 4k randread qd256 disk", Device: devDisk, Targets: 4, RW: "randread", BS: "4k", QD: 256, Fio: "libaio"},
	{Name: "4x 4k randread qd256 disk uring", Device: devDisk, Targets: 4, RW: "randread", BS: "4k", QD: 256, Engine: "io_uring", Fio: "io_uring"},
}

// engine is the lunbench engine's name for the table.
func (c benchCase) engine() string {
	if c.Engine == "" {
		return "threads"
	}
	return c.Engine
}

// check reports a row that cannot run.
func (c benchCase) check() error {
	switch {
	case c.Device != devZram && c.Device != devDisk:
		return fmt.Errorf("case %q: device %q is neither %s nor %s", c.Name, c.Device, devZram, devDisk)
	case c.Targets < 1 || c.QD < 1:
		return fmt.Errorf("case %q: targets and qd must be at least 1", c.Name)
	case c.Fio != "psync" && c.Fio != "libaio" && c.Fio != "io_uring":
		return fmt.Errorf("case %q: fio engine %q is not psync, libaio or io_uring", c.Name, c.Fio)
	}
	switch c.RW {
	case "read", "write", "randread", "randwrite":
	default:
		return fmt.Errorf("case %q: rw %q is not read, write, randread or randwrite", c.Name, c.RW)
	}
	return nil
}

// writes says whether the case writes.
func (c benchCase) writes() bool { return c.RW == "write" || c.RW == "randwrite" }

// sequential says whether the case walks its targets in order.
func (c benchCase) sequential() bool { return c.RW == "read" || c.RW == "write" }
