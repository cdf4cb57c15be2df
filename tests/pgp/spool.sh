#!/bin/sh
# spool.sh - the pgp plugin collecting big messages on disk ([pgp] spool_dir, memory_limit):
# an 8 MiB message through mailward-milter with memory_limit = 65536, decrypted with gpg and
# compared byte for byte with the original body, while the milter's peak RSS (VmHWM) grows
# by well under half the message size; then spool_dir on a full 64 KiB tmpfs: the message is
# refused with 451 4.3.0, the log says why, nothing is passed on; the tlsrpt plugin's report
# mail the same way; a spool_dir others can read stops the milter at start.
. "$top_srcdir/tests/world/lib.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}intercept_tls_get_addr=0" # see milter.sh
world_up
T=$WORLD_DIR/pgp-spool
FULL=$T/full
mkdir -p "$T" "$FULL"
mount -t tmpfs -o size=64k,mode=0700 mw-spool-full "$FULL" || { echo "SKIP: cannot mount a tmpfs"; exit 77; }
trap 'umount -l "$FULL" 2>/dev/null; world_down' EXIT
PY=/usr/bin/python3
client() { world_exec $PY "$top_srcdir/tests/pgp/client.py" 8891 127.0.0.1 "$@"; }
check() { $PY "$top_srcdir/tests/pgp/check.py" "$@"; }
G() { home=$1; shift; gpg --homedir "$home" --batch --pinentry-mode loopback --passphrase '' "$@"; }
BOB=$WORLD_GNUPG/bob@valid.test
KS=$WORLD_GNUPG/milter-spool
mkdir -m 700 "$KS" "$T/spool"
G "$KS" --import "$WORLD_GNUPG/all.asc" 2>/dev/null || world_fail "import public keys"
start() {
    WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter pgp <<CONF
[milter]
internal_hosts = 127.0.0.0/8
[pgp]
gnupg_home = $KS
sign = never
reinject =
spool_dir = $1
memory_limit = 65536
CONF
}
milter_pid() { for d in $WORLD_DAEMONS; do [ "${d%%:*}" = milter ] && echo "${d##*:}"; done; }
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
# msg FILE LINES: a text/plain message of LINES numbered 64-byte lines.
msg() {
    { printf 'From: Alice <alice@valid.test>\nTo: Bob <bob@valid.test>\nSubject: big\n'
      printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n'
      awk -v n="$2" 'BEGIN { for (i = 1; i <= n; i++) printf "%08d the quick brown fox jumps over the lazy dog %011d\n", i, i * 7919 }'
    } >"$1"
}

# 1. A small message first (GnuPG, GMime and the worker thread set up), the baseline.
start "$T/spool"
pid=$(milter_pid)
msg "$T/small.eml" 10
out=$(client "$T/small.eml" "$T/small.out" alice@valid.test bob@valid.test)
[ "$out" = accept ] || world_fail "small: client says $out"
base=$(hwm "$pid")

# big NAME FILE: FILE through the milter to bob, encrypted; gpg decrypts it and its body
# must equal FILE's byte for byte; the milter's peak RSS (VmHWM) may grow by less than half
# of FILE's size over $base (not checked in a sanitizer build). $base becomes the new peak.
asan=$(ldd "$top_builddir/milter/.libs/mailward-milter" "$top_builddir/milter/mailward-milter" 2>/dev/null | grep -c libasan)
big() {
    local size peak
    size=$(wc -c <"$2")
    out=$(client "$2" "$T/$1.out" alice@valid.test bob@valid.test)
    [ "$out" = accept ] || world_fail "$1: client says $out"
    peak=$(hwm "$pid")
    check encrypted "$T/$1.out" "$T" >/dev/null || world_fail "$1: not multipart/encrypted"
    G "$BOB" --decrypt -o "$T/$1.inner" "$T/cipher.asc" 2>/dev/null || world_fail "$1: gpg cannot decrypt"
    # The original body in CRLF lines, and the decrypted entity's body (after its header).
    sed -n '/^$/,$p' "$2" | tail -n +2 | sed 's/$/\r/' >"$T/$1.want"
    $PY -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.stdout.buffer.write(d[d.index(b"\r\n\r\n") + 4:])' \
        "$T/$1.inner" >"$T/$1.got"
    cmp -s "$T/$1.want" "$T/$1.got" || world_fail "$1: the decrypted body differs from the original"
    echo "$1: message $size bytes, ciphertext $(wc -c <"$T/cipher.asc") bytes; milter VmHWM before ${base} KiB, after ${peak} KiB (+$((peak - base)) KiB)"
    if [ "$asan" -gt 0 ]; then
        echo "sanitizer build: the RSS bound is not checked (ASan's shadow and quarantine)"
    else
        [ $((peak - base)) -lt $((size / 2 / 1024)) ] ||
            world_fail "$1: the milter's peak RSS grew by $((peak - base)) KiB for a $size-byte message"
    fi
    base=$peak
}

