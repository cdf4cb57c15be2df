# fuzz/: libFuzzer targets (built with clang by fuzz/build.sh, not by make all).
EXTRA_DIST += fuzz/build.sh fuzz/README.md fuzz/corpus
fuzz_seconds = 10
fuzz-smoke: all
	$(SHELL) $(srcdir)/fuzz/build.sh $(abs_top_builddir) $(abs_top_builddir)/fuzz/bin
	@set -e; for t in $(abs_top_builddir)/fuzz/bin/fuzz-*; do \
	  name=$$(basename $$t | sed 's/^fuzz-//'); \
	  corpus=$(abs_top_srcdir)/fuzz/corpus/$$name; \
	  echo "fuzz-smoke: all $$name ($(fuzz_seconds) s)"; \
	  scratch=$(abs_top_builddir)/fuzz/corpus-$$name; mkdir -p $$scratch; \
	  $$t -max_total_time=$(fuzz_seconds) $$scratch $$( [ -d $$corpus ] && echo $$corpus ) 2>&1 | tail -n 1; \
	done
.PHONY: fuzz-smoke
