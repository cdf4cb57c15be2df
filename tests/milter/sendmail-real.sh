#!/bin/sh
# sendmail-real.sh - the real Sendmail daemon with mailward-milter attached, in the test
# world. Debian's sendmail-bin conflicts with postfix, so its packages are fetched with
# "apt-get download" (kept in $MW_SENDMAIL_DEBS, default /var/tmp/mailward-sendmail-debs,
# so later runs need no mirror) and unpacked with dpkg-deb -x into a private root. Its
# sendmail.cf is built by the package's own cf.m4 from conf-examples/sendmail.mc plus the
# paths of this world. Sendmail listens on 127.0.0.30:25 and relays to the world's MX:
#   inbound:  a DKIM-signed message from an outside client: Authentication-Results with
#             spf=pass and dkim=pass arrives at the MX
#   outbound: an unsigned message from 127.0.0.1 (internal_hosts): it arrives with our
#             DKIM-Signature, which dkimpy verifies against the world's DNS
# Evidence of what the private root needs: the binary is setgid mail, so the loader
# ignores LD_LIBRARY_PATH (the copy loses the bit); every path it would use under
# /etc/mail or /var is set in the .cf (-C), nothing is written outside the world.
set -u
command -v dkimsign >/dev/null 2>&1 || { echo "SKIP: dkimsign (python3-dkim) not installed"; exit 77; }
command -v m4 >/dev/null 2>&1 || { echo "SKIP: m4 not installed"; exit 77; }
. "$top_srcdir/tests/world/lib.sh"

DEBS=${MW_SENDMAIL_DEBS:-/var/tmp/mailward-sendmail-debs}
PKGS="sendmail-bin sendmail-base sendmail-cf libwrap0 liblockfile1"
have_debs() {
    for p in $PKGS; do
        ls "$DEBS/${p}_"*.deb >/dev/null 2>&1 || return 1
    done
}
if ! have_debs; then
    mkdir -p "$DEBS"
    (cd "$DEBS" && apt-get download $PKGS) >"$DEBS/download.log" 2>&1
    have_debs || {
        echo "ERROR: cannot fetch $PKGS with apt-get download (needs the Debian mirror);"
        echo "put the .deb files in \$MW_SENDMAIL_DEBS ($DEBS). apt-get said:"
        tail -5 "$DEBS/download.log"
        exit 99
    }
fi
world_up

SM=$WORLD_DIR/sendmail
mkdir -p "$SM/root" "$SM/queue" "$SM/dkim"
chmod 700 "$SM/queue"
for p in $PKGS; do
    dpkg-deb -x "$(ls "$DEBS/${p}_"*.deb | tail -n 1)" "$SM/root" || world_fail "cannot unpack $p"
done
BIN=$SM/root/usr/libexec/sendmail/sendmail
chmod g-s "$BIN"
LIBS=$SM/root/usr/lib/x86_64-linux-gnu
printf 'hosts\tdns files\naliases\tfiles\n' >"$SM/service.switch"
: >"$SM/aliases"
: >"$SM/local-host-names"

