#!/bin/sh
# tests/spf/suite.sh - the openspf RFC 7208 test suite on both SPF engines:
# convert tests/spf/rfc7208-tests.yml into the runner's line format
# (yaml2fixture.py, needs the Debian package python3-yaml) and run
# tests/spf/spf-suite on it. Fails unless the native engine passes all 203
# tests; libspf2's count is only reported.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
if ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
    echo "suite.sh: /usr/bin/python3 has no yaml module: apt-get install python3-yaml" >&2
    exit 1
fi
fixture=$top_builddir/tests/spf/rfc7208.fixture
mkdir -p "$top_builddir/tests/spf"
/usr/bin/python3 "$top_srcdir/tests/spf/yaml2fixture.py" "$top_srcdir/tests/spf/rfc7208-tests.yml" \
    >"$fixture.tmp"
mv "$fixture.tmp" "$fixture"
exec "$top_builddir/tests/spf/spf-suite" "$fixture"
