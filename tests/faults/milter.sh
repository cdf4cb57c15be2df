#!/bin/sh
# milter.sh - broken milter clients (tests/faults/milterwire.py: vanishing mid-message,
# malformed packets, malformed macros, random bytes) against mailward-milter with the
# spf, dkim and dmarc plugins: after each one a well-formed session is still served, a
# client silent mid-message can still finish, the daemon is still the same process,
# and it stops cleanly with no sanitizer report.
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/faults/lib.sh"
world_up
WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter "spf dkim dmarc" <<'CONF'
[milter]
internal_hosts = 192.0.2.1/32
CONF
pid=$(fault_policyd_alive milter)
world_exec /usr/bin/python3 "$top_srcdir/tests/faults/milterwire.py" "${WORLD_MILTER_SOCKET##*:}" ||
    world_fail "mailward-milter stopped serving after a broken client"
[ "$(fault_policyd_alive milter)" = "$pid" ] || world_fail "mailward-milter was restarted"
world_stop_daemons
echo "PASS: milter faults"
