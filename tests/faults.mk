# tests: faults injected into the test world (tests/faults/): Redis, DNS, policy hosts,
# broken clients of both daemons, gpg-agent and a full disk.
fault_tests = tests/faults/redis.sh tests/faults/dns.sh tests/faults/policyhost.sh \
	tests/faults/milter.sh tests/faults/policyd-conns.sh tests/faults/privileges.sh \
	tests/faults/valgrind.sh tests/faults/pgp.sh tests/faults/soak.sh
TESTS += $(fault_tests)
EXTRA_DIST += $(fault_tests) tests/faults/lib.sh tests/faults/smload.py tests/faults/milterwire.py
