// Package iscsi is a small iSCSI initiator over TCP, written from RFC 7143,
// with just what `lunbench probe` needs: the login phases (AuthMethod None,
// CHAP with MD5 and mutual CHAP), a discovery session with SendTargets, a
// normal session with REPORT LUNS, INQUIRY (standard, VPD 0x80 and 0x83),
// READ CAPACITY(16) and TEST UNIT READY, NOP-Out pings and logout.
//
// It never touches the host's iSCSI configuration: no node records, no
// kernel sessions, no block devices. One command is outstanding at a time
// on a connection; every network wait has a deadline (Options.Timeout).
// Reject PDUs, login redirects and Async messages end in errors rather than
// hangs. Secrets are held only in the Options passed in and never appear in
// an error or a String.
package iscsi
