# dnsworld.sh - a private DNS server for tests: unbound serving test zones.
#
# Source this file from a test script (sh/bash), then:
#
#   dnsworld_init DIR              work directory (zones, keys, config, log)
#   dnsworld_zone NAME TEXT MODE   add zone NAME (records in zone-file syntax,
#                                  owner names relative to NAME, no SOA/NS:
#                                  they are added); MODE is one of
#                                    plain   - unsigned
#                                    signed  - ED25519 KSK+ZSK, valid to 2036;
#                                              the KSK's DS goes to the anchors
#                                    expired - signed, signatures expired in 2001,
#                                              DS still in the anchors (=> bogus)
#   dnsworld_conf LINE...          extra unbound server: lines (local-zone, ...)
#   dnsworld_start                 start unbound on 127.0.0.1:$DNSWORLD_PORT
#   dnsworld_stop                  stop it (by the PID recorded at start)
#
# After dnsworld_start: DNSWORLD_PORT, DNSWORLD_ANCHORS (trust anchor file
# with the DS of every signed/expired zone; empty file if none) and
# DNSWORLD_PID are set. Queries for names in no zone and no local-zone make
# the server recurse to the Internet: keep test names inside the zones.
# The server answers with the RD bit, so resolvers forward to it:
# mailward's [dns] forwarders = 127.0.0.1@$DNSWORLD_PORT.
# Needs unbound, ldns-keygen, ldns-signzone, drill and python3; the caller
# checks with dnsworld_have_tools and exits 77 if they are missing.

dnsworld_have_tools() {
    for t in unbound ldns-keygen ldns-signzone drill python3; do
        command -v "$t" >/dev/null 2>&1 || { echo "dnsworld: $t missing" >&2; return 1; }
    done
}

dnsworld_init() {
    DNSWORLD_DIR=$1
    mkdir -p "$DNSWORLD_DIR/keys"
    DNSWORLD_ANCHORS=$DNSWORLD_DIR/anchors.ds
    : >"$DNSWORLD_ANCHORS"
    : >"$DNSWORLD_DIR/zones.conf"
    : >"$DNSWORLD_DIR/extra.conf"
    DNSWORLD_PID=
}

dnsworld_zone() {
    _dz_name=$1 _dz_text=$2 _dz_mode=$3
    _dz_file=$DNSWORLD_DIR/$_dz_name.zone
    {
        printf '$ORIGIN %s.\n$TTL 3600\n' "$_dz_name"
        printf '@ 3600 IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n' "$_dz_name" "$_dz_name"
        printf '@ 3600 IN NS ns.%s.\nns 3600 IN A 127.0.0.1\n' "$_dz_name"
        printf '%s\n' "$_dz_text"
    } >"$_dz_file"
    case $_dz_mode in
    plain) ;;
    signed | expired)
        (
            cd "$DNSWORLD_DIR/keys" || exit 1
            ksk=$(ldns-keygen -a ED25519 -k "$_dz_name") || exit 1
            zsk=$(ldns-keygen -a ED25519 "$_dz_name") || exit 1
            if [ "$_dz_mode" = signed ]; then
                ldns-signzone -n -e 20360101000000 -f "$_dz_file.signed" "$_dz_file" "$ksk" "$zsk"
            else
                ldns-signzone -n -i 20000101000000 -e 20010101000000 -f "$_dz_file.signed" \
                    "$_dz_file" "$ksk" "$zsk"
            fi || exit 1
            cat "$ksk.ds" >>"$DNSWORLD_ANCHORS"
        ) || return 1
        _dz_file=$_dz_file.signed
        ;;
    *)
        echo "dnsworld_zone: bad mode $_dz_mode" >&2
        return 1
        ;;
    esac
    cat >>"$DNSWORLD_DIR/zones.conf" <<ZONE
auth-zone:
    name: "$_dz_name."
    zonefile: "$_dz_file"
    for-downstream: yes
    for-upstream: yes
    fallback-enabled: no
ZONE
}

dnsworld_conf() {
    for _dc_line in "$@"; do
        printf '    %s\n' "$_dc_line" >>"$DNSWORLD_DIR/extra.conf"
    done
}

# dnsworld_free_port: a port free for both UDP and TCP on 127.0.0.1. The kernel picks a
# free UDP port; the same number may be taken for TCP by a test running beside this one,
# so try again (a failed TCP bind once failed the whole test under make -j2).
dnsworld_free_port() {
    python3 -c 'import socket, sys
for _ in range(100):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        t.bind(("127.0.0.1", s.getsockname()[1]))
    except OSError:
        continue
    print(s.getsockname()[1])
    sys.exit(0)
sys.exit(1)'
}

dnsworld_write_conf() {
    cat >"$DNSWORLD_DIR/unbound.conf" <<CONF
server:
    interface: 127.0.0.1
    port: $DNSWORLD_PORT
    do-ip6: no
    username: ""
    chroot: ""
    directory: "$DNSWORLD_DIR"
    pidfile: ""
    use-syslog: no
    logfile: "$DNSWORLD_DIR/unbound.log"
    verbosity: 1
    module-config: "iterator"
    access-control: 127.0.0.0/8 allow
    local-zone: "test." nodefault
$(cat "$DNSWORLD_DIR/extra.conf")
remote-control:
    control-enable: no
$(cat "$DNSWORLD_DIR/zones.conf")
CONF
}

dnsworld_start() {
    _ds_try=0
    while [ $_ds_try -lt 5 ]; do
        _ds_try=$((_ds_try + 1))
        DNSWORLD_PORT=$(dnsworld_free_port) || continue
        dnsworld_write_conf
        unbound -d -c "$DNSWORLD_DIR/unbound.conf" >>"$DNSWORLD_DIR/unbound.out" 2>&1 &
        DNSWORLD_PID=$!
        _ds_wait=0
        while [ $_ds_wait -lt 100 ]; do
            if ! kill -0 "$DNSWORLD_PID" 2>/dev/null; then
                break
            fi
            if drill -Q -p "$DNSWORLD_PORT" @127.0.0.1 version.server CH TXT >/dev/null 2>&1; then
                export DNSWORLD_PORT DNSWORLD_ANCHORS DNSWORLD_PID
                return 0
            fi
            sleep 0.1
            _ds_wait=$((_ds_wait + 1))
        done
        kill "$DNSWORLD_PID" 2>/dev/null
        wait "$DNSWORLD_PID" 2>/dev/null
        DNSWORLD_PID=
    done
    echo "dnsworld: unbound did not start:" >&2
    cat "$DNSWORLD_DIR/unbound.out" "$DNSWORLD_DIR/unbound.log" >&2 2>/dev/null
    return 1
}

dnsworld_stop() {
    if [ -n "$DNSWORLD_PID" ]; then
        kill "$DNSWORLD_PID" 2>/dev/null
        wait "$DNSWORLD_PID" 2>/dev/null
        DNSWORLD_PID=
    fi
}
