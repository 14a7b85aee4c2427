# The libFuzzer builds (driven by tests/fuzz/run.sh; kept out of the top
# Makefile).  The library is compiled with clang, coverage instrumented
# (-fsanitize=fuzzer-no-link) and with ASan/UBSan, into $(FB)/obj; each
# target links every object directly, so handlers that are only weakly
# referenced from the operation table are in (an archive would drop them).
#
#   make -f tests/fuzz/fuzz.mk FB=build/fuzz -j2

FB       ?= build/fuzz
CC       := clang
PKGS     := jansson sqlite3 gnutls
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined
CFLAGS   := -std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $(SAN) \
            -Wall -Wextra -Wno-unused-parameter \
            $(shell pkg-config --cflags $(PKGS)) -MMD -MP
LIBS     := $(shell pkg-config --libs $(PKGS)) -lpthread -lm

SRCS     := $(sort $(wildcard api/*.c api/gen/*.c storage/*.c))
OBJS     := $(patsubst %.c,$(FB)/obj/%.o,$(SRCS))
TARGETS  := query json sigv4 api
BINS     := $(patsubst %,$(FB)/fuzz_%,$(TARGETS))

.PHONY: all
all: $(BINS)

$(FB)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC(fuzz) $<"; $(CC) $(CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FB)/fuzz_%: $(FB)/obj/tests/fuzz/fuzz_%.o $(OBJS)
	@echo "  LD(fuzz) $@"; $(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

-include $(OBJS:.o=.d) $(patsubst %,$(FB)/obj/tests/fuzz/fuzz_%.d,$(TARGETS))
