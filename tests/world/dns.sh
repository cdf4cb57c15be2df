# dns.sh - the DNS of the test world (sourced by world.sh)
#
# dns_make: renders the zones of zones.list from their templates into $W/dns, signs the
# signed (and bogus) ones with keys made on the spot, writes the trust anchor
# $W/dns/anchors.ds (the DS of every signed zone: each one is an island of trust, there is
# no signed root) and $W/dns/unbound.conf.
# dns_start: one unbound on 127.0.0.1:53 that is both the authoritative server (auth-zone,
# for-upstream only, so every answer goes through the validator) and the validating
# resolver, plus blackhole.py on 127.0.0.53:53, the server of the "timeout" zones.
# Needs $W/pki/*.tlsa and $W/keys/dkim-*.txt (pki_make) for the placeholders.

# dns_render ZONE OUT: the template with every placeholder filled, plus the policy-host
# records of policy-hosts.list whose domain lies in ZONE (and in no longer zone).
dns_render() {
    local zone out f tlsa n script
    zone=$1 out=$2
    script="s/@SERIAL@/$(date +%s)/g"
    for f in "$W"/pki/mx-*.tlsa; do
        [ -f "$f" ] || continue
        n=${f##*/mx-}
        script="$script;s/@TLSA_${n%.tlsa}@/$(cat "$f")/g"
    done
    {
        sed -e "$script" -e "s|@DKIM_RSA@|$(cat "$W/keys/dkim-rsa.txt")|g" \
            -e "s|@DKIM_ED25519@|$(cat "$W/keys/dkim-ed25519.txt")|g" "$here/zones/$zone.zone" &&
            grep -v '^#' "$here/zones.list" | awk -v zone="$zone" '
                NF && $2 != "timeout" && $2 != "refuse" { zones[$1] = 1 }
                END {
                    while ((getline line < pl) > 0) {
                        split(line, f)
                        if (line ~ /^#/ || f[1] == "") continue
                        best = ""
                        for (z in zones)
                            if (f[1] == z || substr(f[1], length(f[1]) - length(z)) == "." z)
                                if (length(z) > length(best)) best = z
                        if (best != zone) continue
                        if (f[2] != "notxt" && f[2] != "file")
                            printf "_mta-sts.%s. 300 IN TXT \"v=STSv1; id=world1;\"\n", f[1]
                        printf "mta-sts.%s. 300 IN A 127.0.0.20\n", f[1]
                    }
                }' pl="$here/policy-hosts.list"
    } >"$out" || return 1
    if grep -n '^[^;]*@[A-Za-z0-9_]*@' "$out" >&2; then
        echo "world: zones/$zone.zone: unknown placeholder" >&2
        return 1
    fi
}

# dns_sign ZONE MODE: signs $W/dns/ZONE.zone into ZONE.signed, adds the DS to the anchor.
dns_sign() {
    local zone mode ksk zsk when
    zone=$1 mode=$2
    (
        cd "$W/dns/keys" || exit 1
        ksk=$(ldns-keygen -a ED25519 -k "$zone") && zsk=$(ldns-keygen -a ED25519 "$zone") || exit 1
        when="-e 20360101000000"
        [ "$mode" = bogus ] && when="-i 20190101000000 -e 20200101000000"
        ldns-signzone -n $when -f "../$zone.signed" "../$zone.zone" "$ksk" "$zsk" || exit 1
        cp "$ksk.ds" "../$zone.ds"
    )
}

dns_make() {
    local d zone mode pids
    d=$W/dns
    mkdir -p "$d/keys" || return 1
    cat >"$d/unbound.conf" <<CONF
server:
  interface: 127.0.0.1
  port: 53
  username: ""
  chroot: ""
  directory: "$d"
  pidfile: "$d/unbound.pid"
  use-syslog: no
  logfile: "$W/log/unbound.log"
  verbosity: 1
  val-log-level: 2
  num-threads: 1
  do-ip6: no
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  module-config: "validator iterator"
  trust-anchor-file: "$d/anchors.ds"
  # unbound answers test. (and other special names) itself unless told not to.
  local-zone: "test." nodefault
  # The retry timers stay short so that a "timeout" zone does not stall other tests.
  infra-host-ttl: 5
  serve-expired: no
CONF
    {
        printf '$TTL 300\n. SOA ns.world.test. hostmaster.world.test. 1 3600 600 86400 300\n'
        printf '. NS ns.world.test.\n'
    } >"$d/root.zone"
    pids=""
    while read -r zone mode; do
        case $mode in
        signed | bogus | unsigned)
            dns_render "$zone" "$d/$zone.zone" || return 1
            if [ "$mode" = unsigned ]; then
                cp "$d/$zone.zone" "$d/$zone.signed"
            else
                dns_sign "$zone" "$mode" &
                pids="$pids $!"
            fi
            printf 'auth-zone:\n  name: "%s."\n  zonefile: "%s/%s.signed"\n  for-upstream: yes\n  for-downstream: no\n  fallback-enabled: no\n' \
                "$zone" "$d" "$zone" >>"$d/unbound.conf"
            ;;
        timeout)
            printf '%s. NS ns.%s.\nns.%s. A 127.0.0.53\n' "$zone" "$zone" "$zone" >>"$d/root.zone"
            ;;
        refuse)
            sed -i "/^server:/a\\  local-zone: \"$zone.\" always_refuse" "$d/unbound.conf"
            ;;
        *) echo "world: zones.list: $zone: unknown mode $mode" >&2 && return 1 ;;
        esac
    done <<LIST
$(grep -v '^#' "$here/zones.list" | grep .)
LIST
    printf 'auth-zone:\n  name: "."\n  zonefile: "%s/root.zone"\n  for-upstream: yes\n  for-downstream: no\n  fallback-enabled: no\n' \
        "$d" >>"$d/unbound.conf"
    # Tests change records at run time: unbound-control -c $d/unbound.conf local_data ...
    printf 'remote-control:\n  control-enable: yes\n  control-interface: "%s/unbound.ctl"\n  control-use-cert: no\n' \
        "$d" >>"$d/unbound.conf"
    for p in $pids; do wait "$p" || return 1; done
    cat "$d"/*.ds >"$d/anchors.ds" 2>/dev/null
    unbound-checkconf "$d/unbound.conf" >/dev/null
}

dns_start() {
    world_bg unbound unbound -d -c "$W/dns/unbound.conf"
    world_bg blackhole /usr/bin/python3 "$here/blackhole.py" 127.0.0.53 53
}