# 2. 8 MiB (131072 lines of 64 bytes): encrypted, decrypted, the body byte for byte.
msg "$T/big.eml" 131072
big big "$T/big.eml"
grep -q 'spool' "$WORLD_DIR/mailward/milter.log" && grep 'spool' "$WORLD_DIR/mailward/milter.log" >&2
# 2b. 8 MiB that does not compress (random base64): the ciphertext is as large as the
# message, and it too stays on disk (GnuPG's output, the new body and the milter's
# replacement all in temp files): the peak RSS again grows by well under half the size.
{ printf 'From: Alice <alice@valid.test>\nTo: Bob <bob@valid.test>\nSubject: random\n'
  printf 'MIME-Version: 1.0\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n'
  head -c 6291456 /dev/urandom | base64 -w 76
} >"$T/rand.eml"
big random "$T/rand.eml"
# An inline PGP message whose armor line starts 10 bytes before the end of the first 64 KiB
# the spooled message is scanned in: found across the boundary, the message is left alone.
$PY - "$T/armor.eml" <<'PYEOF' || world_fail "armor.eml"
import sys
head = b"From: Alice <alice@valid.test>\r\nTo: Bob <bob@valid.test>\r\nSubject: armored\r\n\r\n"
pad = 65536 - 10 - len(head)
body = (b"x" * 62 + b"\r\n") * (pad // 64)
body += b"y" * (pad % 64 - 2) + b"\r\n" if pad % 64 >= 2 else b""
assert len(head) + len(body) == 65536 - 10, "pad"
body += b"-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA\r\n-----END PGP MESSAGE-----\r\n"
body += (b"z" * 62 + b"\r\n") * 200
open(sys.argv[1], "wb").write(head + body)
PYEOF
out=$(client "$T/armor.eml" "$T/armor.out" alice@valid.test bob@valid.test)
[ "$out" = accept ] || world_fail "armor: client says $out"
grep -q 'pgp=skipped:encrypted' "$WORLD_DIR/mailward/milter.log" || world_fail "armor across 64 KiB not found"
cmp -s "$T/armor.eml" "$T/armor.out" || world_fail "armor: the message was changed"
[ -z "$(ls -A "$T/spool")" ] || world_fail "files left in spool_dir: $(ls -A "$T/spool")"
world_stop_daemons

# 3. spool_dir on a full disk: 451 4.3.0, the reason logged, the message not passed on.
dd if=/dev/zero of="$FULL/fill" bs=4k 2>/dev/null
start "$FULL"
out=$(client "$T/big.eml" "$T/full.out" alice@valid.test bob@valid.test)
case $out in
"refused: 451 4.3.0"*) ;;
*) world_fail "disk full: client says $out" ;;
esac
[ ! -e "$T/full.out" ] || world_fail "disk full: the message was passed on"
grep -q 'pgp: cannot keep the message to encrypt or sign it: .*No space left on device' \
    "$WORLD_DIR/mailward/milter.log" || world_fail "disk full: no reason in the log"
