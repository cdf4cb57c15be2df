# tests: mailwardctl cache show|flush against the world's Redis.
TESTS += tests/ctl/cache.sh
EXTRA_DIST += tests/ctl/cache.sh
