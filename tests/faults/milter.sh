#!/bin/sh
# milter.sh - broken milter clients (tests/faults/milterwire.py: vanishing mid-message,
# malformed packets (not macros: a libmilter bug), random bytes) against mailward-milter with the
# spf, dkim and dmarc plugins: after each one a well-formed session is still served, a
# client silent mid-message can still finish, then messages over [milter] max_headers
# and max_header_size get 552 5.3.4; the daemon is still the same process, and it
# stops cleanly with no sanitizer report.
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/faults/lib.sh"
world_up
WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter "spf dkim dmarc" <<'CONF'
[milter]
internal_hosts = 192.0.2.1/32
CONF
pid=$(fault_policyd_alive milter)
# (milterwire.py sends no malformed macro packets: a libmilter bug, see there.)
world_exec /usr/bin/python3 "$top_srcdir/tests/faults/milterwire.py" "${WORLD_MILTER_SOCKET##*:}" ||
    world_fail "mailward-milter stopped serving after a broken client"
# [milter] max_headers / max_header_size at their defaults (1000, 65536): 2000 fields and
# one 100 KiB field are refused 552 5.3.4 with the reason logged; the milter goes on.
world_exec env MILTERWIRE_LIMITS=1 /usr/bin/python3 "$top_srcdir/tests/faults/milterwire.py" \
    "${WORLD_MILTER_SOCKET##*:}" || world_fail "header limits not enforced"
grep -q '4LIMIT: .*reason="more than 1000 header fields" action=reject' "$WORLD_DIR/mailward/milter.log" ||
    world_fail "max_headers reject not logged"
grep -q '4LIMIT: .*reason="header field X-Big of 102405 bytes, limit 65536" action=reject' \
    "$WORLD_DIR/mailward/milter.log" || world_fail "max_header_size reject not logged"
[ "$(fault_policyd_alive milter)" = "$pid" ] || world_fail "mailward-milter was restarted"
world_stop_daemons
echo "PASS: milter faults"
