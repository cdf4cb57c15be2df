# tests: milter host, message model, plugin loading.

# Test-only plugin modules; -rpath makes libtool build real .so files in tests/plugins/.libs.
mw_test_plugin_ldflags = -module -avoid-version -shared -rpath /nowhere $(MW_LDFLAGS)
check_LTLIBRARIES += tests/plugins/probe.la tests/plugins/badabi.la \
	tests/plugins/nosym.la tests/plugins/wrongname.la
tests_plugins_probe_la_SOURCES = tests/plugins/probe.c
tests_plugins_probe_la_LDFLAGS = $(mw_test_plugin_ldflags)
tests_plugins_probe_la_LIBADD = lib/libmailward.la
tests_plugins_badabi_la_SOURCES = tests/plugins/badabi.c
tests_plugins_badabi_la_LDFLAGS = $(mw_test_plugin_ldflags)
tests_plugins_nosym_la_SOURCES = tests/plugins/nosym.c
tests_plugins_nosym_la_LDFLAGS = $(mw_test_plugin_ldflags)
tests_plugins_wrongname_la_SOURCES = tests/plugins/wrongname.c
tests_plugins_wrongname_la_LDFLAGS = $(mw_test_plugin_ldflags)

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-msg tests/unit/test-plugins tests/unit/test-ar
TESTS += tests/unit/test-msg tests/unit/test-plugins tests/unit/test-ar
tests_unit_test_msg_SOURCES = tests/unit/test-msg.c
tests_unit_test_msg_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_msg_LDADD = lib/libmailward.la $(CMOCKA_LIBS)
tests_unit_test_plugins_SOURCES = tests/unit/test-plugins.c
tests_unit_test_plugins_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_plugins_CPPFLAGS = $(AM_CPPFLAGS) \
	-DMW_TEST_PLUGIN_DIR='"$(abs_top_builddir)/tests/plugins/.libs"'
tests_unit_test_plugins_LDADD = lib/libmailward.la $(CMOCKA_LIBS)
tests_unit_test_ar_SOURCES = tests/unit/test-ar.c milter/ar.c milter/ar.h
tests_unit_test_ar_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_ar_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/milter
tests_unit_test_ar_LDADD = lib/libmailward.la $(CMOCKA_LIBS)
endif

# Integration: the real mailward-milter driven by miltertest.
TESTS += tests/milter/milter.sh
EXTRA_DIST += tests/milter/milter.sh tests/milter/message.lua tests/milter/reject.lua

# Sendmail: the .mc fragment and a conversation as Sendmail sends it.
TESTS += tests/milter/sendmail.sh
EXTRA_DIST += tests/milter/sendmail.sh tests/milter/sendmail.lua

# The real Sendmail (unpacked from Debian's packages into a private root) in the test world.
TESTS += tests/milter/sendmail-real.sh
EXTRA_DIST += tests/milter/sendmail-real.sh
