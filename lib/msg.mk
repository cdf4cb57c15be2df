# lib/msg: the connection/message model plugins see (mw/msg.h) and its host side.
lib_libmailward_la_SOURCES += lib/msg.c lib/mw/msg-host.h
