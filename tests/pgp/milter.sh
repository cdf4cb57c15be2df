#!/bin/sh
# milter.sh - the pgp plugin in the real mailward-milter, replayed with client.py: encryption
# (gpg and rnp decrypt, RFC 3156 structure, RFC 9788 protected headers), signing (gpg
# --verify and sqv), already-encrypted mail (inline PGP, PGP/MIME, S/MIME) untouched,
# encrypt=always without a key refused, mixed recipients refused without reinject and re-injected with it, per-recipient
# copies (one key id each) and a failed re-injection tempfailing the whole message.
. "$top_srcdir/tests/world/lib.sh"
# gcc 12's sanitizer runtime (libasan8 12.2) takes a dynamic TLS block that starts 16 bytes
# into a page for one with a glibc 2.19 header and records garbage bounds; LeakSanitizer's
# tracer then segfaults scanning them at exit (google/sanitizers#1322, fixed in GCC 14 and
# LLVM 17). Whether libgpgme's block lands there depends on the heap layout (an explicit
# bcc_privacy line was enough). Not tracking dynamic TLS can only add leak reports, never hide
# one. No effect without sanitizers.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}intercept_tls_get_addr=0"
world_up
T=$WORLD_DIR/pgp
mkdir -p "$T"
PY=/usr/bin/python3
client() { world_exec $PY "$top_srcdir/tests/pgp/client.py" 8891 127.0.0.1 "$@"; }
check() { $PY "$top_srcdir/tests/pgp/check.py" "$@"; }
G() { home=$1; shift; gpg --homedir "$home" --batch --pinentry-mode loopback --passphrase '' "$@"; }
ALICE=$WORLD_GNUPG/alice@valid.test
BOB=$WORLD_GNUPG/bob@valid.test

# The milter's keystore: every user's public key, alice's key pair (she signs).
KS=$WORLD_GNUPG/milter
mkdir -m 700 "$KS"
G "$KS" --import "$WORLD_GNUPG/all.asc" 2>/dev/null || world_fail "import public keys"
G "$ALICE" --export-secret-keys alice@valid.test >"$T/alice.sec" || world_fail "export alice"
G "$KS" --import "$T/alice.sec" 2>/dev/null || world_fail "import alice's secret key"

printf 'carol@valid.test always\n.never.test never\n' >"$T/policy"
start() {
    WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter pgp <<CONF
[milter]
internal_hosts = 127.0.0.0/8
[pgp]
gnupg_home = $KS
policy_table = $T/policy
$1
CONF
}
start "reinject =
bcc_privacy = hidden-keyids"

cat >"$T/multi.eml" <<'EOF2'
From: Alice <alice@valid.test>
To: Bob <bob@valid.test>
Subject: the secret plan
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <plan@valid.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XX"

--XX
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Grüße: meet at noon.
--XX
Content-Type: application/octet-stream; name="plan.bin"
Content-Disposition: attachment; filename="plan.bin"
Content-Transfer-Encoding: base64

AAECAwQFBgcICQ==
--XX--
EOF2

# 1. alice -> bob: encrypted (and signed inside), structure, gpg and rnp decrypt.
out=$(client "$T/multi.eml" "$T/enc.eml" alice@valid.test bob@valid.test)
[ "$out" = accept ] || world_fail "encrypt: client says $out"
subj=$(check encrypted "$T/enc.eml" "$T") || world_fail "encrypt: structure"
[ "$subj" = "subject=[...]" ] || world_fail "encrypt: outer $subj"
grep -q 'noon' "$T/enc.eml" && world_fail "encrypt: clear text in the message"
G "$BOB" --import "$ALICE.asc" 2>/dev/null || world_fail "bob imports alice"
gpg --homedir "$BOB" --batch --pinentry-mode loopback --passphrase "" --status-fd 3 \
    -d "$T/cipher.asc" >"$T/inner.gpg" 3>"$T/status" 2>"$T/gpg.err" ||
    world_fail "gpg cannot decrypt: $(cat "$T/gpg.err")"
