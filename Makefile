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

# The folders are the layers (README, "Layout"): src/core is pure code
# (no sockets, no process state; make lint checks), linked into the
# library, proxywrap, the unit tests and the fuzzers; src/base the real-call
# table and the log, which both roles link; src/shim the in-process library,
# its hooks in src/shim/hooks; src/session proxywrap.
PURE_SRCS = $(sort $(wildcard src/core/*.c))
BASE_SRCS = $(sort $(wildcard src/base/*.c))
LIB_SRCS  = $(PURE_SRCS) $(BASE_SRCS) $(sort $(wildcard src/shim/*.c)) \
	    $(sort $(wildcard src/shim/hooks/*.c))
# The tunnel engine and what it needs, for the supervisor's via connects
# (no hooks, no routing; fdtab.c for the max_conns leases' references).
TUN_SRCS  = $(sort $(wildcard src/shim/tunnel*.c)) src/shim/proxyhealth.c \
	    src/shim/sockfit.c src/shim/epregs_read.c src/shim/fakedns.c \
	    src/shim/addrnames.c src/shim/guard.c src/shim/fdtab.c
TOOL_SRCS = $(PURE_SRCS) $(BASE_SRCS) $(sort $(wildcard src/session/*.c)) \
	    $(TUN_SRCS)

# c-ares is linked statically and kept private (node exports its own).
LIB_LDLIBS = -Wl,-Bstatic -lcares -Wl,-Bdynamic -ldl -lpthread
# OpenSSL and nghttp2 (its relay for https proxies) and GSSAPI (HTTP
# Negotiate tokens, made for the tree on the control socket) only in
# proxywrap, never in the library: tests/lint.sh checks.  All three are
# loaded when a session needs them (src/session/optlib.c), not linked:
# that cost every start of proxywrap some 3 ms.
TOOL_LDLIBS = -ldl -lpthread

HDRS          = $(wildcard include/*.h src/*/*.h src/shim/hooks/*.h)
LIB_OBJS      = $(LIB_SRCS:%.c=$(BUILD)/pic/%.o)
ASAN_OBJS     = $(LIB_SRCS:%.c=$(BUILD)/asan/%.o)
TOOL_OBJS     = $(TOOL_SRCS:%.c=$(BUILD)/obj/%.o)
PURE_OBJS     = $(PURE_SRCS:%.c=$(BUILD)/obj/%.o)
# Unit tests also cover the fake-address table, the socket fit and the
# report (--summary, --learn).
UNIT_OBJS     = $(PURE_OBJS) $(BASE_SRCS:%.c=$(BUILD)/obj/%.o) \
		$(BUILD)/obj/src/shim/fakedns.o $(BUILD)/obj/src/shim/sockfit.o \
		$(BUILD)/obj/src/shim/epregs_read.o \
		$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard src/session/summary*.c \
		  src/session/learn*.c))
UNIT_SRCS     = $(wildcard tests/unit/test_*.c)
UNIT_BINS     = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS     = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS     = $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
REPLAY_BINS   = $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/replay/%)
TESTBIN_SRCS  = $(wildcard tests/bin/*.c)
TESTBIN_BINS  = $(TESTBIN_SRCS:tests/bin/%.c=$(BUILD)/bin/%)

SHLIB_FLAGS = -shared -fvisibility=hidden \
	      -Wl,--version-script=src/shim/libshim.map -Wl,-z,defs \
	      -Wl,--exclude-libs,ALL

.PHONY: all check unit fuzz fuzz-bins replay-bins lint demo bench install \
	deb clean asan testbins check-fresh
all: $(BUILD)/libshim.so $(BUILD)/proxywrap $(BUILD)/proxywrap-dl

# Before the first compile, one clear word when the build dependencies are
# missing.  Plain make installs nothing; make demo and make check do.
.PHONY: have-build-deps
have-build-deps:
	@printf '#include <ares.h>\n#include <gssapi/gssapi_krb5.h>\n' | \
	    $(CC) -E -x c - >/dev/null 2>&1 || { \
	    echo "make: $(CC) cannot compile against c-ares and MIT krb5's GSSAPI (ares.h or gssapi/gssapi_krb5.h missing?)." >&2; \
	    echo "make: as root, run: sh tools/deps-build.sh" >&2; \
	    echo "make: (make demo and make check run it themselves)" >&2; \
	    exit 1; }
$(LIB_OBJS) $(ASAN_OBJS) $(TOOL_OBJS) $(UNIT_OBJS): | have-build-deps

$(BUILD)/pic/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@
$(BUILD)/asan/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	    -fPIC -fvisibility=hidden -c $< -o $@
# REAL_DIRECT: in proxywrap (and the unit tests) the real calls are libc's
# functions, bound by the linker: no hooks there, no dlsym (src/base/real.c).
$(BUILD)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DREAL_DIRECT -DPROXYWRAP_LIBDIR='"$(PKGLIBDIR)"' \
	    -DPROXYWRAP_LIBDIR_REL='"$(PKGLIBREL)"' -c $< -o $@

$(BUILD)/libshim.so: $(LIB_OBJS) src/shim/libshim.map
	$(CC) $(CFLAGS) $(SHLIB_FLAGS) -o $@ $(LIB_OBJS) $(LIB_LDLIBS)
# The sanitizer build: load it with LD_PRELOAD="$(libasan) $(this)".
$(BUILD)/asan/libshim.so: $(ASAN_OBJS) src/shim/libshim.map
	$(CC) $(CFLAGS) -fsanitize=address,undefined -shared -fvisibility=hidden \
	    -Wl,--version-script=src/shim/libshim.map -o $@ $(ASAN_OBJS) $(LIB_LDLIBS)
asan: $(BUILD)/asan/libshim.so

# The supervisor's DNS responder forwards local names with c-ares.
# proxywrap-dl: proxywrap linked dynamically, for the sessions whose
# libraries are loaded when needed (src/session/optlib.h: https and
# Negotiate proxies); installed next to libshim.so.
$(BUILD)/proxywrap-dl: $(TOOL_OBJS)
	$(CC) $(CFLAGS) -o $@ $(TOOL_OBJS) -Wl,-Bstatic -lcares -Wl,-Bdynamic \
	    $(TOOL_LDLIBS)
# proxywrap itself is a static PIE (STATIC=0: the same as proxywrap-dl):
# no loader, no libc to map, relocate and bind before main, which was most
# of its start (bench/startup.sh).  It knows the system's loader from
# proxywrap-dl's PT_INTERP (src/base/execfile.c judges commands by it).
# The linker's notes on getaddrinfo and dlopen in a static program are
# left out: getaddrinfo (--explain's local names) uses the built-in
# files and dns, and dlopen is proxywrap-dl's.
STATIC ?= 1
ifeq ($(STATIC),1)
$(BUILD)/gen/static_loader.c: $(BUILD)/proxywrap-dl
	@mkdir -p $(dir $@)
	interp=$$(readelf -lW $(BUILD)/proxywrap-dl | \
	    sed -n 's/.*Requesting program interpreter: \(.*\)]$$/\1/p'); \
	    [ -n "$$interp" ] && printf '%s\n' \
	    '/* generated by make from proxywrap-dl (src/base/execfile.c) */' \
	    "const char pw_static_loader[] = \"$$interp\";" >$@
$(BUILD)/proxywrap: $(TOOL_OBJS) $(BUILD)/gen/static_loader.c
	$(CC) $(CFLAGS) -static-pie -Wl,--no-warnings -o $@ $(TOOL_OBJS) \
	    $(BUILD)/gen/static_loader.c -lcares $(TOOL_LDLIBS)
else
$(BUILD)/proxywrap: $(BUILD)/proxywrap-dl
	cp $< $@
endif

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
	BUILD=$(BUILD) sh tests/lint.sh

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
	install -m 755 $(BUILD)/proxywrap-dl $(DESTDIR)$(PKGLIBDIR)/proxywrap-dl
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
