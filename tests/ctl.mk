# tests: mailwardctl check DOMAIN in the test world (tests/ctl/check.sh).
TESTS += tests/ctl/check.sh
EXTRA_DIST += tests/ctl/check.sh
