# healthd — build, test, install. See README.md.
PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=
BUILD   ?= build
BIN     ?= $(BUILD)/bin/healthd

CC      ?= cc
PKGS     = libevent jansson libcurl ldns openssl
OPT     ?= -O2 -g
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wno-unused-parameter
CFLAGS  += -std=c17 -D_GNU_SOURCE $(OPT) $(WARN) $(SANFLAGS)
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)
LDLIBS  += $(PKG_LIBS) -lm

SRCS     = $(wildcard lib/*.c) $(wildcard probes/*.c) $(wildcard healthd/*.c) $(wildcard compat/*.c)
HDRS     = $(wildcard lib/*.h probes/*.h healthd/*.h compat/*.h)
LIB_SRCS = $(filter-out healthd/main.c,$(SRCS))
LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TESTLIB_SRCS = tests/unit/testlib.c tests/unit/dns_fake.c tests/unit/tcp_fake.c
TESTLIB_OBJS = $(TESTLIB_SRCS:%.c=$(BUILD)/%.o)
HELPER_SRCS = $(wildcard tests/helpers/*.c)
HELPER_BINS = $(HELPER_SRCS:tests/helpers/%.c=$(BUILD)/tests/%)

.PHONY: all test unit fuzz asan valgrind install uninstall clean format deps check-build bench soak
all: $(BIN)

$(BIN): $(LIB_OBJS) $(BUILD)/healthd/main.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%.o: tests/unit/%.c $(wildcard tests/unit/*.h) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(CHECK_CFLAGS) -c -o $@ $<

# Every unit test links the tests' own library (testlib.c, the fakes); named outside a
# pattern, so that make keeps its objects.
$(UNIT_BINS): $(TESTLIB_OBJS)
$(BUILD)/tests/test_%: tests/unit/test_%.c $(wildcard tests/unit/*.h) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(CHECK_CFLAGS) -o $@ $< $(TESTLIB_OBJS) $(LIB_OBJS) $(LDLIBS) \
		$(CHECK_LIBS)

$(BUILD)/tests/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<

check-build: $(BIN) $(UNIT_BINS) $(HELPER_BINS)

# Installs missing Debian packages (as root; otherwise prints the apt-get line), builds,
# runs every test. TESTS=unit|golden|integration narrows it.
test: deps
	$(MAKE) check-build
	HEALTHD=$(CURDIR)/$(BIN) BUILD=$(CURDIR)/$(BUILD) bash tests/run.sh $(TESTS)

unit: check-build
	HEALTHD=$(CURDIR)/$(BIN) BUILD=$(CURDIR)/$(BUILD) bash tests/run.sh unit

deps:
	@bash tests/deps.sh

# Every libFuzzer target (tests/fuzz/fuzz_*.c) for FUZZ_TIME seconds each; `make test`
# runs them for tests/fuzz/run.sh's default, 10 s. A crash leaves its input in
# $(BUILD)/fuzz (see tests/fuzz/run.sh).
FUZZ_TIME ?= 60
fuzz:
	FUZZ_TIME=$(FUZZ_TIME) BUILD=$(CURDIR)/$(BUILD) bash tests/fuzz/run.sh

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps
	$(MAKE) BUILD=build-asan OPT="-O1 -g" \
		SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		check-build
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		HEALTHD=$(CURDIR)/build-asan/bin/healthd BUILD=$(CURDIR)/build-asan bash tests/run.sh $(TESTS)

# The integration tests with healthd under valgrind memcheck; any error report fails.
VG_DIR = $(CURDIR)/$(BUILD)/valgrind
valgrind: deps
	$(MAKE) check-build
	# tests drop healthd to other users (nobody): they must be able to write a log too
	rm -rf $(VG_DIR) && mkdir -p $(VG_DIR)/logs && chmod 1777 $(VG_DIR)/logs
	printf '#!/bin/sh\nexec valgrind -q --vgdb=no --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file=$(VG_DIR)/logs/%%p.log $(CURDIR)/$(BIN) "$$@"\n' > $(VG_DIR)/healthd
	chmod +x $(VG_DIR)/healthd
	HEALTHD=$(VG_DIR)/healthd BUILD=$(CURDIR)/$(BUILD) bash tests/run.sh integration
	@n=$$(find $(VG_DIR)/logs -type f -size +0 | wc -l); \
	if [ "$$n" -ne 0 ]; then cat $(VG_DIR)/logs/*; echo "valgrind: $$n run(s) reported errors"; exit 1; fi; \
	echo "valgrind: $$(ls $(VG_DIR)/logs | wc -l) healthd runs, no errors"

# healthd against ExaBGP's healthcheck in one run (bench/README.md). MODE=short (default,
# about a minute and a half) or MODE=full (for bench/RESULTS.md, 15-25 minutes); the
# report is printed and kept in $(BUILD)/bench/report.md, with results.tsv beside it.
bench: $(BIN)
	MODE=$(or $(MODE),short) HEALTHD=$(CURDIR)/$(BIN) BUILD=$(CURDIR)/$(BUILD) bash bench/all.sh

# SOAK_MINUTES (30) of 200 services flapping under a real ExaBGP peering with BIRD, the
# control endpoint scraped every second (bench/soak.sh); not part of `make test`. The
# report (memory flat or not, with the numbers) is appended to bench/RESULTS.md.
SOAK_MINUTES ?= 30
soak: $(BIN)
	@out=$(BUILD)/soak.md; rc=0; \
	SOAK_MINUTES=$(SOAK_MINUTES) SOAK_COMMAND="make soak SOAK_MINUTES=$(SOAK_MINUTES)" \
		HEALTHD=$(CURDIR)/$(BIN) bash bench/soak.sh > $$out || rc=$$?; \
	if [ $$rc -le 1 ] && [ -s $$out ]; then \
		{ echo; cat $$out; } >> bench/RESULTS.md; cat $$out; echo "soak: appended to bench/RESULTS.md"; \
	fi; exit $$rc

install: $(BIN)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/healthd
	install -m 0644 man/healthd.8 $(DESTDIR)$(MANDIR)/man8/healthd.8
	install -m 0644 man/healthd.json.5 $(DESTDIR)$(MANDIR)/man5/healthd.json.5

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/healthd $(DESTDIR)$(MANDIR)/man8/healthd.8 \
		$(DESTDIR)$(MANDIR)/man5/healthd.json.5

format:
	clang-format -i $(SRCS) $(HDRS) $(wildcard tests/unit/*.[ch] tests/helpers/*.c tests/fuzz/*.c)

clean:
	rm -rf build build-asan
