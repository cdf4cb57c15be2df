# plugins/spf: SPF (RFC 7208). libmwspf is the evaluation core shared by the
# plugin module and the RFC 7208 suite runner (tests/spf.mk): the native
# evaluator and the libspf2 engine behind spf-engine.h.
noinst_LTLIBRARIES += plugins/spf/libmwspf.la
plugins_spf_libmwspf_la_SOURCES = \
	plugins/spf/spf-engine.c plugins/spf/spf-engine.h \
	plugins/spf/spf-eval.c plugins/spf/spf-eval.h plugins/spf/spf-ctx.h \
	plugins/spf/spf-mech.c plugins/spf/spf-names.c plugins/spf/spf-macro.c \
	plugins/spf/spf-record.c plugins/spf/spf-record.h \
	plugins/spf/spf-libspf2.c
plugins_spf_libmwspf_la_CFLAGS = $(AM_CFLAGS)
plugins_spf_libmwspf_la_LIBADD = $(SPF2_LIBS)
include plugins/spf/plugin.mk
