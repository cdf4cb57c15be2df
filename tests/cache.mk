# tests: cache
