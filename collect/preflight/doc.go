// Package preflight checks that an iSCSI initiator host is set up the way
// the reference documents teach before a benchmark or a drill means
// anything: replacement_timeout short enough for dm-multipath to switch
// paths, NOP-Out on, queueing chosen deliberately, each path on its own
// interface and subnet with rp_filter relaxed, CHAP in place, the expected
// paths all running and the sessions logged in. `lunbench check` prints its
// Report; `lunbench run` records it in run.json as a preflight.
//
// It reads, below a root directory (a fixture tree in tests):
//
//	etc/iscsi/iscsid.conf                         ParseIscsidConf
//	etc/iscsi/nodes, var/lib/iscsi/nodes          LoadNodeRecords (both layouts)
//	etc/iscsi/ifaces, var/lib/iscsi/ifaces        LoadIfaceRecords
//	etc/multipath.conf, etc/multipath/conf.d/*.conf  ParseMultipathConf
//	proc/sys/net/ipv4/conf/<if>/rp_filter
//	sys/class/iscsi_session, iscsi_connection, block   through collect.Host (Sessions, MultipathMaps)
//
// Secrets never leave the parsers: password values are replaced by Redacted
// when a file is parsed, and the sysfs password attributes are never opened.
//
// # Rules
//
// "multipath" below means a multipath.conf or a live dm-multipath map
// exists. Findings that are the same apart from their place are merged into
// one with several places.
//
//	check                      severity  when
//	host.no-iscsi              info      no iscsid.conf, node record, session, multipath.conf or map at all
//	host.read-error            warn      a file or directory exists but cannot be read
//	iscsi.replacement_timeout  error     replacement_timeout > 30 s or < 0 with multipath, in a node record
//	                                     (or iscsid.conf when there are no records, or they share it), unless
//	                                     every live session using it already runs with recovery_tmo <= 30 s;
//	                                     also a live recovery_tmo > 30 s that no configuration explains.
//	                                     Why gives the stall: noop_out_interval + noop_out_timeout +
//	                                     replacement_timeout, and names queue_if_no_path when set
//	                           warn      the same in iscsid.conf only, when the node records are fine
//	iscsi.failover-time        info      always: worst-case stall before dm-multipath sees a dead path,
//	                                     from sysfs (recv_tmo + ping_tmo + recovery_tmo) or the config
//	iscsi.recovery_tmo         info      sysfs recovery_tmo differs from the configured replacement_timeout
//	                                     (multipathd writes fast_io_fail_tmo there)
//	iscsi.noop                 warn      noop_out_interval or noop_out_timeout <= 0 (NOP-Out off)
//	iscsi.config-drift         warn      iscsid.conf and a node record disagree on replacement_timeout,
//	                                     the NOP-Out values or authmethod (records win; iscsid.conf only seeds)
//	iscsi.login                info      initial_login_retry_max x login_timeout > 120 s
//	iscsi.queue                warn      cmds_max not a power of 2 in 2..2048; queue_depth outside 1..1024
//	                                     or above cmds_max
//	iscsi.burst                warn      First/MaxBurstLength or MaxRecvDataSegmentLength outside
//	                                     512..16777215; FirstBurstLength > MaxBurstLength
//	iscsi.negotiated           info      the session negotiated a burst length below the configured one
//	iscsi.digest               info      HeaderDigest and DataDigest both None
//	iscsi.auth                 warn      authmethod CHAP with an empty username or password
//	                           info      no CHAP, when no scenario says anything about CHAP
//	iscsi.chap-mixed           error     some sessions of one target log in with CHAP, some without,
//	                                     whatever the scenario expects (unless expect.chap names them)
//	iscsi.quoted-value         warn      a quoted value (iscsid keeps the quotes)
//	iscsi.syntax               warn/info a line iscsid ignores
//	iscsi.startup              warn      node.startup manual on a record with a live session
//	iscsi.not-logged-in        warn      a record with node.startup automatic/onboot has no session
//	iscsi.session-state        error     a session not LOGGED_IN
//	iscsi.no-multipath         warn      two or more sessions and no multipath at all
//	mp.syntax                  error     a section not closed (multipathd swallows what follows)
//	                           warn/info stray '}', missing values or quotes, misplaced sections
//	mp.obsolete                info      keywords current multipath-tools ignore (getuid_callout, udev_dir,
//	                                     selector, checker_timer, rr_min_io, default_* ...)
//	mp.queueing                warn      no_path_retry queue, or features queue_if_no_path with no
//	                                     no_path_retry anywhere (unbounded queueing hangs applications)
//	                           info      bounded: N x polling_interval seconds; says when
//	                                     the built-in hwtable beats the defaults section
//	                           warn      no_path_retry fail: I/O errors reach the application as soon as the
//	                                     last path goes
//	mp.queue_without_daemon    warn      queue_without_daemon yes
//	mp.checker                 warn      polling_interval > 10 s; checker_timeout > 30 s
//	                           info      path_checker readsector0
//	mp.pgpolicy                info      path_grouping_policy failover (one path carries I/O)
//	mp.failback                info      failback manual with path groups (I/O stays on the other group)
//	mp.blacklist               info      no blacklist entries and find_multipaths not on
//	mp.no-conf                 info      maps but no multipath.conf (built-in defaults)
//	mp.no-maps                 warn      multipath.conf and sessions but no map
//	mp.paths                   error     a map without paths
//	                           warn      a map with fewer paths than the others (and no expectation)
//	mp.path-state              error     a path whose SCSI device is not "running"
//	mp.spread                  warn      all paths of a map through one network interface, or one portal
//	                           info      all paths unbound (iface default)
//	net.rp_filter              error     effective rp_filter (max of all and the interface) is 1 on an
//	                                     interface bound to an iSCSI iface, with iSCSI on 2+ interfaces;
//	                                     2 (loose) and 0 are fine
//	net.iface-missing          warn      an iSCSI iface is bound to an interface that does not exist
//	expect.target              error     no map matches the expectation's key
//	                           warn      the map has no iSCSI path to verify chap/portals/recovery_tmo on
//	expect.paths               error     fewer running paths (device running, session logged in)
//	expect.portals             error     fewer distinct portals
//	expect.chap                error     chap: true and sessions without a CHAP username or records
//	                                     without authmethod CHAP: one finding naming every session and
//	                                     record; warn for CHAP where chap: false
//	expect.recovery_tmo        error     a session's recovery_tmo above the bound
package preflight
