#!/bin/sh
# tests/spf/suite.sh - the openspf RFC 7208 test suite (rfc7208-tests.yml,
# 203 tests) and mailward's own additions in the same format
# (mailward-tests.yml) on both SPF engines: convert each into the runner's
# line format (yaml2fixture.py, needs the Debian package python3-yaml) and
# run tests/spf/spf-suite on it. Fails unless the native engine passes every
# test of both; libspf2's counts are only reported. Each run is then
# repeated in 4 threads at once, which must give the same verdicts.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
if ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
    echo "suite.sh: /usr/bin/python3 has no yaml module: apt-get install python3-yaml" >&2
    exit 1
fi
dir=$top_builddir/tests/spf
mkdir -p "$dir"
rc=0
for spec in rfc7208-tests:203: mailward-tests:10:mailward; do
    yml=${spec%%:*}
    rest=${spec#*:}
    count=${rest%%:*}
    name=${rest#*:}
    /usr/bin/python3 "$top_srcdir/tests/spf/yaml2fixture.py" "$top_srcdir/tests/spf/$yml.yml" \
        >"$dir/$yml.fixture.tmp"
    mv "$dir/$yml.fixture.tmp" "$dir/$yml.fixture"
    # shellcheck disable=SC2086
    SPF_SUITE_THREADS=4 "$top_builddir/tests/spf/spf-suite" "$dir/$yml.fixture" "$count" $name || rc=1
done
exit $rc
