# conf-examples: shipped in the tarball; tests load each of them
# (tests/examples.mk, tests/core/doc-keys.sh, tests/milter/sendmail.sh).
EXTRA_DIST += conf-examples/mailward.conf conf-examples/sendmail.mc \
	conf-examples/postfix-main.cf conf-examples/postfix-master.cf \
	conf-examples/mailward-milter.service conf-examples/mailward-policyd.service \
	conf-examples/OPENDKIM-MIGRATION.md
# The Debian packaging (dpkg-buildpackage -us -uc -b) and its test (dev/check runs it).
EXTRA_DIST += debian/changelog debian/control debian/copyright debian/rules debian/source/format \
	debian/mailward.docs debian/mailward.examples debian/mailward.postinst debian/mailward.postrm \
	debian/tls-rules tests/pkg/install.sh tests/pkg/probe.py
