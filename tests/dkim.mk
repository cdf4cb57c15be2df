# tests: the dkim plugin (inbound verification) in the test world.
TESTS += tests/dkim/verify.sh
EXTRA_DIST += tests/dkim/verify.sh tests/dkim/client.py
TESTS += tests/dkim/interop.sh
EXTRA_DIST += tests/dkim/interop.sh tests/dkim/sign.py
TESTS += tests/dkim/sign.sh
EXTRA_DIST += tests/dkim/sign.sh tests/dkim/pyverify.py tests/dkim/lsan.supp
TESTS += tests/dkim/pgp-sign.sh
EXTRA_DIST += tests/dkim/pgp-sign.sh tests/dkim/lib.sh
