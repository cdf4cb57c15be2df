#!/bin/sh
# tests/ctl/keys.sh - mailwardctl keys against a temporary GnuPG home:
# two key pairs for one address, the default switching, export and import
# into a fresh home checked with gpg's own fingerprints, duplicate import
# "unchanged", garbage and missing files refused with sysexits codes,
# unknown addresses and fingerprints, delete, and --json parsed by Python.
set -eu
: "${top_builddir:?run through make check}"
ctl=$top_builddir/ctl/mailwardctl
tmp=$(mktemp -d /tmp/mwks.XXXXXX)
cleanup() {
    for h in "$tmp"/h "$tmp"/f; do gpgconf --homedir "$h" --kill gpg-agent 2>/dev/null || :; done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
printf 'key pass phrase\n' >"$tmp/pass"
K() { "$ctl" -c /dev/null keys --home "$tmp/h" --passphrase-file "$tmp/pass" "$@"; }
J() { "$ctl" -c /dev/null --json keys --home "$tmp/h" --passphrase-file "$tmp/pass" "$@"; }
expect_rc() { want=$1; shift; set +e; "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; set -e
    [ "$rc" = "$want" ] || { cat "$tmp/out" "$tmp/err"; fail "$* exited $rc, want $want"; }; }
py() { /usr/bin/python3 -c "$@"; }

# Without a passphrase no secret key is made.
expect_rc 78 "$ctl" -c /dev/null keys --home "$tmp/h" generate alice@example.com
grep -q "no passphrase" "$tmp/err" || fail "no-passphrase message"
expect_rc 65 K generate not-an-address
expect_rc 64 K generate alice@example.com --algo dsa

f1=$(K generate alice@example.com | awk '{print $2}')
f2=$(J generate alice@example.com --algo rsa3072 --expire 30 |
    py 'import json,sys; d=json.load(sys.stdin); assert d["algo"]=="rsa3072" and d["expire_days"]==30; print(d["fingerprint"])')
[ ${#f1} = 40 ] && [ ${#f2} = 40 ] && [ "$f1" != "$f2" ] || fail "fingerprints $f1 $f2"

# Listing: both keys, secret, the newest (f2) is the default without a choice.
J list alice@example.com >"$tmp/list.json"
py "
import json
keys = json.load(open('$tmp/list.json'))
assert len(keys) == 2, keys
by = {k['fingerprint']: k for k in keys}
assert by['$f1']['algo'] == 'ed25519/cv25519' and by['$f1']['expires'] is None, by['$f1']
assert by['$f2']['algo'] == 'rsa3072/rsa3072' and by['$f2']['expires'] > by['$f2']['created']
assert all(k['secret'] and k['usable'] and k['sign'] and k['encrypt'] for k in keys)
assert by['$f2']['default'] and not by['$f1']['default'], keys
" || fail "list --json"
[ "$(K default alice@example.com)" = "alice@example.com $f2" ] || fail "implicit default"

# Default switching, persisted in the defaults file.
K default alice@example.com "$f1" >/dev/null
[ "$(K default alice@example.com)" = "alice@example.com $f1" ] || fail "default not switched to f1"
grep -q "^alice@example.com $f1\$" "$tmp/h/mailward-defaults" || fail "defaults file"
K list alice@example.com | grep "$f1" | grep -q ' default' || fail "list marks f1 default"
K default alice@example.com "$f2" >/dev/null
[ "$(K default alice@example.com)" = "alice@example.com $f2" ] || fail "default not switched to f2"
expect_rc 65 K default alice@example.com 0000000000000000000000000000000000000000
grep -q "fingerprint not found" "$tmp/err" || fail "unknown fingerprint message"
expect_rc 67 K list bob@example.com
grep -q "bob@example.com: no keys" "$tmp/err" || fail "unknown address message"
expect_rc 67 K export bob@example.com

# Export, import into a fresh home with gpg: the same fingerprints.
K export alice@example.com >"$tmp/pub.asc"
head -1 "$tmp/pub.asc" | grep -q 'BEGIN PGP PUBLIC KEY BLOCK' || fail "public export"
K export alice@example.com --secret >"$tmp/sec.asc"
head -1 "$tmp/sec.asc" | grep -q 'BEGIN PGP PRIVATE KEY BLOCK' || fail "secret export"
expect_rc 70 "$ctl" -c /dev/null keys --home "$tmp/h" export alice@example.com --secret
mkdir -m 700 "$tmp/f"
gpg --homedir "$tmp/f" --batch --import "$tmp/pub.asc" 2>/dev/null
gpg --homedir "$tmp/f" --batch --with-colons --list-keys alice@example.com |
    awk -F: '$1=="fpr"{print $10}' >"$tmp/fprs"
grep -qx "$f1" "$tmp/fprs" && grep -qx "$f2" "$tmp/fprs" || { cat "$tmp/fprs"; fail "gpg fingerprints"; }
# The secret export still needs the passphrase (protected at rest).
gpg --homedir "$tmp/f" --batch --pinentry-mode loopback --passphrase 'key pass phrase' \
    --import "$tmp/sec.asc" 2>/dev/null
gpg --homedir "$tmp/f" --batch --with-colons --list-secret-keys alice@example.com |
    awk -F: '$1=="fpr"{print $10}' | grep -qx "$f1" || fail "secret import into gpg"
echo test | gpg --homedir "$tmp/f" --batch --pinentry-mode loopback --passphrase wrong \
    -u "$f1" --sign >/dev/null 2>&1 && fail "secret key signs without its passphrase"

# Importing what is there: unchanged, with --json counts.
J import "$tmp/pub.asc" | py 'import json,sys; d=json.load(sys.stdin); assert d["considered"]==2 and d["unchanged"]==2 and d["imported"]==0, d' ||
    fail "duplicate import"
K import - <"$tmp/pub.asc" | grep -q '2 unchanged' || fail "import from stdin"
printf 'this is not a key\n' >"$tmp/garbage"
expect_rc 65 K import "$tmp/garbage"
grep -q "no OpenPGP keys found" "$tmp/err" || fail "garbage message: $(cat "$tmp/err")"
expect_rc 66 K import "$tmp/missing"

# Import into a fresh keystore home (public only, then secret).
F() { "$ctl" -c /dev/null --json keys --home "$tmp/k2" --passphrase-file "$tmp/pass" "$@"; }
F import "$tmp/sec.asc" | py 'import json,sys; d=json.load(sys.stdin); assert d["secret_imported"]==2, d' ||
    fail "secret import"
F list | py "import json,sys; k=json.load(sys.stdin); assert sorted(x['fingerprint'] for x in k)==sorted(['$f1','$f2']) and all(x['secret'] for x in k), k" ||
    fail "fresh home list"
gpgconf --homedir "$tmp/k2" --kill gpg-agent 2>/dev/null || :

# Delete the default: its defaults line goes, the other key becomes the default.
J delete "$f2" | py "import json,sys; assert json.load(sys.stdin)=={'deleted':'$f2'}" || fail "delete --json"
[ "$(K default alice@example.com)" = "alice@example.com $f1" ] || fail "default after delete"
grep -q "$f2" "$tmp/h/mailward-defaults" && fail "deleted key still in the defaults file"
expect_rc 65 K delete "$f2"
expect_rc 65 K delete ABCD
expect_rc 64 K frobnicate
[ "$(K list | wc -l)" = 1 ] || fail "one key left"
echo "keys: all checks passed"
