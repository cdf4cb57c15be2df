# lib/metrics: counters, gauges and latency histograms; the "stats:" syslog
# line and the Prometheus endpoint (libevent's evhttp, already linked).
lib_libmailward_la_SOURCES += \
	lib/metrics.c lib/metrics-http.c lib/mw/metrics.h