grep -q 'GOODSIG' "$T/status" || world_fail "encrypt: no good signature inside"
grep -q 'ENC_TO 0000000000000000' "$T/status" || world_fail "encrypt: key ids not hidden"
inner=$(check inner "$T/inner.gpg") || world_fail "inner entity"
echo "$inner"
echo "$inner" | grep -qx 'hp=cipher' || world_fail "no hp=cipher"
echo "$inner" | grep -qx 'protected-headers=v1' || world_fail "no protected-headers=v1"
echo "$inner" | grep -qx 'subject=the secret plan' || world_fail "inner subject"
echo "$inner" | grep -qx 'hp-outer-subject=\[...\]' || world_fail "no HP-Outer subject"
echo "$inner" | grep -qx 'text=Grüße: meet at noon.' || world_fail "inner text"
echo "$inner" | grep -qx 'attachment=application/octet-stream plan.bin' || world_fail "attachment"
# Two Subject fields: neither may survive outside.
{ echo 'Subject: second subject'; cat "$T/multi.eml"; } >"$T/two.eml"
out=$(client "$T/two.eml" "$T/two.out" alice@valid.test bob@valid.test)
[ "$out" = accept ] || world_fail "two subjects: $out"
[ "$(grep -c '^Subject:' "$T/two.out")" = 1 ] && grep -q '^Subject: \[\.\.\.\]' "$T/two.out" ||
    world_fail "two subjects: $(grep '^Subject:' "$T/two.out")"
echo "ok 1 encrypted to bob (hidden key ids): gpg decrypts, RFC 3156 structure, RFC 9788 headers"

# 2. alice -> dave (no key, if-key): signed only; gpg --verify and sqv. Alice gets a newer
# second key in the keystore, but the keystore's defaults file names her first one.
sleep 1
G "$KS" --quick-gen-key 'Alice New <alice@valid.test>' ed25519 sign never 2>/dev/null ||
    world_fail "second key for alice"
echo "alice@valid.test $(cat "$ALICE.fpr")" >"$KS/mailward-defaults"
out=$(client "$T/multi.eml" "$T/sig.eml" alice@valid.test dave@valid.test)
[ "$out" = accept ] || world_fail "sign: client says $out"
mic=$(check signed "$T/sig.eml" "$T") || world_fail "sign: structure"
[ "$mic" = micalg=pgp-sha512 ] || [ "$mic" = micalg=pgp-sha256 ] || world_fail "sign: $mic"
mkdir -m 700 "$T/v"
G "$T/v" --import "$ALICE.asc" 2>/dev/null
G "$T/v" --verify "$T/sig.asc" "$T/data" 2>/dev/null || world_fail "gpg --verify fails"
sqv --keyring "$ALICE.asc" "$T/sig.asc" "$T/data" >/dev/null || world_fail "sqv fails"
# RFC 9788 for signed-only mail: the signed part carries the header fields, hp="clear".
inner=$(check inner "$T/data")
for want in hp=clear protected-headers=v1 'subject=the secret plan' 'from=Alice <alice@valid.test>' \
    'message-id=<plan@valid.test>'; do
    echo "$inner" | grep -qxF "$want" || world_fail "signed part lacks $want: $inner"
done
echo "$inner" | grep -q '^hp-outer' && world_fail "HP-Outer in a signed-only part"
echo "ok 2 signed for dave with alice's default key: gpg --verify and sqv accept ($mic)"
# Without the defaults entry the newest key signs: alice's first key no longer verifies it.
rm "$KS/mailward-defaults"
client "$T/multi.eml" "$T/sig2.eml" alice@valid.test dave@valid.test >/dev/null
check signed "$T/sig2.eml" "$T" >/dev/null || world_fail "sign (newest): structure"
sqv --keyring "$ALICE.asc" "$T/sig.asc" "$T/data" >/dev/null 2>&1 && world_fail "the old key signed"
G "$KS" --export alice@valid.test >"$T/alice-all.gpg"
sqv --keyring "$T/alice-all.gpg" "$T/sig.asc" "$T/data" >/dev/null || world_fail "newest key: sqv fails"
echo "ok 2b without a defaults entry the newest key of alice signs"

