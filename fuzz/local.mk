# fuzz/: libFuzzer targets (built with clang by fuzz/build.sh, not by make all).
EXTRA_DIST += fuzz/build.sh fuzz/README.md fuzz/corpus
fuzz_seconds = 10
fuzz-smoke: all
	$(SHELL) $(srcdir)/fuzz/build.sh $(abs_top_builddir) $(abs_top_builddir)/fuzz/bin
	@set -e; for t in $(abs_top_builddir)/fuzz/bin/fuzz-*; do \
	  name=$$(basename $$t | sed 's/^fuzz-//'); \
	  corpus=$(abs_top_srcdir)/fuzz/corpus/$$name; \
	  scratch=$(abs_top_builddir)/fuzz/corpus-$$name; mkdir -p $$scratch; \
	  log=$(abs_top_builddir)/fuzz/$$name.log; \
	  if $$t -max_total_time=$(fuzz_seconds) $$scratch $$( [ -d $$corpus ] && echo $$corpus ) >$$log 2>&1; then \
	    echo "fuzz-smoke: $$name: $$(grep -o 'Done [0-9]* runs' $$log)"; \
	  else \
	    tail -n 40 $$log; echo "fuzz-smoke: $$name FAILED (see $$log)"; exit 1; \
	  fi; \
	done
.PHONY: fuzz-smoke
