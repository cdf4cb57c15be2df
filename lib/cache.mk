# lib/cache: sources are added here by the cache module.
