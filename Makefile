# sluice: cached flows with a terminal UI.
#   make          build ./sluice
#   make demo     install what is missing, build, open the TUI on the example flow
#   make test     build with -Werror and run every test
#   make asan-test  the same under AddressSanitizer + UBSan
#   make valgrind-test  the integration tests with sluice under valgrind
#   make fuzz     libFuzzer on the flow reader and templates (FUZZ_TIME seconds)
#   make differential N=10000 [SEED=S] [TIME=SEC] [SKIP=classes]  the differential tester

PREFIX  ?= /usr/local
DESTDIR ?=
PLUGIN_DIR ?= $(PREFIX)/lib/sluice/plugins
CC      ?= cc
PKGS    := sqlite3 libcjson libcrypto ncursesw
# Headers only: engine/gitlib.c loads libgit2 at its first call, engine/remote.c libcurl
# at a remote's first request (each costs a process ~1 ms of loading when linked).
DLPKGS  := libgit2 libcurl
DEB_PKGS := build-essential pkg-config libgit2-dev libsqlite3-dev libcjson-dev libssl-dev \
            libncurses-dev libcurl4-openssl-dev git sqlite3

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(DLPKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(filter-out libcrypto,$(PKGS)) 2>/dev/null)
GIT2_SONAME := $(shell objdump -p $$(pkg-config --variable=libdir libgit2 2>/dev/null)/libgit2.so \
                 2>/dev/null | awk '/SONAME/ {print $$2}')
# libcrypto is linked statically when libssl-dev has the archive: sluice uses only its
# SHA-256, and loading the shared library cost every process 0.6 ms (its relocations).
CRYPTO_A   := $(wildcard $(shell pkg-config --variable=libdir libcrypto 2>/dev/null)/libcrypto.a)
CRYPTO_LIBS := $(if $(CRYPTO_A),$(CRYPTO_A) -ldl,$(shell pkg-config --libs libcrypto 2>/dev/null))

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -pthread $(WARN) $(CFLAGS) $(PKG_CFLAGS) -Iengine -Itui -MMD -MP \
              $(if $(GIT2_SONAME),-DGITLIB_SONAME='"$(GIT2_SONAME)"')
LDLIBS  := $(PKG_LIBS) $(CRYPTO_LIBS) -pthread -lm

