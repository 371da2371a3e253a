# proxywrap - see README.md.  Targets: all check check-fresh fuzz lint demo bench
# install deb clean
-include config.mak

VERSION  ?= 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
CLANG    ?= clang
BUILD    ?= build
# Where libshim.so is installed, and the same relative to PREFIX (the
# Debian package puts it under lib/<triplet>/proxywrap).
PKGLIBDIR ?= $(PREFIX)/lib/proxywrap
PKGLIBREL  = $(patsubst $(PREFIX)/%,%,$(PKGLIBDIR))

WARN     = -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation \
	   -Wstrict-prototypes -Wmissing-prototypes -Wvla
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -Iinclude -D_GNU_SOURCE \
	    -DPROXYWRAP_VERSION='"$(VERSION)"'
ifeq ($(WERROR),1)
CFLAGS   += -Werror
endif

# Pure modules: no sockets, no I/O (make lint checks).  Linked into the
# library, the tool, the unit tests and the fuzzers.
PURE_SRCS = src/buf.c src/epregs.c src/url.c src/config.c src/rules.c \
	    src/rulesimg.c src/socks5.c \
	    src/http_connect.c src/execcheck.c src/fromenv.c src/proxy_proto.c \
	    src/sessfmt.c src/dnsmsg.c
# The library: hooks and the modules that touch sockets.
LIB_SRCS  = $(PURE_SRCS) src/real.c src/shim.c src/log.c src/fdtab.c \
	    src/tunnel.c src/route.c src/async.c src/hooks_net.c \
	    src/addrinfo.c src/fakedns.c src/dns.c src/hooks_dns.c src/dnspolicy.c src/hooks_res.c src/addrnames.c \
	    src/hooks_exec.c src/hooks_syscall.c src/udp.c src/udp_send.c \
	    src/udp_recv.c src/ready.c src/ready_wait.c src/hooks_ready.c \
	    src/hooks_alias.c src/epregs_read.c \
	    src/sockfit.c src/session.c
TOOL_SRCS = tools/proxywrap.c tools/pw_session.c $(PURE_SRCS) src/explain.c \
	    src/summary.c src/log.c src/real.c

# c-ares is linked statically and kept private (node exports its own).
LIB_LDLIBS = -Wl,-Bstatic -lcares -Wl,-Bdynamic -ldl -lpthread

LIB_OBJS      = $(LIB_SRCS:%.c=$(BUILD)/pic/%.o)
ASAN_OBJS     = $(LIB_SRCS:%.c=$(BUILD)/asan/%.o)
TOOL_OBJS     = $(TOOL_SRCS:%.c=$(BUILD)/obj/%.o)
PURE_OBJS     = $(PURE_SRCS:%.c=$(BUILD)/obj/%.o)
# Unit tests also cover the fake-address table and addrinfo lists.
UNIT_OBJS     = $(PURE_OBJS) $(BUILD)/obj/src/addrinfo.o $(BUILD)/obj/src/fakedns.o \
		$(BUILD)/obj/src/real.o $(BUILD)/obj/src/log.o $(BUILD)/obj/src/sockfit.o \
		$(BUILD)/obj/src/epregs_read.o
