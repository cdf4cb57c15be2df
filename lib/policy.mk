# lib/policy: the host side of the policy plugin ABI (asking the plugin chain).
lib_libmailward_la_SOURCES += lib/policy.c lib/mw/policy-host.h
