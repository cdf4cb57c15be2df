# conf-examples: shipped in the tarball; tests load each of them.
EXTRA_DIST += conf-examples/mailward.conf conf-examples/sendmail.mc
