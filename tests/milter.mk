# tests: milter
