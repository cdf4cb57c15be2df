# lib.sh - shared steps of the dkim world tests (sourced after tests/world/lib.sh).
#
# dkim_sanitizer_env: with a sanitizer build, suppress libopendkim 2.11's own leak per
#   ed25519 signature (lsan.supp), nothing else; libopendkim is preloaded so that it stays
#   mapped after the plugin's dlclose() and LeakSanitizer can name its frames.
# dkim_opendkim_start DIR PORT AUTHSERV-ID SELECTOR...: opendkim in verify mode on
#   127.0.0.1:PORT inside the world, fed the key records of SELECTOR._domainkey.valid.test
#   through TestDNSData (copied from the world's DNS with dig): Debian's opendkim 2.11
#   resolves nothing inside the world (its libunbound sends no query). Stopped at exit,
#   before the world goes down (the EXIT trap world_up set is kept).
dkim_sanitizer_env() {
    ldd "$top_builddir/milter/.libs/mailward-milter" 2>/dev/null | grep -q libasan || return 0
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0:verify_asan_link_order=0"
    export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$top_srcdir/tests/dkim/lsan.supp"
    export LD_PRELOAD=libopendkim.so.11
}

dkim_opendkim_start() {
    local dir port id sel v
    dir=$1 port=$2 id=$3
    shift 3
    for sel in "$@"; do
        v=$(world_exec dig +short "$sel._domainkey.valid.test" TXT | sed 's/" "//g; s/^"//; s/"$//')
        [ -n "$v" ] || world_fail "no $sel._domainkey record"
        echo "$sel._domainkey.valid.test $v"
    done >"$dir/dnsdata"
    cat >"$dir/opendkim.conf" <<CONF
Mode                    v
Socket                  inet:$port@127.0.0.1
TestDNSData             file:$dir/dnsdata
AuthservID              $id
AlwaysAddARHeader       yes
Background              no
Syslog                  no
InternalHosts           -
CONF
    ip netns exec "$WORLD_NS" opendkim -f -x "$dir/opendkim.conf" </dev/null >"$dir/opendkim.log" 2>&1 &
    DKIM_OPENDKIM_PID=$!
    trap 'kill $DKIM_OPENDKIM_PID 2>/dev/null; world_down' EXIT
    world_exec /usr/bin/python3 "$top_srcdir/tests/world/wait-ports.py" "$WORLD_WAIT" "127.0.0.1:$port" ||
        world_fail "opendkim did not start: $(cat "$dir/opendkim.log")"
}
