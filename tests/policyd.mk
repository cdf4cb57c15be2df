# tests: policyd
