# tests: publishing our own policies: mailward-policyd's [mta-sts-publish] HTTPS listener
# in the test world (with postfix-mta-sts-resolver and Postfix), mailwardctl sts init,
# tlsa and check against the world's DNS and MX hosts.
publish_tests = tests/publish/serve.sh
TESTS += $(publish_tests)
EXTRA_DIST += $(publish_tests) tests/publish/lib.sh tests/publish/client.py
