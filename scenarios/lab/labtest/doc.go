// Package labtest holds the SAN lab's end-to-end tests: lunbench, unmodified,
// in a qemu guest running the real Linux iSCSI initiator (open-iscsi) and
// dm-multipath, against two tgtd heads that scenarios/lab/sanlab.sh builds in
// network namespaces. One guest boot per layout runs a suite of lunbench
// commands (scenarios/lab/guest/suite.sh); the tests assert on its results.
//
// The expected timings are derived from the values the lab configures
// (scenarios/lab/guest/conf), never guessed. The tests skip, with the
// reason, without root, qemu, /dev/net/tun, tgt, open-iscsi,
// multipath-tools, udev or busybox-static, and with -short.
package labtest