BUILD   ?= build
ENGINE_SRC := $(wildcard engine/*.c)
# Executor plugins: plugins/NAME.c plus the shared helpers, one NAME.so each, built into
# plugins/ next to the binary (where sluice looks for them, as in the installed tree).
PLUGINS    := local slurm
PLUGIN_HELPERS_local := options direct
PLUGIN_HELPERS_slurm := options proc slurm_job
PLUGIN_OUT := $(dir $(BIN))plugins
PLUGIN_SO  := $(PLUGINS:%=$(PLUGIN_OUT)/%.so)
PLUGIN_OBJ_DIR := $(BUILD)/plugins
# A plugin links what it uses (the binary may not have it): undefined symbols are
# errors, except under the sanitizers, whose runtime only the binary carries.
PLUGIN_LDFLAGS := $(if $(findstring sanitize,$(LDFLAGS)),,-Wl,-z,defs)
CLI_SRC    := $(wildcard cli/*.c) $(wildcard tui/*.c)
UNIT_SRC   := $(wildcard tests/unit/*.c)
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_OBJ   := $(UNIT_SRC:%.c=$(BUILD)/%.o) $(PLUGIN_OBJ_DIR)/options.o $(PLUGIN_OBJ_DIR)/slurm_job.o \
              $(PLUGIN_OBJ_DIR)/direct.o
LIB        := $(BUILD)/libsluice.a
BIN        ?= sluice
UNIT_BIN   := $(BUILD)/unit-tests

.PHONY: all deps demo test unit-test asan-test valgrind-test fuzz clean install bench screenshots \
        check-deps differential
all: check-deps $(BIN) $(PLUGIN_SO)

check-deps:
	@pkg-config --exists $(PKGS) $(DLPKGS) || { echo "sluice: missing build dependencies; run 'make deps' (or: apt-get install -y $(DEB_PKGS))" >&2; exit 1; }

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The install's plugin directory is compiled in: rebuild plugin.o when it changes.
PLUGIN_DIR_STAMP := $(BUILD)/plugin-dir
$(shell mkdir -p $(BUILD) && echo '$(PLUGIN_DIR)' | cmp -s - $(PLUGIN_DIR_STAMP) || echo '$(PLUGIN_DIR)' >$(PLUGIN_DIR_STAMP))
$(BUILD)/engine/plugin.o: $(PLUGIN_DIR_STAMP)
$(BUILD)/engine/plugin.o: ALL_CFLAGS += -DSLUICE_PLUGIN_DIR='"$(PLUGIN_DIR)"'
$(UNIT_SRC:%.c=$(BUILD)/%.o): ALL_CFLAGS += -Iplugins

# Plugins are position-independent and see only engine/executor.h and plugins/*.h.
$(PLUGIN_OBJ_DIR)/%.o: plugins/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iplugins -fPIC -c $< -o $@

.SECONDEXPANSION:
.SECONDARY: # keep the plugins' objects, which only the .so rules use
$(PLUGIN_OUT)/%.so: $(PLUGIN_OBJ_DIR)/%.o $$(addprefix $(PLUGIN_OBJ_DIR)/,$$(addsuffix .o,$$(PLUGIN_HELPERS_$$*)))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $(PLUGIN_LDFLAGS) -shared -o $@ $^ $(shell pkg-config --libs libcjson 2>/dev/null) -lm

$(LIB): $(ENGINE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

$(UNIT_BIN): $(UNIT_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(UNIT_OBJ) $(LIB) $(LDLIBS)

# Installs the Debian packages sluice needs when any is missing.
deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "deps: all present"; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: missing:$$missing"; echo "run: sudo apt-get install -y$$missing"; exit 1; fi

DEMO_PKGS := python3-sklearn python3-pandas
demo: deps
	@missing=""; for p in $(DEMO_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "demo: needs$$missing: sudo apt-get install -y$$missing"; exit 1; fi; fi
	@$(MAKE) --no-print-directory all
	./examples/demo.sh

test: all $(UNIT_BIN)
	SLUICE=$(abspath $(BIN)) UNIT=$(abspath $(UNIT_BIN)) UNIT_PLUGINS=$(abspath $(PLUGIN_OUT)) tests/run

asan-test:
	$(MAKE) --no-print-directory BUILD=build-asan BIN=build-asan/sluice \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" test

# The integration suite with every sluice process under valgrind (memcheck): any
# error or definite leak fails the test that triggered it. VALGRIND_TESTS: test
# patterns (tests/run's) to run instead of all of them.
valgrind-test: all $(UNIT_BIN)
	@command -v valgrind >/dev/null || { echo "valgrind-test needs valgrind (apt-get install valgrind)"; exit 1; }
	rm -rf $(BUILD)/valgrind && mkdir -p -m 1777 $(BUILD)/valgrind # tests also run as nobody
	UNIT_PLUGINS=$(abspath $(PLUGIN_OUT)) valgrind -q --error-exitcode=99 --leak-check=full \
	  --errors-for-leak-kinds=definite --log-file=$(BUILD)/valgrind/unit.log \
	  $(abspath $(UNIT_BIN)) >/dev/null || { cat $(BUILD)/valgrind/unit.log; exit 1; }
	for pattern in $(or $(VALGRIND_TESTS),''); do \
	  SLUICE=$(abspath tests/valgrind-sluice) SLUICE_REAL=$(abspath $(BIN)) UNIT=- \
	  VALGRIND_LOGS=$(abspath $(BUILD)/valgrind) TEST_JOBS=2 SLUICE_UNDER_VALGRIND=1 \
	  tests/run $$pattern || { grep -l '^==' $(BUILD)/valgrind/*.log | xargs -r cat; exit 1; }; \
	done

# Fuzzing: the harnesses in fuzz/ built with clang's libFuzzer, ASan and UBSan; `make
# fuzz` replays fuzz/regressions, then fuzzes each harness for half of FUZZ_TIME.
FUZZ_TIME ?= 60
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
               -fno-omit-frame-pointer
$(BUILD)/fuzz_%: fuzz/fuzz_%.c $(LIB)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang libclang-rt-dev)"; exit 1; }
	$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang CFLAGS="$(FUZZ_CFLAGS)" \
	  LDFLAGS="-fsanitize=address,undefined" build-fuzz/fuzz_flow build-fuzz/fuzz_template
	fuzz/run $(FUZZ_TIME)

# The differential tester (tests/differential/README.md): N steps over random flows, or
# TIME seconds; SEED to repeat a pass; SKIP the step classes to leave out (default: those
# whose defect is known and not fixed yet).
N    ?= 1000
SKIP ?= known
differential: all
	python3 tests/differential/difftest.py --sluice $(abspath $(BIN)) $(if $(SEED),--seed $(SEED)) \
	  $(if $(TIME),--time $(TIME),--steps-total $(N)) --max-tasks 40 --steps 30 --skip '$(SKIP)' \
	  $(DIFF_FLAGS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PLUGIN_DIR)
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/sluice
	install -m 0644 $(PLUGIN_SO) $(DESTDIR)$(PLUGIN_DIR)/
	install -m 0644 sluice.1 $(DESTDIR)$(PREFIX)/share/man/man1/sluice.1

$(BUILD)/layout-bench: bench/layout_bench.c $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

bench: all $(BUILD)/layout-bench
	bench/run

screenshots: all
	screenshots/make.sh

clean:
	rm -rf build build-asan build-fuzz sluice plugins/*.so

-include $(ENGINE_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(wildcard $(PLUGIN_OBJ_DIR)/*.d)
