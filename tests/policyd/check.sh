#!/bin/sh
# check.sh - mailward-policyd -n: validate the configuration and the tables it
# names, exit 0 or 78 (EX_CONFIG) with FILE:LINE.
. "$top_srcdir/tests/policyd/lib.sh"

rc=0
"$PD" -n -c "$T/mw.conf" >"$T/out" 2>&1 || rc=$?
expect "-n on a good configuration" "$rc" "0"

# An unknown key: 78, naming the file and line.
write_config
echo "no_such_key = 1" >>"$T/mw.conf"
line=$(wc -l <"$T/mw.conf")
rc=0
"$PD" -n -c "$T/mw.conf" >"$T/out" 2>&1 || rc=$?
expect "-n with an unknown key" "$rc" "78"
grep -q "$T/mw.conf:$line:.*no_such_key" "$T/out" || { cat "$T/out"; fail "unknown key not named with FILE:LINE"; }

# A bad table line: 78, naming the table and its line.
write_config
printf 'example.net encrypt\n\n# fine so far\nexample.org maybe\n' >"$T/rules"
rc=0
"$PD" -n -c "$T/mw.conf" >"$T/out" 2>&1 || rc=$?
expect "-n with a bad table line" "$rc" "78"
grep -q "$T/rules:4: unknown TLS level \"maybe\"" "$T/out" || { cat "$T/out"; fail "table error not named"; }

# A duplicate domain, and a missing table that was set explicitly.
printf 'example.net encrypt\nEXAMPLE.net. may\n' >"$T/rules"
rc=0
"$PD" -n -c "$T/mw.conf" >"$T/out" 2>&1 || rc=$?
expect "-n with a duplicate" "$rc" "78"
grep -q "$T/rules:2: duplicate domain example.net" "$T/out" || { cat "$T/out"; fail "duplicate not named"; }
rm -f "$T/rules"
rc=0
"$PD" -n -c "$T/mw.conf" >"$T/out" 2>&1 || rc=$?
expect "-n with a missing table" "$rc" "78"
grep -q "$T/rules: No such file" "$T/out" || { cat "$T/out"; fail "missing table not named"; }

# A bad require_tls_from entry names where it was set.
printf 'example.net encrypt\n' >"$T/rules"
sed -i 's/^require_tls_from = .*/require_tls_from = ok.example bad!domain/' "$T/mw.conf"
rc=0
"$PD" -n -c "$T/mw.conf" >"$T/out" 2>&1 || rc=$?
expect "-n with a bad require_tls_from" "$rc" "78"
grep -q "$T/mw.conf:[0-9]*: require_tls_from: \"bad!domain\"" "$T/out" || { cat "$T/out"; fail "bad require_tls_from not named"; }

# An unknown plugin.
write_config
sed -i 's/^plugins = tls-rules/plugins = tls-rules no-such-plugin/' "$T/mw.conf"
rc=0
"$PD" -n -c "$T/mw.conf" >"$T/out" 2>&1 || rc=$?
expect "-n with an unknown plugin" "$rc" "78"
grep -q "$T/mw.conf:[0-9]*: \[policyd\] plugins: .*no-such-plugin" "$T/out" || { cat "$T/out"; fail "unknown plugin not named"; }
echo "PASS: check"