{
    cat <<MC
divert(-1)
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`sm.world.test')dnl
define(\`QUEUE_DIR', \`$SM/queue')dnl
define(\`confPID_FILE', \`$SM/sendmail.pid')dnl
define(\`ALIAS_FILE', \`$SM/aliases')dnl
define(\`confCW_FILE', \`$SM/local-host-names')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM/service.switch')dnl
define(\`confHELP_FILE', \`')dnl
define(\`STATUS_FILE', \`')dnl
define(\`confCACERT_PATH', \`')dnl
define(\`confTO_INITIAL', \`10s')dnl
define(\`confTO_CONNECT', \`10s')dnl
define(\`confDELIVERY_MODE', \`background')dnl
dnl A test machine under load: Sendmail must neither refuse connections nor queue only.
define(\`confREFUSE_LA', \`1000')dnl
define(\`confQUEUE_LA', \`1000')dnl
define(\`confDELAY_LA', \`0')dnl
FEATURE(\`promiscuous_relay')dnl
DAEMON_OPTIONS(\`Port=25, Addr=127.0.0.30, Name=MTA')dnl
MC
    cat "$top_srcdir/conf-examples/sendmail.mc"
    echo "MAILER(\`smtp')dnl"
} >"$SM/sendmail.mc"
m4 "$SM/root/usr/share/sendmail/cf/m4/cf.m4" "$SM/sendmail.mc" >"$SM/sendmail.cf" 2>"$SM/m4.err" ||
    world_fail "m4: $(cat "$SM/m4.err")"
grep -q '^Xmailward, S=inet:8891@127.0.0.1' "$SM/sendmail.cf" || world_fail "no filter line in the .cf"

# The milter: spf + dkim verify inbound, dkim signs for valid.test from 127.0.0.1.
cp "$WORLD_DKIM_RSA" "$SM/dkim/rsa.pem"
chmod 600 "$SM/dkim/rsa.pem"
printf 'rsa-valid valid.test:rsa:%s\n' "$SM/dkim/rsa.pem" >"$SM/dkim/keytable"
printf '*@valid.test rsa-valid\n' >"$SM/dkim/signingtable"
WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter "spf dkim" <<CONF
[milter]
internal_hosts = 127.0.0.1/32
[dkim]
verify = yes
key_table = $SM/dkim/keytable
signing_table = refile:$SM/dkim/signingtable
CONF

# Sendmail canonifies this host's name at start-up; the world's DNS does not know it and
# would let it wait for time-outs, so it gets its own /etc/hosts (a private mount).
printf '127.0.0.30 sm.world.test sm %s\n127.0.0.1 localhost\n' "$(hostname)" >"$SM/hosts"
ip netns exec "$WORLD_NS" unshare -m sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' \
    sh "$SM/hosts" env LD_LIBRARY_PATH="$LIBS" "$BIN" -C "$SM/sendmail.cf" -bD \
    -X "$SM/traffic.log" </dev/null >"$SM/sendmail.log" 2>&1 &
SMPID=$!
world_exec /usr/bin/python3 "$top_srcdir/tests/world/wait-ports.py" "$WORLD_WAIT" 127.0.0.30:25 ||
    world_fail "sendmail did not start: $(cat "$SM/sendmail.log")"
echo "ok: sendmail $(world_exec env LD_LIBRARY_PATH="$LIBS" "$BIN" -d0.1 -bt </dev/null 2>&1 |
    sed -n 's/^Version //p') from the private root listens on 127.0.0.30:25"

# Inbound: signed by valid.test, from 127.0.0.5 (not internal; SPF allows 127.0.0.0/8).
cat >"$SM/in.msg" <<'MSG'
From: Alice <alice@valid.test>
To: Bob <bob@valid.test>
Subject: inbound through sendmail
Message-ID: <sendmail-in@valid.test>

Hello Bob.
MSG
dkimsign rsa valid.test "$WORLD_DKIM_RSA" <"$SM/in.msg" | sed 's/$/\r/' >"$SM/in.signed" ||
    world_fail "dkimsign failed"
world_exec swaks --server 127.0.0.30 --local-interface 127.0.0.5 --from alice@valid.test \
    --to bob@valid.test --data "$SM/in.signed" >"$SM/swaks-in.log" 2>&1 ||
    world_fail "sendmail refused the inbound message: $(tail -5 "$SM/swaks-in.log")"
msg=$(world_wait_delivered valid bob@valid.test)
ar=$(sed -n '/^Authentication-Results: mx.world.test/,/^[^ \t]/p' "$msg" | sed '$d' | tr -d '\r\n\t')
echo "inbound: $ar"
case $ar in *"spf=pass"*) ;; *) world_fail "inbound: no spf=pass in [$ar]" ;; esac
case $ar in *"dkim=pass header.d=valid.test header.s=rsa"*) ;; *) world_fail "inbound: no dkim=pass in [$ar]" ;; esac
grep -A1 '^Received: from .*\[127.0.0.5\]' "$msg" | grep -q 'by sm.world.test (8\.' ||
    world_fail "inbound: not received by sendmail: $(grep '^Received:' "$msg")"
echo "ok: inbound through sendmail verified (spf, dkim), Authentication-Results added"

# Outbound: from 127.0.0.1 (internal_hosts), unsigned; it must leave signed.
world_exec swaks --server 127.0.0.30 --local-interface 127.0.0.1 --from alice@valid.test \
    --to carol@valid.test --header 'Subject: outbound through sendmail' \
    --body 'Hello Carol.' >"$SM/swaks-out.log" 2>&1 ||
    world_fail "sendmail refused the outbound message: $(tail -5 "$SM/swaks-out.log")"
msg=$(world_wait_delivered valid carol@valid.test)
grep -q '^DKIM-Signature:.*d=valid.test' "$msg" || sed -n '/^DKIM-Signature:/,/^[^ \t]/p' "$msg" |
    grep -q 'd=valid.test' || world_fail "outbound: no DKIM-Signature of valid.test"
# The MX added its headers on top; dkimverify checks what the signature covers.
world_exec dkimverify <"$msg" >"$SM/verify.out" 2>&1 ||
    world_fail "outbound: dkimverify: $(cat "$SM/verify.out")"
echo "ok: outbound through sendmail signed (dkimverify: $(cat "$SM/verify.out"))"

kill -TERM "$SMPID" 2>/dev/null
world_stop_daemons