# 3. Already encrypted: inline PGP and PGP/MIME pass untouched.
printf 'From: alice@valid.test\nTo: bob@valid.test\nSubject: inline\n\n-----BEGIN PGP MESSAGE-----\n\nhQ==\n-----END PGP MESSAGE-----\n' >"$T/inline.eml"
out=$(client "$T/inline.eml" "$T/inline.out" alice@valid.test bob@valid.test)
[ "$out" = accept ] || world_fail "inline: $out"
[ "$(tr -d '\r' <"$T/inline.out")" = "$(cat "$T/inline.eml")" ] || world_fail "inline was changed"
cp "$T/enc.eml" "$T/mime.eml"
out=$(client "$T/mime.eml" "$T/mime.out" alice@valid.test bob@valid.test)
[ "$out" = accept ] || world_fail "pgp/mime: $out"
cmp -s "$T/mime.eml" "$T/mime.out" || world_fail "PGP/MIME was changed"
# S/MIME (openssl smime -encrypt to a throwaway certificate of bob): application/x-pkcs7-mime
# as openssl writes it, and the RFC 8551 spelling application/pkcs7-mime.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/smime.key" -out "$T/smime.crt" \
    -subj /CN=bob@valid.test -days 1 2>/dev/null || world_fail "S/MIME certificate"
printf 'secret smime body\n' | openssl smime -encrypt -aes256 -from alice@valid.test \
    -to bob@valid.test -subject smime "$T/smime.crt" >"$T/xsmime.eml" || world_fail "openssl smime"
grep -q '^Content-Type: application/x-pkcs7-mime' "$T/xsmime.eml" || world_fail "no S/MIME message made"
sed 's|application/x-pkcs7-mime|application/pkcs7-mime|' "$T/xsmime.eml" >"$T/smime.eml"
for f in smime xsmime; do
    out=$(client "$T/$f.eml" "$T/$f.out" alice@valid.test bob@valid.test)
    [ "$out" = accept ] || world_fail "$f: $out"
    [ "$(tr -d '\r' <"$T/$f.out")" = "$(tr -d '\r' <"$T/$f.eml")" ] || world_fail "$f was changed"
done
[ "$(grep -c 'pgp=skipped:encrypted' "$WORLD_DIR/mailward/milter.log")" -ge 4 ] ||
    world_fail "no pgp=skipped:encrypted log items"
echo "ok 3 already encrypted mail (inline PGP, PGP/MIME, S/MIME) passes untouched"

# 4. carol is "always" and has no key: tempfailed with the reason.
out=$(client "$T/multi.eml" "$T/x" alice@valid.test carol@valid.test)
echo "$out" | grep -q '^refused: 451 4.7.1 .*no usable OpenPGP key for <carol@valid.test>' ||
    world_fail "always without key: $out"
# 5. Mixed recipients without reinject: refused.
out=$(client "$T/multi.eml" "$T/x" alice@valid.test bob@valid.test dave@valid.test)
echo "$out" | grep -q '^refused: 451 4.7.1 .*send to them separately' || world_fail "mixed: $out"
echo "ok 4 missing key with always and mixed without reinject are tempfailed"
grep -q 'pgp=tempfail:no-key' "$WORLD_DIR/mailward/milter.log" || world_fail "no log item"

# 4b. Key look-ups are remembered (keycache.h) only while the keystore stays as it was:
# dave had no key (2, 2b); once his key is imported the next message to him is encrypted,
# once it is deleted the next one is signed only again; carol's key turns the refusal of 4
# into an encryption.
mkdir -m 700 "$T/dave"
G "$T/dave" --quick-gen-key dave@valid.test default default never 2>/dev/null || world_fail "dave's key"
dave_fpr=$(G "$T/dave" --with-colons --list-keys | awk -F: '/^fpr/ { print $10; exit }')
G "$T/dave" --export dave@valid.test | G "$KS" --import 2>/dev/null || world_fail "import dave"
out=$(client "$T/multi.eml" "$T/d1.eml" alice@valid.test dave@valid.test)
[ "$out" = accept ] || world_fail "dave with a key: $out"
check encrypted "$T/d1.eml" "$T" >/dev/null || world_fail "dave's key imported, mail not encrypted"
G "$T/dave" --decrypt "$T/cipher.asc" 2>/dev/null | grep -q noon || world_fail "dave cannot decrypt"
G "$KS" --yes --delete-keys "$dave_fpr" 2>/dev/null || world_fail "delete dave's key"
out=$(client "$T/multi.eml" "$T/d2.eml" alice@valid.test dave@valid.test)
[ "$out" = accept ] || world_fail "dave's key deleted: $out"
check signed "$T/d2.eml" "$T" >/dev/null || world_fail "dave's key deleted, mail not signed only"
mkdir -m 700 "$T/carol"
G "$T/carol" --quick-gen-key carol@valid.test default default never 2>/dev/null || world_fail "carol's key"
G "$T/carol" --export carol@valid.test | G "$KS" --import 2>/dev/null || world_fail "import carol"
out=$(client "$T/multi.eml" "$T/c1.eml" alice@valid.test carol@valid.test)
[ "$out" = accept ] || world_fail "carol with a key: $out"
check encrypted "$T/c1.eml" "$T" >/dev/null || world_fail "carol's key imported, mail not encrypted"
G "$KS" --yes --delete-keys carol@valid.test 2>/dev/null || world_fail "delete carol's key"
out=$(client "$T/multi.eml" "$T/x" alice@valid.test carol@valid.test)
echo "$out" | grep -q '^refused: 451 4.7.1 .*no usable OpenPGP key for <carol@valid.test>' ||
    world_fail "carol's key deleted: $out"
