# ecslocal — build, run, test, bench.
#
#   make          build build/release/ecslocal
#   make run      install what is missing (apt), build, start on 127.0.0.1:4566
#   make test     install what is missing (apt), build, run every test
#   make bench    measure ecslocal and moto_server side by side
#   make models   regenerate api/model/*.json and api/gen/* from botocore

CC       ?= cc
# Build directory; helpers working side by side each use their own.
B        ?= build
.DEFAULT_GOAL := all
PKGS     := libmicrohttpd jansson sqlite3 gnutls libmnl
# libcurl, ldns and libnftables: headers only; they are loaded when first
# needed (server/dl.h), so a server start maps none of them.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libcurl ldns libnftables 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2 -Wno-format-nonliteral
CFLAGS_COMMON := -std=c17 -D_GNU_SOURCE $(WARN) $(PKG_CFLAGS) -MMD -MP
LDLIBS   := $(PKG_LIBS) -lpthread -lm

LIB_SRCS := $(sort $(wildcard api/*.c api/gen/*.c storage/*.c) $(filter-out server/main.c server/shim_binary.c,$(wildcard server/*.c)))
SHIM_SRCS := server/shim_binary.c server/shim.c server/placeholder.c server/log.c
MAIN_SRC := server/main.c
UNIT_SRCS := $(wildcard tests/unit/test_*.c)

# Three builds side by side: release, sanitizers, and fuzzing.
define build_rules
$(1)_OBJS := $$(patsubst %.c,$(B)/$(1)/%.o,$$(LIB_SRCS))
$(B)/$(1)/%.o: %.c
	@mkdir -p $$(dir $$@)
	@echo "  CC $$<"; $$($(1)_CC) $$(CFLAGS_COMMON) $$($(1)_CFLAGS) -c $$< -o $$@
$(B)/$(1)/libecsl.a: $$($(1)_OBJS)
	@rm -f $$@
	ar rcs $$@ $$^
# --whole-archive: handlers are only weakly referenced by the operation
# table, and a weak reference alone does not pull an archive member in.
$(B)/$(1)/ecslocal: $(B)/$(1)/server/main.o $(B)/$(1)/libecsl.a
	$$($(1)_CC) $$($(1)_CFLAGS) -o $$@ $(B)/$(1)/server/main.o -Wl,--whole-archive $(B)/$(1)/libecsl.a -Wl,--no-whole-archive $$(LDLIBS)
$(B)/$(1)/ecslocal-shim: $$(patsubst %.c,$(B)/$(1)/%.o,$$(SHIM_SRCS))
	$$($(1)_CC) $$($(1)_CFLAGS) -o $$@ $$^ -ljansson
$(B)/$(1)/unit_tests: $$(patsubst %.c,$(B)/$(1)/%.o,$$(UNIT_SRCS)) $(B)/$(1)/libecsl.a
	$$($(1)_CC) $$($(1)_CFLAGS) -o $$@ $$(patsubst %.c,$(B)/$(1)/%.o,$$(UNIT_SRCS)) -Wl,--whole-archive $(B)/$(1)/libecsl.a -Wl,--no-whole-archive $$(LDLIBS)
-include $$($(1)_OBJS:.o=.d) $(B)/$(1)/server/main.d $(B)/$(1)/server/shim_binary.d $$(patsubst %.c,$(B)/$(1)/%.d,$$(UNIT_SRCS))
endef

release_CC     := $(CC)
release_CFLAGS := -O2 -g
asan_CC        := $(CC)
asan_CFLAGS    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
$(eval $(call build_rules,release))
$(eval $(call build_rules,asan))

.PHONY: all run test deps unit e2e asan fuzz bench models clean check-models

all: $(B)/release/ecslocal $(B)/release/ecslocal-shim

deps:
	@tests/install-deps.sh

run: deps $(B)/release/ecslocal $(B)/release/ecslocal-shim
	./$(B)/release/ecslocal serve $(ARGS)

unit: $(B)/release/unit_tests $(B)/asan/unit_tests
	./$(B)/release/unit_tests
	./$(B)/asan/unit_tests

asan: $(B)/asan/ecslocal $(B)/asan/ecslocal-shim

fuzz:
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

e2e: $(B)/release/ecslocal $(B)/release/ecslocal-shim
	ECSLOCAL_BIN=$(CURDIR)/$(B)/release/ecslocal tests/e2e/run.sh

test: deps
	@tests/run.sh

bench: deps $(B)/release/ecslocal $(B)/release/ecslocal-shim
	@ECSLOCAL_BIN=$(CURDIR)/$(B)/release/ecslocal bench/run.sh

models:
	python3 api/model/gen.py --botocore auto

check-models:
	python3 api/model/gen.py && git diff --exit-code api/gen

clean:
	rm -rf $(B)
