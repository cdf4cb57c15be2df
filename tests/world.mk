# tests: the test world (tests/world/README.md) and its smoke scenarios. The whole
# directory is distributed, so a new zone, list entry or scenario needs no edit here;
# a new scenario script needs one line in world_tests.
world_tests = tests/world/selftest.sh tests/world/smoke-deliver.sh tests/world/smoke-tls-encrypt.sh
TESTS += $(world_tests)
EXTRA_DIST += tests/world
# EXTRA_DIST copies the directory from the build tree when it exists there
# (VPATH), which holds this run's test logs: keep them out of the tarball.
# The fuzz targets are found by fuzz/build.sh, not listed: ship every one of them.
dist-hook:
	rm -f $(distdir)/tests/world/*.log $(distdir)/tests/world/*.trs
	cp -p $(srcdir)/fuzz/*.c $(distdir)/fuzz/
	-cp -p $(srcdir)/fuzz/*.h $(distdir)/fuzz/ 2>/dev/null
