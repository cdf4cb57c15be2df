# tests: the core primitives (config, addresses).
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-config
TESTS += tests/unit/test-config
tests_unit_test_config_SOURCES = tests/unit/test-config.c
tests_unit_test_config_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_config_LDADD = lib/libmailward.la $(CMOCKA_LIBS)
endif

TESTS += tests/core/doc-keys.sh
EXTRA_DIST += tests/core/doc-keys.sh

# Key, table and GnuPG home permissions (lib/fileperm.c), at start and reload.
TESTS += tests/core/fileperm.sh
EXTRA_DIST += tests/core/fileperm.sh
# No password (Encrypt-Password, redis_password) in any log of the test world, debug on.
TESTS += tests/faults/secrets.sh
EXTRA_DIST += tests/faults/secrets.sh
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-fileperm
TESTS += tests/unit/test-fileperm
tests_unit_test_fileperm_SOURCES = tests/unit/test-fileperm.c
tests_unit_test_fileperm_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_fileperm_LDADD = lib/libmailward.la $(CMOCKA_LIBS)
endif