echo "ok 4b the key cache follows the keystore: keys imported and deleted count at the next message"

# Cost: 20 encrypt+sign replays in a row (printed, not asserted).
t0=$(date +%s%N)
for i in $(seq 20); do client "$T/multi.eml" "$T/x" alice@valid.test bob@valid.test >/dev/null; done
t1=$(date +%s%N)
echo "cost: $(((t1 - t0) / 20000000)) ms per message (encrypt+sign, client.py replay included)"
world_stop_daemons

# 6. Mixed with reinject (smtp-sink as the milter-free port), and reject for a missing key.
start "reinject = smtp://127.0.0.1:10026
missing_key_action = reject
max_size = 4096"
mkdir -p "$T/sink" && chmod 777 "$T/sink"
ip netns exec "$WORLD_NS" smtp-sink -u postfix -d "$T/sink/%M." 127.0.0.1:10026 5 &
sink=$!
world_exec $PY "$top_srcdir/tests/world/wait-ports.py" 10 127.0.0.1:10026 || world_fail "no sink"
out=$(client "$T/multi.eml" "$T/mixed.eml" alice@valid.test bob@valid.test dave@valid.test)
kill "$sink"
echo "$out" | grep -qx 'rcpt-del: <dave@valid.test>' || world_fail "mixed: dave not removed: $out"
echo "$out" | grep -qx 'accept' || world_fail "mixed: $out"
check encrypted "$T/mixed.eml" "$T" >/dev/null || world_fail "mixed: not encrypted"
mkdir -p "$T/rnp"
G "$BOB" --export-secret-keys bob@valid.test >"$T/bob.sec" || world_fail "export bob"
rnpkeys --homedir "$T/rnp" --import "$T/bob.sec" >/dev/null 2>&1 || world_fail "rnp import"
rnp --homedir "$T/rnp" --password '' -d "$T/cipher.asc" --output "$T/inner.rnp" >/dev/null 2>&1 ||
    world_fail "rnp cannot decrypt"
