# tests/: unit tests (cmocka) and integration tests (shell, real servers).
# Each area adds its tests in its own fragment.
include tests/core.mk
include tests/cache.mk
include tests/dns.mk
include tests/metrics.mk
include tests/fleet.mk
include tests/policyd.mk
include tests/milter.mk
include tests/world.mk
include tests/dkim.mk
include tests/spf.mk
include tests/dmarc.mk
include tests/mta-sts.mk
include tests/spf-plugin.mk
include tests/dane.mk
include tests/pgp.mk
include tests/spool.mk
include tests/keys.mk
include tests/ctl.mk
include tests/ctl-cache.mk
include tests/tlsrpt.mk
include tests/publish.mk
include tests/faults.mk
include tests/examples.mk
