# tests: the pgp plugin (OpenPGP encryption and signing of outbound mail).
TESTS += tests/pgp/milter.sh
EXTRA_DIST += tests/pgp/milter.sh tests/pgp/client.py tests/pgp/check.py
