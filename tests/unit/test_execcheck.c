/*
 * test_execcheck.c - judging executables from their first bytes: ELF with
 * and without PT_INTERP (32/64-bit, both byte orders), scripts, garbage,
 * truncation at every offset, and program headers beyond the buffer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "execcheck.h"

/* A minimal ELF64 LE header with phnum headers at phoff (56 bytes each). */
static size_t
elf64(uint8_t *b, size_t cap, uint16_t type, uint64_t phoff,
      const uint32_t *ptypes, uint16_t phnum)
{
	size_t i, end = phoff + 56u * phnum;

	memset(b, 0, cap);
	memcpy(b, "\177ELF\2\1\1", 7);
	b[16] = (uint8_t)type;
	for (i = 0; i < 8; i++)
		b[32 + i] = (uint8_t)(phoff >> (8 * i));
	b[54] = 56;
	b[56] = (uint8_t)phnum;
	b[57] = (uint8_t)(phnum >> 8);
	for (i = 0; i < phnum && phoff + 56 * i + 4 <= cap; i++) {
		uint8_t *h = b + phoff + 56 * i;

		h[0] = (uint8_t)ptypes[i];
		h[1] = (uint8_t)(ptypes[i] >> 8);
	}
	return end;
}

/* ELF32 big-endian. */
static size_t
elf32be(uint8_t *b, size_t cap, const uint32_t *ptypes, uint16_t phnum)
{
	size_t i, phoff = 52;

	memset(b, 0, cap);
	memcpy(b, "\177ELF\1\2\1", 7);
	b[17] = 2;	/* ET_EXEC, big-endian */
	b[31] = (uint8_t)phoff;
	b[43] = 32;
	b[45] = (uint8_t)phnum;
	for (i = 0; i < phnum; i++)
		b[phoff + 32 * i + 3] = (uint8_t)ptypes[i];
	return phoff + 32u * phnum;
}

static int
judge(const uint8_t *p, size_t len, struct exec_image *img)
{
	size_t need = 0;
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, p, len);
	rc = exec_parse(copy, len, &need, img);
	free(copy);
	return rc;
}

static void
test_elf_kinds(void **state)
{
	uint8_t b[1024];
	const uint32_t dyn[] = { 6, 3, 1, 1, 2 };	/* PHDR INTERP LOAD.. */
	const uint32_t stat[] = { 1, 1, 4, 7 };		/* LOAD LOAD NOTE TLS */
	const uint32_t pie[] = { 6, 1, 2 };		/* static-pie: DYNAMIC */
	struct exec_image img;
	size_t n;

	(void)state;
	n = elf64(b, sizeof(b), 3, 64, dyn, 5);
	assert_int_equal(judge(b, n, &img), PARSE_OK);
	assert_int_equal(img.kind, EXEC_ELF_DYNAMIC);
	n = elf64(b, sizeof(b), 2, 64, stat, 4);
	assert_int_equal(judge(b, n, &img), PARSE_OK);
	assert_int_equal(img.kind, EXEC_ELF_STATIC);
	n = elf64(b, sizeof(b), 3, 64, pie, 3);
	assert_int_equal(judge(b, n, &img), PARSE_OK);
	assert_int_equal(img.kind, EXEC_ELF_STATIC);
	n = elf32be(b, sizeof(b), dyn, 5);
	assert_int_equal(judge(b, n, &img), PARSE_OK);
	assert_int_equal(img.kind, EXEC_ELF_DYNAMIC);
	n = elf32be(b, sizeof(b), stat, 4);
	assert_int_equal(judge(b, n, &img), PARSE_OK);
	assert_int_equal(img.kind, EXEC_ELF_STATIC);
	/* a relocatable object or core file: not an executable */
	n = elf64(b, sizeof(b), 1, 64, stat, 4);
	assert_int_equal(judge(b, n, &img), PARSE_OK);
	assert_int_equal(img.kind, EXEC_OTHER);
	/* wrong phentsize, no headers */
	n = elf64(b, sizeof(b), 2, 64, stat, 4);
	b[54] = 40;
	assert_int_equal(judge(b, n, &img), PARSE_OK);
	assert_int_equal(img.kind, EXEC_OTHER);
	n = elf64(b, sizeof(b), 2, 64, stat, 0);
	assert_int_equal(judge(b, 64, &img), PARSE_OK);
	assert_int_equal(img.kind, EXEC_OTHER);
}

