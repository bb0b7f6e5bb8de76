// Package probe checks a target's access control over the wire with the
// iscsi client, without touching the host's iSCSI configuration: which
// targets and portals discovery shows, whether logins without CHAP, with
// CHAP, with a wrong secret and with mutual CHAP are accepted or refused,
// per initiator name, which LUNs each initiator sees (vendor, product,
// serial, WWID, capacity), whether a LUN's WWID is the same on every portal,
// and the NOP-Out round trip per portal. Its findings have the form of
// `lunbench check`'s (collect/preflight.Finding). WatchLogins logs in again
// and again during a drill to time the target's own recovery (a drill's
// probe_login: true).
//
//	check                 severity  when
//	probe.portal          error     a portal given or listed by discovery does not answer (connect or
//	                                login times out, or the connection is refused)
//	probe.discovery       error     discovery fails at a portal that answers
//	probe.discovery-auth  warn      discovery needs no authentication (anyone can list the targets)
//	probe.no-chap         error     a login without CHAP is accepted where CHAP is expected (CHAP
//	                                credentials given, or chap: true)
//	                      warn      the same when nothing says CHAP is expected
//	probe.chap            error     the CHAP login with the secret given is refused
//	probe.wrong-secret    error     a login with a deliberately wrong CHAP secret is accepted
//	probe.mutual-chap     error     mutual CHAP with the right target secret fails, or the target
//	                                does not prove itself; or a wrong target secret goes undetected
//	probe.allowed         error     an initiator that must be allowed cannot log in (target not found,
//	                                not authorized), or discovery shows it no target at all
//	probe.refused         error     an initiator that must be refused logs in and sees LUNs
//	                      warn      it logs in and sees no LUN, or discovery shows it the target
//	probe.split-brain     error     one target's LUN has different WWIDs (or serials) on two portals
//	probe.luns            error     fewer LUNs than expected
//	probe.wwid            error     an expected WWID is not among the LUNs
//	probe.scsi            warn      a SCSI command to a visible LUN failed
package probe
