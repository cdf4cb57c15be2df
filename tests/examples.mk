# tests: every file of conf-examples/ is exercised (postfix-main.cf and
# postfix-master.cf by the world's Postfix, the systemd units by systemd-analyze,
# mailward.conf by tests/core/doc-keys.sh and the units' -n lines, sendmail.mc by
# tests/milter/sendmail.sh).
TESTS += tests/examples/postfix.sh tests/examples/systemd.sh
EXTRA_DIST += tests/examples/postfix.sh tests/examples/systemd.sh
