#!/bin/sh
# fuzz/build.sh BUILDDIR OUTDIR - build every fuzz/fuzz-*.c as a libFuzzer
# binary with clang, ASan and UBSan, linking the core sources directly (not
# the shared library) so the fuzzer's coverage instrumentation sees them.
# BUILDDIR is a configured build tree (for config.h).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$1
out=$2
mkdir -p "$out"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -DMW_FUZZ"
incs="-I$build -I$src/lib -I$src/plugins -DMW_SYSCONFDIR=\"/etc/mailward\" -DMW_PLUGIN_DIR=\"/nonexistent\" -DMW_RUNSTATEDIR=\"/run\""
core="$src/lib/alloc.c $src/lib/buf.c $src/lib/log.c $src/lib/config.c $src/lib/config-core.c $src/lib/addr.c $src/lib/net.c $src/lib/netstring.c $src/lib/redis-target.c"
for f in "$src"/fuzz/fuzz-*.c; do
    name=$(basename "$f" .c)
    # A target may name extra sources on a line "// fuzz-sources: path ...".
    extra=$(sed -n 's|^// fuzz-sources: *||p' "$f" | sed "s|[^ ]*|$src/&|g")
    # ... and pkg-config packages on a line "// fuzz-pkgs: name ...".
    pkgs=$(sed -n 's|^// fuzz-pkgs: *||p' "$f")
    # shellcheck disable=SC2086
    clang $flags $incs -o "$out/$name" "$f" $core $extra $(pkg-config --cflags --libs inih hiredis $pkgs)
done