/* Headers that lie beyond the buffer: MORE with the exact shortfall. */
static void
test_elf_more(void **state)
{
	uint8_t b[2048];
	const uint32_t dyn[] = { 6, 3, 1 };
	struct exec_image img;
	size_t n, need = 0;

	(void)state;
	n = elf64(b, sizeof(b), 3, 1000, dyn, 3);
	assert_int_equal(exec_parse(b, 500, &need, &img), PARSE_MORE);
	assert_int_equal(need, n - 500);
	assert_int_equal(exec_parse(b, n, &need, &img), PARSE_OK);
	assert_int_equal(img.kind, EXEC_ELF_DYNAMIC);
}

/* Cut at every offset: never a crash, never a wrong "static". */
static void
test_elf_truncated(void **state)
{
	uint8_t b[512];
	const uint32_t dyn[] = { 6, 1, 3 };
	struct exec_image img;
	size_t n, i;
	int rc;

	(void)state;
	n = elf64(b, sizeof(b), 3, 64, dyn, 3);
	for (i = 1; i < n; i++) {
		rc = judge(b, i, &img);
		if (rc == PARSE_MORE)
			continue;
		assert_int_equal(rc, PARSE_OK);
		assert_int_equal(img.kind, EXEC_OTHER);
	}
	assert_int_equal(judge(b, 0, &img), PARSE_ERR);
}

static void
test_scripts(void **state)
{
	static const struct {
		const char *text;
		int kind;
		const char *interp;
	} cases[] = {
		{ "#!/bin/sh\necho hi\n", EXEC_SCRIPT, "/bin/sh" },
		{ "#! /usr/bin/env python3\n", EXEC_SCRIPT, "/usr/bin/env" },
		{ "#!\t/bin/bash -e\n", EXEC_SCRIPT, "/bin/bash" },
		{ "#!/bin/sh", EXEC_SCRIPT, "/bin/sh" },
		{ "#!\n", EXEC_OTHER, "" },
		{ "#!   ", EXEC_OTHER, "" },
		{ "#", EXEC_OTHER, "" },
		{ "echo hi\n", EXEC_OTHER, "" },
		{ "\177EL", EXEC_OTHER, "" },
	};
	struct exec_image img;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(judge((const uint8_t *)cases[i].text,
				       strlen(cases[i].text), &img), PARSE_OK);
		assert_int_equal(img.kind, cases[i].kind);
		assert_string_equal(img.interp, cases[i].interp);
	}
}

/* A "#!" line longer than the kernel reads is cut, never overflows. */
static void
test_script_long(void **state)
{
	uint8_t b[EXEC_INTERP_MAX * 2];
	struct exec_image img;

	(void)state;
	memset(b, 'a', sizeof(b));
	b[0] = '#';
	b[1] = '!';
	b[2] = '/';
	assert_int_equal(judge(b, sizeof(b), &img), PARSE_OK);
	assert_int_equal(img.kind, EXEC_SCRIPT);
	assert_true(strlen(img.interp) < EXEC_INTERP_MAX);
}

/* The file-level check on real files of this system. */
static void
test_files(void **state)
{
	char interp[EXEC_INTERP_MAX];

	(void)state;
	assert_int_equal(exec_check_path("/bin/sh", interp, sizeof(interp)),
			 EXEC_FOLLOWS);
	assert_true(exec_check_path("/nonexistent/x", interp,
				    sizeof(interp)) < 0);
	assert_int_equal(exec_check_path("/etc/hostname", interp,
					 sizeof(interp)), EXEC_FOLLOWS);
}

static void
test_verdict(void **state)
{
	const char *text = "allow_exec /opt/static-tool /usr/bin/sudo\n";
	struct config *cfg = cfg_parse("t.conf", text, strlen(text));
	char msg[512];

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(cfg->nerrs, 0);
	assert_int_equal(cfg->nallow_exec, 2);
	assert_int_equal(exec_verdict(cfg, true, "/opt/static-tool",
				      EXEC_WHY_STATIC, "", msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "t.conf:1 allow_exec /opt/static-tool"));
	assert_int_equal(exec_verdict(cfg, true, "/opt/other",
				      EXEC_WHY_SETUID, "", msg, sizeof(msg)),
			 -EACCES);
	assert_string_equal(msg, "refused exec of /opt/other: setuid: the shim "
			    "cannot follow it (strict mode; allow with "
			    "allow_exec /opt/other)");
	assert_int_equal(exec_verdict(cfg, false, "/opt/other",
				      EXEC_WHY_FCAPS, "", msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "file capabilities"));
	cfg_free(cfg);
	text = "allow_exec relative/path\nallow_exec\n";
	cfg = cfg_parse("t.conf", text, strlen(text));
	assert_int_equal(cfg->nerrs, 2);
	cfg_free(cfg);
}

