# hfgit: one Makefile for everything. `make demo` and `make check` are the two commands a user needs.
#
#   make                 build everything into build/ (build-<san>/ with SAN=...)
#   make deps            install missing Debian packages (apt-get; sudo when not root)
#   make check           deps + build + every test; last line "N passed, N failed"
#   make check SAN=address,undefined    the same under sanitizers (SAN=thread for TSan)
#   make install PREFIX=DIR
#   make bench | make lint | make fuzz | make demo
#
# Variables are evaluated lazily so that `make check` on a bare machine installs pkg-config and the -dev
# packages (deps) before any pkg-config query runs.

PREFIX ?= /usr/local
SAN ?=
CC ?= cc
comma := ,
BUILD ?= build$(if $(SAN),-$(subst $(comma),-,$(SAN)))
# The version is written once, in include/hfgit.h (HFGIT_VERSION_MAJOR/MINOR/PATCH).
# The shared library's ABI number (its soname, libhfgit.so.N): raised on every change that breaks a program
# built against an older hfgit.h. 1: hf_commit_end gained its command_out argument (0.2.0).
ABI := 1
VERSION := $(shell sed -n 's/^\#define HFGIT_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$$/\2/p' include/hfgit.h | paste -sd.)

# Debian packages the build, tests and demo need (make deps installs whichever are missing). Test-only:
# python3 (a fault-injecting proxy in t_lib_retry), valgrind (t_agent_valgrind), cppcheck + clang-tidy
# (make lint), clang (make fuzz), time (/usr/bin/time for benchmarks' peak RSS), util-linux (script, for TTY tests),
# openssl (a test CA for HTTPS), nodejs (its npm installs s3rver, the S3 store of t_hub_s3: tests/npm_deps.sh).
DEB_PACKAGES := build-essential pkg-config libgit2-dev libcurl4-openssl-dev libssl-dev zlib1g-dev libjsmn-dev \
	libmicrohttpd-dev libcmocka-dev git git-lfs curl ca-certificates procps python3 valgrind cppcheck \
	clang-tidy clang time util-linux openssl nodejs

# pkg-config results, computed once on first use (after deps ran).
pkgcfg = $(shell pkg-config $(1) $(2))
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(call pkgcfg,--cflags,libgit2 libcurl openssl zlib libmicrohttpd))$(PKG_CFLAGS)
LIBS_COMMON = $(eval LIBS_COMMON := $$(call pkgcfg,--libs,libcurl openssl zlib) -lpthread)$(LIBS_COMMON)
LIBS_GIT2 = $(eval LIBS_GIT2 := $$(call pkgcfg,--libs,libgit2))$(LIBS_GIT2)
LIBS_MHD = $(eval LIBS_MHD := $$(call pkgcfg,--libs,libmicrohttpd))$(LIBS_MHD)
LIBS_CMOCKA = $(eval LIBS_CMOCKA := $$(call pkgcfg,--libs,cmocka))$(LIBS_CMOCKA)

