# tests: spf. The openspf RFC 7208 test suite on both engines of
# plugins/spf (native and libspf2), see tests/spf/suite.sh.
check_PROGRAMS += tests/spf/spf-suite
TESTS += tests/spf/suite.sh
tests_spf_spf_suite_SOURCES = tests/spf/spf-suite.c
tests_spf_spf_suite_LDADD = plugins/spf/libmwspf.la lib/libmailward.la
EXTRA_DIST += tests/spf/suite.sh tests/spf/yaml2fixture.py tests/spf/rfc7208-tests.yml \
	tests/spf/rfc7208-tests.LICENSE tests/spf/mailward-tests.yml
CLEANFILES += tests/spf/rfc7208-tests.fixture tests/spf/mailward-tests.fixture
