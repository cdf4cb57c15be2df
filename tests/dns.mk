# tests: dns