/* The machine and word size, and the program interpreter's path. */
static void
test_elf_foreign_and_loader(void **state)
{
	static const uint32_t interp[] = { 3 /* PT_INTERP */ };
	struct exec_image img;
	uint8_t b[512];
	size_t need = 0, len;
	const char path[] = "/opt/own/ld.so";

	(void)state;
	len = elf64(b, sizeof(b), 3, 64, interp, 1);
	b[18] = 62;				/* EM_X86_64 */
	b[64 + 8] = 200;			/* p_offset */
	b[64 + 32] = sizeof(path);		/* p_filesz, with the NUL */
	memcpy(b + 200, path, sizeof(path));
	assert_int_equal(exec_parse(b, sizeof(b), &need, &img), PARSE_OK);
	assert_int_equal(img.kind, EXEC_ELF_DYNAMIC);
	assert_string_equal(img.interp, path);
#if defined(__x86_64__)
	assert_false(img.foreign);
	b[18] = 183;				/* EM_AARCH64 */
	assert_int_equal(exec_parse(b, sizeof(b), &need, &img), PARSE_OK);
	assert_true(img.foreign);
#endif
	/* a path that runs past the bytes read is not taken */
	b[64 + 32] = 100;
	assert_int_equal(exec_parse(b, 250, &need, &img), PARSE_OK);
	assert_string_equal(img.interp, "");
	(void)len;
	/* a 32-bit program is foreign to a 64-bit build */
	len = elf32be(b, sizeof(b), interp, 1);
	assert_int_equal(exec_parse(b, len, &need, &img), PARSE_OK);
	assert_int_equal(img.kind, EXEC_ELF_DYNAMIC);
	if (sizeof(void *) == 8)
		assert_true(img.foreign);
}

/* Go's build-id note (name "Go", type 4) in a PT_NOTE segment. */
static void
test_elf_go_note(void **state)
{
	static const uint32_t hdrs[] = { 3 /* PT_INTERP */, 4 /* PT_NOTE */ };
	static const uint8_t gnu[] = { 4, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0,
				       'G', 'N', 'U', 0, 1, 2, 3, 4 };
	static const uint8_t go[] = { 4, 0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0,
				      'G', 'o', 0, 0, 'a', 'b', 'c', 'd',
				      'e', 'f', 'g', 'h' };
	struct exec_image img;
	uint8_t b[1024];
	size_t need = 0, ph = 64 + 56;

	(void)state;
	memset(b, 0, sizeof(b));
	elf64(b, sizeof(b), 3, 64, hdrs, 2);
	/* a GNU note, then Go's, at 400 */
	memcpy(b + 400, gnu, sizeof(gnu));
	memcpy(b + 400 + sizeof(gnu), go, sizeof(go));
	b[ph + 8] = 400 & 0xff;
	b[ph + 9] = 400 >> 8;
	b[ph + 32] = sizeof(gnu) + sizeof(go);
	assert_int_equal(exec_parse(b, sizeof(b), &need, &img), PARSE_OK);
	assert_true(img.go);
	assert_int_equal(need, 0);
	/* the segment past the bytes given: more are asked for */
	assert_int_equal(exec_parse(b, 410, &need, &img), PARSE_OK);
	assert_false(img.go);
	assert_int_equal(need, 400 + sizeof(gnu) + sizeof(go) - 410);
	assert_int_equal(img.kind, EXEC_ELF_DYNAMIC);
	/* "Go" with another type, or a name size that runs off: not Go */
	b[400 + sizeof(gnu) + 8] = 1;
	assert_int_equal(exec_parse(b, sizeof(b), &need, &img), PARSE_OK);
	assert_false(img.go);
	b[400 + sizeof(gnu) + 8] = 4;
	b[400] = 0xff;
	b[401] = 0xff;
	assert_int_equal(exec_parse(b, sizeof(b), &need, &img), PARSE_OK);
	assert_false(img.go);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf_kinds),
		cmocka_unit_test(test_elf_more),
		cmocka_unit_test(test_elf_truncated),
		cmocka_unit_test(test_scripts),
		cmocka_unit_test(test_script_long),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_elf_foreign_and_loader),
		cmocka_unit_test(test_elf_go_note),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
