# bench/: load clients for the benchmarks (BENCHMARKS.md, bench/README.md). Built by make,
# not installed; the run-*.sh scripts that use them are never part of make check.
noinst_PROGRAMS += bench/milter-load bench/socketmap-load
bench_milter_load_SOURCES = bench/milter-load.c bench/cpu.h
bench_milter_load_LDADD = -lpthread
bench_socketmap_load_SOURCES = bench/socketmap-load.c bench/cpu.h
EXTRA_DIST += BENCHMARKS.md bench/README.md bench/milter-load.1 bench/socketmap-load.1 bench/packages \
	bench/lib.sh bench/report.py bench/run-all.sh bench/run-inbound.sh bench/run-sign.sh \
	bench/run-policy.sh bench/run-e2e.sh bench/run-memory.sh bench/pgp.sh