G "$BOB" --import "$T/alice-all.gpg" 2>/dev/null || world_fail "bob imports alice's keys"
G "$BOB" -d "$T/cipher.asc" >"$T/inner.gpg" 2>/dev/null || world_fail "gpg cannot decrypt (mixed)"
cmp -s "$T/inner.gpg" "$T/inner.rnp" || world_fail "rnp and gpg disagree"
copy=$(ls "$T"/sink/* | head -1)
[ -n "$copy" ] || world_fail "mixed: no clear copy reinjected"
grep -q '^X-Mailward-PGP-Reinjected:' "$copy" || world_fail "no loop guard"
grep -q 'X-Rcpt-Args: <dave@valid.test>\|RCPT.*dave@valid.test\|dave@valid.test' "$copy" || world_fail "copy not for dave"
grep -q 'BEGIN PGP SIGNATURE' "$copy" || world_fail "clear copy not signed"
grep -q 'BEGIN PGP MESSAGE' "$copy" && world_fail "clear copy encrypted"
out=$(client "$T/multi.eml" "$T/x" alice@valid.test carol@valid.test)
echo "$out" | grep -q '^refused: 550 5.7.1' || world_fail "reject action: $out"
# Over max_size: tempfailed (too_big_action); inbound mail is never touched.
{ cat "$T/multi.eml"; head -c 6000 /dev/zero | tr '\0' 'x' | fold -w 70; } >"$T/big.eml"
out=$(client "$T/big.eml" "$T/x" alice@valid.test bob@valid.test)
echo "$out" | grep -q '^refused: 451 4.3.4 message too big' || world_fail "too big: $out"
out=$(world_exec $PY "$top_srcdir/tests/pgp/client.py" 8891 192.0.2.9 "$T/multi.eml" "$T/in.eml" \
    alice@valid.test bob@valid.test)
[ "$out" = accept ] || world_fail "inbound: $out"
grep -q 'noon' "$T/in.eml" && ! grep -q 'BEGIN PGP' "$T/in.eml" || world_fail "inbound mail was changed"
echo "ok 5 mixed: bob gets ciphertext (rnp and gpg decrypt), dave a signed clear copy; missing_key_action=reject; too big tempfailed; inbound untouched"

# 7. bcc_privacy = per-recipient (the default) with two key holders, bob and alice: bob keeps
# the transaction, alice's own ciphertext is re-injected; each names only its reader's key.
subkey() { G "$1" --with-colons -k "$2" | awk -F: '$1 == "sub" { print $5; exit }'; }
keyids() { G "$T/empty" --list-packets "$1" 2>/dev/null |
    awk '/pubkey enc packet/ { for (i = 1; i < NF; i++) if ($i == "keyid") print $(i + 1) }'; }
mkdir -m 700 "$T/empty"
mkdir -p "$T/sink2" && chmod 777 "$T/sink2"
ip netns exec "$WORLD_NS" smtp-sink -u postfix -d "$T/sink2/%M." 127.0.0.1:10026 5 &
sink=$!
world_exec $PY "$top_srcdir/tests/world/wait-ports.py" 10 127.0.0.1:10026 || world_fail "no sink"
out=$(client "$T/multi.eml" "$T/pr.eml" alice@valid.test bob@valid.test alice@valid.test)
kill "$sink"
echo "$out" | grep -qx 'rcpt-del: <alice@valid.test>' || world_fail "per-recipient: alice stays: $out"
echo "$out" | grep -qx 'rcpt-del: <bob@valid.test>' && world_fail "per-recipient: bob removed: $out"
echo "$out" | grep -qx 'accept' || world_fail "per-recipient: $out"
check encrypted "$T/pr.eml" "$T" >/dev/null || world_fail "per-recipient: bob's copy not encrypted"
[ "$(keyids "$T/cipher.asc")" = "$(subkey "$BOB" bob@valid.test)" ] || world_fail "bob's copy: $(keyids "$T/cipher.asc")"
copy=$(ls "$T"/sink2/* | head -1)
[ -n "$copy" ] && [ "$(ls "$T"/sink2 | wc -l)" = 1 ] || world_fail "per-recipient: not one copy re-injected"
grep -q '^X-Mailward-PGP-Reinjected:' "$copy" || world_fail "per-recipient: no loop guard"
grep -q 'noon' "$copy" && world_fail "per-recipient: alice's copy holds clear text"
check encrypted "$copy" "$T" >/dev/null || world_fail "per-recipient: alice's copy not RFC 3156"
[ "$(keyids "$T/cipher.asc")" = "$(subkey "$ALICE" alice@valid.test)" ] || world_fail "alice's copy: $(keyids "$T/cipher.asc")"
G "$ALICE" -d "$T/cipher.asc" 2>/dev/null | grep -q 'meet at noon' || world_fail "alice cannot decrypt her copy"
grep -q 'pgp=encrypted:2,signed,per-recipient' "$WORLD_DIR/mailward/milter.log" || world_fail "no per-recipient log item"
# The re-injection port is gone now: the whole message is tempfailed, nobody removed.
out=$(client "$T/multi.eml" "$T/x" alice@valid.test bob@valid.test alice@valid.test dave@valid.test)
echo "$out" | grep -q '^refused: 451 4.7.1 cannot re-inject' || world_fail "reinject down: $out"
echo "$out" | grep -q 'rcpt-del' && world_fail "reinject down: recipients removed: $out"
grep -q 'pgp=tempfail:reinject' "$WORLD_DIR/mailward/milter.log" || world_fail "no tempfail:reinject log item"
echo "ok 6 per-recipient: bob's and alice's copies each name only their key; re-injection down tempfails the whole message"
world_stop_daemons