# A message that fits memory_limit but whose ciphertext does not (60,000 bytes of 8-bit
# text that does not compress: the armor makes it about 1.3 times larger): GnuPG's output
# cannot be kept, 451 4.3.0, nothing passed on.
$PY - "$T/grow.eml" <<'PYEOF' || world_fail "grow.eml"
import os, sys
head = b"From: Alice <alice@valid.test>\r\nTo: Bob <bob@valid.test>\r\nSubject: grows\r\n" \
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n" \
    b"Content-Transfer-Encoding: 8bit\r\n\r\n"
body = b""
while len(body) < 60000:
    body += bytes(0x21 + b % 0xdf for b in os.urandom(74)) + b"\r\n"
open(sys.argv[1], "wb").write(head + body)
PYEOF
out=$(client "$T/grow.eml" "$T/grow.out" alice@valid.test bob@valid.test)
case $out in
"refused: 451 4.3.0"*) ;;
*) world_fail "disk full, ciphertext over memory_limit: client says $out" ;;
esac
[ ! -e "$T/grow.out" ] || world_fail "disk full, ciphertext: the message was passed on"
grep 'pgp: cannot keep the message to encrypt or sign it: encrypt: .*No space left on device' \
    "$WORLD_DIR/mailward/milter.log" || world_fail "disk full, ciphertext: no reason in the log"
# Below memory_limit the disk is not needed: a small message still goes out encrypted.
out=$(client "$T/small.eml" "$T/small2.out" alice@valid.test bob@valid.test)
[ "$out" = accept ] || world_fail "disk full, small message: client says $out"
check encrypted "$T/small2.out" "$T" >/dev/null || world_fail "small message not encrypted"
world_stop_daemons

# 4. The tlsrpt plugin: a 1.2 MB report mail received through spool_dir is parsed; with
# spool_dir on the full disk it is refused with 451 4.3.0.
$PY "$top_srcdir/tests/tlsrpt/report-mail.py" "$top_srcdir/tests/tlsrpt/valid.json" "$T/report.eml" big ||
    world_fail "report-mail.py"
tlsrpt() {
    WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter tlsrpt <<CONF
[tlsrpt]
address = tlsrpt@valid.test
max_size = 4194304
spool_dir = $1
memory_limit = 65536
CONF
}
tlsrpt "$T/spool"
out=$(client "$T/report.eml" "$T/report.out" tlsrpt-noreply@company-x.example tlsrpt@valid.test)
[ "$out" = accept ] || world_fail "tlsrpt: client says $out"
grep -q 'org="Company-X" .* accepted' "$WORLD_DIR/mailward/milter.log" || world_fail "tlsrpt: report not accepted"
world_stop_daemons
tlsrpt "$FULL"
out=$(client "$T/report.eml" "$T/report2.out" tlsrpt-noreply@company-x.example tlsrpt@valid.test)
case $out in
"refused: 451 4.3.0"*) ;;
*) world_fail "tlsrpt, disk full: client says $out" ;;
esac
grep -q 'tlsrpt: cannot keep the report mail: .*No space left on device' "$WORLD_DIR/mailward/milter.log" ||
    world_fail "tlsrpt, disk full: no reason in the log"
world_stop_daemons

# 5. A spool_dir others can read: the milter refuses to start.
chmod 0750 "$T/spool"
{ WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_daemon_conf milter pgp && printf '[pgp]\ngnupg_home = %s\nspool_dir = %s\n' "$KS" "$T/spool"; } >"$T/bad.conf"
if ip netns exec "$WORLD_NS" "$top_builddir/milter/mailward-milter" -f -c "$T/bad.conf" </dev/null >"$T/bad.log" 2>&1; then
    world_fail "the milter started with a group-readable spool_dir"
fi
grep -q 'spool.*group or others may access it' "$T/bad.log" || { cat "$T/bad.log" >&2; world_fail "no reason for the refusal"; }
echo "ok: 8 MiB message spooled and decrypted intact, full disk tempfailed (pgp and tlsrpt), public spool_dir refused"
