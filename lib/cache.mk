# lib/cache: the shared cache (memory LRU, Redis via hiredis).
lib_libmailward_la_SOURCES += \
	lib/cache.c lib/mw/cache.h \
	lib/cache-memory.c lib/mw/cache-memory.h \
	lib/cache-redis.c lib/mw/cache-redis.h \
	lib/redis-target.c lib/mw/redis-target.h