WARN := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
OPT ?= -O2 -g
SANFLAGS := $(if $(SAN),-fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -DHFGIT_VERSION='"$(VERSION)"' -fPIC \
	-fvisibility=hidden $(OPT) $(WARN) $(SANFLAGS) \
	$(PKG_CFLAGS) -Iinclude $(EXTRA_CFLAGS)
LDFLAGS_ALL = $(SANFLAGS) $(EXTRA_LDFLAGS)

COMMON_SRC := $(sort $(wildcard common/*.c))
REPO_SRC := $(sort $(wildcard repo/*.c))
HUB_SRC := $(sort $(wildcard hub/*.c))
AGENT_SRC := $(sort $(wildcard agent/*.c))
CLI_SRC := $(sort $(wildcard cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBCOMMON := $(BUILD)/libhfcommon.a
LIBHFGIT_A := $(BUILD)/libhfgit.a
LIBHFGIT_SO := $(BUILD)/libhfgit.so
HUB_BIN := $(BUILD)/hfgit-hub
AGENT_BIN := $(BUILD)/git-lfs-hfmultipart
CLI_BIN := $(BUILD)/hfgit
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TOOL_SRC))

PROGRAMS := $(if $(HUB_SRC),$(HUB_BIN)) $(if $(AGENT_SRC),$(AGENT_BIN)) $(if $(CLI_SRC),$(CLI_BIN))
LIBRARIES := $(LIBCOMMON) $(if $(REPO_SRC),$(LIBHFGIT_A) $(LIBHFGIT_SO))

.PHONY: all deps check tests install uninstall clean bench lint fuzz demo format help
.DEFAULT_GOAL := all

all: $(LIBRARIES) $(PROGRAMS)

help:
	@sed -n '1,12p' Makefile

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# libhfgit carries common/ too, so a program outside the tree needs only -lhfgit.
$(LIBHFGIT_A): $(call obj,$(REPO_SRC) $(COMMON_SRC))
	rm -f $@ && ar rcs $@ $^

$(LIBHFGIT_SO): $(call obj,$(REPO_SRC) $(COMMON_SRC))
	$(CC) -shared -Wl,-soname,libhfgit.so.$(ABI) -o $@ $^ $(LDFLAGS_ALL) $(LIBS_GIT2) $(LIBS_COMMON)

$(HUB_BIN): $(call obj,$(HUB_SRC)) $(LIBCOMMON)
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(LIBS_MHD) $(LIBS_COMMON)

$(AGENT_BIN): $(call obj,$(AGENT_SRC)) $(LIBCOMMON)
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(LIBS_COMMON)

$(CLI_BIN): $(call obj,$(CLI_SRC)) $(if $(REPO_SRC),$(LIBHFGIT_A),$(LIBCOMMON))
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(LIBS_GIT2) $(LIBS_COMMON)

# Unit tests link everything they might need; the linker keeps what they use.
$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIBRARIES)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(if $(REPO_SRC),$(LIBHFGIT_A),$(LIBCOMMON)) $(LDFLAGS_ALL) \
		$(LIBS_CMOCKA) $(LIBS_MHD) $(if $(REPO_SRC),$(LIBS_GIT2)) $(LIBS_COMMON)

# test_hub_parse includes the hub's pure parser source directly (the hub is a program, not a library).
$(BUILD)/tests/test_hub_parse: hub/lfs_parse.c hub/lfs_parse.h

# Small helper programs used by integration tests and benchmarks.
$(BUILD)/tests/%: tests/tools/%.c $(LIBRARIES)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(if $(REPO_SRC),$(LIBHFGIT_A),$(LIBCOMMON)) $(LDFLAGS_ALL) \
		$(if $(REPO_SRC),$(LIBS_GIT2)) $(LIBS_COMMON)

tests: all $(UNIT_BINS) $(TOOL_BINS)

deps:
	@sh tests/deps.sh $(DEB_PACKAGES)
	@sh tests/npm_deps.sh

# Re-enter make after deps so that pkg-config is queried only once the packages exist.
check: deps
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) SAN=$(SAN) bash tests/run.sh

bench: deps
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) bash bench/run.sh

lint:
	@bash tests/lint.sh

fuzz:
	@bash tests/fuzz/run.sh

demo: deps
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) SAN=$(SAN) bash tests/demo.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/share/hfgit/git-hooks
	$(if $(PROGRAMS),install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/)
	install -m 755 git-hooks/* $(DESTDIR)$(PREFIX)/share/hfgit/git-hooks/
	install -m 644 $(LIBCOMMON) $(DESTDIR)$(PREFIX)/lib/
	$(if $(REPO_SRC),install -m 644 $(LIBHFGIT_A) $(DESTDIR)$(PREFIX)/lib/)
	$(if $(REPO_SRC),install -m 755 $(LIBHFGIT_SO) $(DESTDIR)$(PREFIX)/lib/libhfgit.so.$(ABI))
	$(if $(REPO_SRC),ln -sf libhfgit.so.$(ABI) $(DESTDIR)$(PREFIX)/lib/libhfgit.so)
	$(if $(wildcard include/hfgit.h),install -m 644 include/hfgit.h $(DESTDIR)$(PREFIX)/include/)
	$(if $(wildcard include/hfgit.hpp),install -m 644 include/hfgit.hpp $(DESTDIR)$(PREFIX)/include/)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' hfgit.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/hfgit.pc
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	for m in doc/man/*.1; do sed 's|@VERSION@|$(VERSION)|g' $$m > $(DESTDIR)$(PREFIX)/share/man/man1/$${m##*/}; done
	install -m 644 completion/hfgit.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/hfgit
	ln -sf hfgit $(DESTDIR)$(PREFIX)/share/bash-completion/completions/hfgit-hub

clean:
	rm -rf build build-*
