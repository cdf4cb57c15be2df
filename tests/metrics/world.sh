#!/bin/sh
# world.sh - the daemons' metrics after real traffic in the test world: mailward-milter
# (dkim + spf verifying) gets N messages from tests/dkim/client.py, mailward-policyd
# (tls-rules) answers M socketmap lookups from postmap; both endpoints are scraped with
# curl and the counts must equal what was sent; every histogram must be well formed
# (cumulative buckets, le="+Inf" == _count); the "stats:" syslog line must appear.
set -u
command -v dkimsign >/dev/null 2>&1 || { echo "SKIP: dkimsign (python3-dkim) not installed"; exit 77; }
. "$top_srcdir/tests/world/lib.sh"
world_up

T=$WORLD_DIR/metrics
mkdir -p "$T"
CLIENT=$top_srcdir/tests/dkim/client.py
PORT=${WORLD_MILTER_SOCKET##*:}
N=3 M=4

cat >"$T/msg" <<'MSG'
From: Alice <alice@valid.test>
To: bob@example.net
Subject: metrics
Message-ID: <metrics-test@valid.test>

Hello Bob.
MSG
dkimsign rsa valid.test "$WORLD_DKIM_RSA" <"$T/msg" >"$T/signed" || world_fail "dkimsign failed"

WORLD_STATS_INTERVAL=1 WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter dkim <<CONF
[dkim]
verify = yes
CONF
printf 'notls.test encrypt\n' >"$WORLD_DIR/mailward/tls-rules"
world_start_policyd tls-rules <<CONF
[tls-rules]
table = $WORLD_DIR/mailward/tls-rules
CONF

i=0
while [ $i -lt $N ]; do
    got=$(world_exec /usr/bin/python3 "$CLIENT" 127.0.0.1 "$PORT" 198.51.100.7 "$T/signed") ||
        world_fail "client failed"
    case $got in *"dkim=pass"*) ;; *) world_fail "message $i: no dkim=pass: $got" ;; esac
    i=$((i + 1))
done
i=0
while [ $i -lt $M ]; do
    world_socketmap notls.test >/dev/null || world_fail "lookup $i of notls.test found nothing"
    i=$((i + 1))
done

world_exec curl -sf http://127.0.0.1:9469/metrics >"$T/milter.prom" || world_fail "milter scrape"
world_exec curl -sf http://127.0.0.1:9470/metrics >"$T/policyd.prom" || world_fail "policyd scrape"

# value FILE SAMPLE: the value of one sample line (exact name{labels}), empty if absent.
value() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
# want FILE SAMPLE VALUE
want() {
    v=$(value "$1" "$2")
    [ "$v" = "$3" ] || world_fail "$(basename "$1"): $2 = [$v], want $3"
    echo "ok: $2 = $3"
}
# sum FILE PREFIX: the sum of every sample whose name{labels} starts with PREFIX.
sum() { awk -v p="$2" 'index($1, p) == 1 { s += $2 } END { print s + 0 }' "$1"; }

# Every histogram: buckets never decrease, +Inf equals _count, HELP and TYPE present.
/usr/bin/python3 - "$T/milter.prom" "$T/policyd.prom" <<'PY' || world_fail "a histogram is malformed"
import re, sys
for path in sys.argv[1:]:
    series, types, helps = {}, {}, set()
    for line in open(path):
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            types[name] = kind
            continue
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
            continue
        m = re.match(r'([a-z_:]+)(?:\{(.*)\})? (\S+)$', line)
        if not m:
            sys.exit(f"{path}: unparsable line {line!r}")
        name, labels, val = m.group(1), m.group(2) or "", float(m.group(3))
        base = re.sub(r'_(bucket|sum|count)$', '', name)
        if types.get(base) == "histogram":
            key = re.sub(r',?le="[^"]*"', '', labels)
            s = series.setdefault((base, key), {"buckets": []})
            if name.endswith("_bucket"):
                s["buckets"].append((re.search(r'le="([^"]*)"', labels).group(1), val))
            else:
                s[name[len(base) + 1:]] = val
        elif name not in types:
            sys.exit(f"{path}: {name} has no TYPE line")
    for name in types:
        if name not in helps:
            sys.exit(f"{path}: {name} has no HELP line")
    for (base, key), s in series.items():
        counts = [v for _, v in s["buckets"]]
        if counts != sorted(counts):
            sys.exit(f"{base}{{{key}}}: buckets decrease: {counts}")
        if s["buckets"][-1][0] != "+Inf" or counts[-1] != s["count"]:
            sys.exit(f"{base}{{{key}}}: +Inf {counts[-1]} != _count {s['count']}")
    print(f"ok: {path.rsplit('/', 1)[1]}: {len(series)} histograms well formed")
PY

F=$T/milter.prom
want "$F" 'mailward_milter_messages_total{direction="inbound",action="accept"}' $N
want "$F" 'mailward_milter_verdicts_total{method="dkim",result="pass"}' $N
want "$F" 'mailward_milter_stage_duration_seconds_count{stage="eom",plugin="dkim"}' $N
want "$F" 'mailward_milter_stage_duration_seconds_bucket{stage="eom",plugin="dkim",le="+Inf"}' $N
want "$F" 'mailward_milter_plugin_verdicts_total{plugin="dkim",action="reject"}' 0
# One key lookup per message: the first goes to libunbound (counted and timed per
# result), the repeats come from [dns] answer_cache (counted as hits); every one is
# counted once.
dns_ok=$(value "$F" 'mailward_dns_queries_total{result="ok"}')
dns_hits=$(value "$F" mailward_dns_cache_hits_total)
[ "${dns_ok:-0}" -ge 1 ] && [ "${dns_hits:-0}" -ge 1 ] && [ $((dns_ok + dns_hits)) -ge $N ] ||
    world_fail "dns: ok queries [$dns_ok] + cache hits [$dns_hits], want >= 1 each and >= $N in all"
want "$F" mailward_dns_query_duration_seconds_count "$(sum "$F" mailward_dns_queries_total)"

F=$T/policyd.prom
want "$F" 'mailward_policyd_lookups_total{kind="tls",answer="ok",plugin="tls-rules"}' $M
want "$F" 'mailward_policyd_lookup_duration_seconds_count{kind="tls"}' $M
want "$F" 'mailward_policyd_socketmap_answers_total{answer="OK"}' $M

# The stats line (stats_interval = 1) carries the same counts.
log=$WORLD_DIR/mailward/milter.log
i=0
until grep -q "stats:.* milter_stage_duration_seconds_eom_dkim_count=$N" "$log"; do
    i=$((i + 1))
    [ $i -lt 30 ] || world_fail "no stats: line with milter_stage_duration_seconds_eom_dkim_count=$N"
    sleep 0.2
done
echo "ok: stats: line"

# mailwardctl stats reads both endpoints.
cat >"$T/ctl.conf" <<CONF
[general]
metrics_listen = 127.0.0.1:9469
[policyd]
metrics_listen = 127.0.0.1:9470
CONF
world_exec "$top_builddir/ctl/mailwardctl" -c "$T/ctl.conf" stats >"$T/ctl.out" 2>&1 ||
    world_fail "mailwardctl stats: $(cat "$T/ctl.out")"
grep -q 'mailward_policyd_lookups_total' "$T/ctl.out" || world_fail "mailwardctl stats: $(head -5 "$T/ctl.out")"
echo "ok: mailwardctl stats"
world_stop_daemons
