#!/bin/sh
# Every declared configuration key (core and every built plugin) is documented
# in mailward.conf(5) and shown in conf-examples/mailward.conf, and the
# example file itself is a valid configuration.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ctl="$top_builddir/ctl/mailwardctl"
man="$top_srcdir/man/mailward.conf.5"
example="$top_srcdir/conf-examples/mailward.conf"

printf '[general]\nplugin_dir = %s/plugins/.libs\n' "$top_builddir" >"$tmp/c.conf"
"$ctl" -c "$tmp/c.conf" config keys >"$tmp/keys"
[ -s "$tmp/keys" ] || { echo "no keys listed"; exit 1; }
missing=0
while read -r section key _; do
    section=$(echo "$section" | tr -d '[]')
    grep -q "^\.SH \[$section\]" "$man" || { echo "man: no section [$section]"; missing=1; }
    grep -q "^\.BR $key \" = \"" "$man" || { echo "man: [$section] $key undocumented"; missing=1; }
    grep -q "^\[$section\]" "$example" || { echo "example: no [$section]"; missing=1; }
    grep -q "^$key =" "$example" || { echo "example: [$section] $key missing"; missing=1; }
done <"$tmp/keys"
[ $missing = 0 ]

# The example validates once plugin_dir points at the plugins just built.
sed "s|^plugin_dir = .*|plugin_dir = $top_builddir/plugins/.libs|" "$example" >"$tmp/example.conf"
"$ctl" -c "$tmp/example.conf" config
# And a typo is refused with its line number and exit 78.
printf '[general]\nstats_intervall = 5\n' >"$tmp/typo.conf"
set +e
"$ctl" -c "$tmp/typo.conf" config 2>"$tmp/err"
rc=$?
set -e
[ $rc = 78 ] || { echo "typo: exit $rc, want 78"; exit 1; }
grep -q "typo.conf:2: unknown key \"stats_intervall\"" "$tmp/err" || { cat "$tmp/err"; exit 1; }
echo "ok: $(wc -l <"$tmp/keys") keys documented"
