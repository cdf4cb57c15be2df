# tests: the dkim plugin (inbound verification) in the test world.
TESTS += tests/dkim/verify.sh
EXTRA_DIST += tests/dkim/verify.sh tests/dkim/client.py