UNIT_SRCS     = $(wildcard tests/unit/test_*.c)
UNIT_BINS     = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS     = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS     = $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
REPLAY_BINS   = $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/replay/%)
TESTBIN_SRCS  = $(wildcard tests/bin/*.c)
TESTBIN_BINS  = $(TESTBIN_SRCS:tests/bin/%.c=$(BUILD)/bin/%)

SHLIB_FLAGS = -shared -fvisibility=hidden \
	      -Wl,--version-script=src/libshim.map -Wl,-z,defs \
	      -Wl,--exclude-libs,ALL

.PHONY: all check unit fuzz fuzz-bins replay-bins lint demo bench install \
	deb clean asan testbins check-fresh
all: $(BUILD)/libshim.so $(BUILD)/proxywrap

# Before the first compile, one clear word when the build dependencies are
# missing.  Plain make installs nothing; make demo and make check do.
.PHONY: have-build-deps
have-build-deps:
	@echo '#include <ares.h>' | $(CC) -E -x c - >/dev/null 2>&1 || { \
	    echo "make: $(CC) cannot compile against c-ares (ares.h missing?)." >&2; \
	    echo "make: as root, run: sh tools/deps-build.sh" >&2; \
	    echo "make: (make demo and make check run it themselves)" >&2; \
	    exit 1; }
$(LIB_OBJS) $(ASAN_OBJS) $(TOOL_OBJS) $(UNIT_OBJS): | have-build-deps

$(BUILD)/pic/%.o: %.c $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@
$(BUILD)/asan/%.o: %.c $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	    -fPIC -fvisibility=hidden -c $< -o $@
$(BUILD)/obj/%.o: %.c $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DPROXYWRAP_LIBDIR='"$(PKGLIBDIR)"' \
	    -DPROXYWRAP_LIBDIR_REL='"$(PKGLIBREL)"' -c $< -o $@

$(BUILD)/libshim.so: $(LIB_OBJS) src/libshim.map
	$(CC) $(CFLAGS) $(SHLIB_FLAGS) -o $@ $(LIB_OBJS) $(LIB_LDLIBS)
# The sanitizer build: load it with LD_PRELOAD="$(libasan) $(this)".
$(BUILD)/asan/libshim.so: $(ASAN_OBJS) src/libshim.map
	$(CC) $(CFLAGS) -fsanitize=address,undefined -shared -fvisibility=hidden \
	    -Wl,--version-script=src/libshim.map -o $@ $(ASAN_OBJS) $(LIB_LDLIBS)
asan: $(BUILD)/asan/libshim.so

$(BUILD)/proxywrap: $(TOOL_OBJS)
	$(CC) $(CFLAGS) -o $@ $(TOOL_OBJS)

# Unit tests (cmocka): each links the pure modules.
$(BUILD)/tests/%: tests/unit/%.c $(UNIT_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes -o $@ $< $(UNIT_OBJS) -lcmocka \
	    -lpthread
unit: $(UNIT_BINS)

# Fuzz targets: libFuzzer binaries, and plain replay drivers that run each
# corpus file from an exact-size copy (so ASan sees any over-read).
FUZZ_CFLAGS = -std=gnu11 -g -O1 -Iinclude -D_GNU_SOURCE \
	      -fsanitize=fuzzer,address,undefined
$(BUILD)/fuzz/%: tests/fuzz/%.c $(PURE_SRCS)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(PURE_SRCS)
$(BUILD)/replay/%: tests/fuzz/%.c tests/fuzz/replay.c $(PURE_SRCS)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -g -O1 -Iinclude -D_GNU_SOURCE \
	    -fsanitize=address,undefined -o $@ $< tests/fuzz/replay.c $(PURE_SRCS)
FUZZ_SECONDS ?= 60
fuzz-bins: $(FUZZ_BINS)
replay-bins: $(REPLAY_BINS)
fuzz: $(FUZZ_BINS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(abspath $(BUILD))

# Small C programs the integration tests run under the shim.
$(BUILD)/bin/%: tests/bin/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes -o $@ $< -lpthread
testbins: $(TESTBIN_BINS)
$(BUILD)/bin/oddargs: $(wildcard tests/bin/oddargs_*.h)

check:
	bash tests/run.sh

# make demo as the first command in a debootstrap'd Debian 12 root (network,
# about a minute the first time; make check runs it with PW_FRESH=1).
check-fresh:
	bash tests/fresh-root.sh

lint:
	sh tests/lint.sh

# The dependencies first, then the build: as the first command on a fresh
# machine, there is no compiler or ares.h yet (tests/newcomer.sh checks it).
demo:
	sh tools/deps-build.sh --demo
	$(MAKE) all
	BUILD=$(BUILD) bash tools/demo.sh

bench: all
	bash bench/bench.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PKGLIBDIR) \
	    $(DESTDIR)$(PREFIX)/share/doc/proxywrap
	install -m 755 $(BUILD)/proxywrap $(DESTDIR)$(PREFIX)/bin/proxywrap
	install -m 755 $(BUILD)/libshim.so $(DESTDIR)$(PKGLIBDIR)/libshim.so
	install -m 644 shim.conf.example README.md $(DESTDIR)$(PREFIX)/share/doc/proxywrap/
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 644 man/proxywrap.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/shim.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 644 completions/proxywrap \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/proxywrap

# The Debian package (debian/), built from a copy of the tracked files in
# $(BUILD)/deb so that the tree and its build/ stay as they are; the .deb
# lands in $(BUILD)/deb; lintian's word on it follows when it is installed.
deb:
	sh tools/deps-build.sh debhelper
	sh tools/mkdeb.sh $(BUILD)/deb

clean:
	rm -rf $(BUILD)
