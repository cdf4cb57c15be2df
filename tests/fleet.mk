# tests: a fleet of MTAs sharing one Redis (behind Redis Sentinel) in the test world.
TESTS += tests/fleet/sentinel.sh tests/fleet/two-mta.sh
EXTRA_DIST += tests/fleet/sentinel.sh tests/fleet/two-mta.sh tests/fleet/lib.sh
