# man pages, installed by make install.
dist_man_MANS += man/mailward-milter.8 man/mailward-policyd.8 man/mailwardctl.8 \
	man/mailward.conf.5
