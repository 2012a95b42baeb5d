# vmsight build.  Sources are discovered by directory, so a new module only
# needs a file in the right folder:
#   src/<layer>/**.c  -> libvmsight.a        src/cli/*.c -> vmsight
#   tests/unit/test_*.c -> one test binary each, linked with the library
#   fuzz/fuzz_*.c     -> libFuzzer harnesses (make fuzz, clang)
#   bench/*.c         -> benchmark helpers (make bench)
#   tools/*.c         -> small programs tests and benches use (built by all)
# SAN=1 builds everything with ASan+UBSan into build-san/.

CC      ?= cc
SAN     ?= 0
# libmicrohttpd (the exporter's HTTP server), yaml-0.1 (its --web.config.file)
# and libcrypt (bcrypt for basic auth) serve `vmsight exporter`; liblzma
# writes `vmsight isf -o FILE.json.xz`.
PKGS    := libbpf libelf libdw json-c libtraceevent libmicrohttpd yaml-0.1 libcrypt liblzma
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lbpf -lelf -ldw -lz -ljson-c -ltraceevent -lmicrohttpd -lyaml -lcrypt -llzma)
# Xen (the xen:DOMID source) is optional: built when libxen-dev is there,
# unless XEN=0.  src/memory/xen.c says "built without Xen support" otherwise.
# xenstore gives Xen domains their names (top, --all); the static lab test
# binaries link the Xen libraries' archives (XEN_STATIC_LIBS, in link order).
XEN_PKGS := xencontrol xenforeignmemory xenguest xentoollog xenstore
XEN ?= $(shell pkg-config --exists $(XEN_PKGS) 2>/dev/null && echo 1 || echo 0)
ifeq ($(XEN),1)
PKG_CFLAGS += $(shell pkg-config --cflags $(XEN_PKGS)) -DVMS_HAVE_XEN
PKG_LIBS   += $(shell pkg-config --libs $(XEN_PKGS))
XEN_STATIC_LIBS := -lxenstore -lxenguest -lxenctrl -lxenforeignmemory -lxendevicemodel \
                   -lxengnttab -lxenevtchn -lxencall -lxentoolcore -lxentoollog
else ifeq ($(filter clean,$(MAKECMDGOALS)),)
$(info vmsight: building without Xen support (libxen-dev not found, or XEN=0): xen:DOMID will say so)
endif

ifeq ($(SAN),1)
BUILD   ?= build-san
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
else
BUILD   ?= build
OPT     := -O2 -g
endif

CFLAGS  := -std=c11 -D_GNU_SOURCE $(OPT) -Wall -Wextra -Werror -Wno-missing-field-initializers \
           -Iinclude -Isrc $(PKG_CFLAGS) -MMD -MP $(EXTRA_CFLAGS)
LDFLAGS := $(OPT) $(EXTRA_LDFLAGS)
LDLIBS  := $(PKG_LIBS) -lncursesw -lm

LIB_SRCS  := $(shell find src -name '*.c' -not -path 'src/cli/*' | sort)
CLI_SRCS  := $(sort $(wildcard src/cli/*.c))
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))
BENCH_SRCS:= $(sort $(wildcard bench/*.c))
TOOL_SRCS := $(sort $(wildcard tools/*.c))

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_BINS:= $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
TOOL_BINS := $(TOOL_SRCS:tools/%.c=$(BUILD)/tools/%)
LIB       := $(BUILD)/libvmsight.a
CLI       := $(BUILD)/vmsight
# Unit tests that also run inside a lab guest (busybox, no shared
# libraries): linked statically, normal build only.
STATIC_TESTS := test_actuator
ifneq ($(SAN),1)
STATIC_BINS := $(STATIC_TESTS:%=$(BUILD)/tests/static/%)
endif

.PHONY: all lib cli tests test test-xen unit-tests demo fuzz bench clean deps install-deps check-deps
all: $(CLI) $(TEST_BINS) $(TOOL_BINS) $(STATIC_BINS)

lib: $(LIB)
cli: $(CLI)
tests: $(TEST_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(CLI): $(CLI_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/static/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -static -o $@ $< $(LIB) $(LDFLAGS) -ljson-c $(XEN_STATIC_LIBS) -lpthread

$(BUILD)/tools/%: tools/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

# libFuzzer harnesses: clang, ASan+UBSan.  The library is compiled once
# (with coverage instrumentation) and every harness links against it.
FUZZ_BUILD := build-fuzz
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
               -Iinclude -Isrc $(PKG_CFLAGS) -Wall -Wextra -Werror -Wno-missing-field-initializers
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/%.o)
# Xen's public headers use anonymous unions: GNU C for the files that include them.
XEN_OBJS := src/memory/xen.o src/host/xendom.o src/host/actuator_xen.o
$(XEN_OBJS:%=$(BUILD)/%): CFLAGS += -std=gnu11
$(XEN_OBJS:%=$(FUZZ_BUILD)/%): FUZZ_CFLAGS += -std=gnu11
FUZZ_LIB := $(FUZZ_BUILD)/libvmsight-fuzz.a
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=$(FUZZ_BUILD)/%)
fuzz: $(FUZZ_BINS)
$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^
$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(PKG_LIBS) -lm

bench: $(CLI) $(BENCH_BINS)

# The README's two commands.
deps:
	./scripts/install-deps

demo: deps
	$(MAKE) all
	./scripts/demo

test: deps
	$(MAKE) all
	$(MAKE) SAN=1 all
	./tests/run

# Only the Xen lab (Xen + dom0 + a PV domU under QEMU); `make test` runs it too.
test-xen: deps
	$(MAKE) all
	$(MAKE) SAN=1 all
	VMSIGHT_TESTS='^tests/xen/' ./tests/run

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(FUZZ_LIB_OBJS:.o=.d)
