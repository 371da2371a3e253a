/*
 * execcheck.c - can the shim follow a program into exec?
 *
 * exec_parse judges a file's first bytes (pure: ELF headers and "#!"
 * lines are decoded field by field, every read bounds-checked).  Reading
 * the file and asking its inode is src/base/execfile.c's part.
 */
#include "execcheck.h"

#include <stdbool.h>
#include <string.h>

#define ELF_PT_INTERP 3		/* ELF gABI, program header p_type */
#define ELF_PT_NOTE 4
#define GO_NOTE_BUILDID 4	/* Go's cmd/link: note "Go", type 4 */
#define NOTE_SEG_MAX 65536	/* a note segment larger: not looked at */
#define ELF_ET_EXEC 2
#define ELF_ET_DYN 3

/* An unsigned field of `size` bytes at p[off], in the file's byte order. */
static bool
field(const uint8_t *p, size_t len, size_t off, size_t size, bool le,
      uint64_t *v)
{
	size_t i;

	if (off > len || size > len - off)
		return false;
	*v = 0;
	for (i = 0; i < size; i++) {
		size_t k = le ? size - 1 - i : i;

		*v = (*v << 8) | p[off + k];
	}
	return true;
}

/*
 * "#!" then optional blanks, then the interpreter up to a blank or the
 * end of the line (Linux fs/binfmt_script.c).  Bytes past the first line
 * or past EXEC_INTERP_MAX are not looked at.
 */
static void
parse_script(const uint8_t *p, size_t len, struct exec_image *img)
{
	size_t i = 2, n = 0;

	if (len > EXEC_INTERP_MAX)
		len = EXEC_INTERP_MAX;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	while (i < len && p[i] != ' ' && p[i] != '\t' && p[i] != '\n' &&
	       p[i] != '\0' && n < sizeof(img->interp) - 1)
		img->interp[n++] = (char)p[i++];
	img->interp[n] = '\0';
	img->kind = n > 0 ? EXEC_SCRIPT : EXEC_OTHER;
}

/*
 *  ELF header (gABI)             ELF32   ELF64
 *   e_ident[16]: 7f 'E' 'L' 'F' class(1|2) data(1 LE|2 BE) ...
 *   e_type                       16/2    16/2
 *   e_phoff                      28/4    32/8
 *   e_phentsize                  42/2    54/2
 *   e_phnum                      44/2    56/2
 *  each program header starts with p_type (4 bytes).
 */
/* This build's ELF class and machine: what the library can load into. */
#if defined(__x86_64__)
#define ELF_NATIVE_MACHINE 62		/* EM_X86_64 */
#elif defined(__aarch64__)
#define ELF_NATIVE_MACHINE 183		/* EM_AARCH64 */
#elif defined(__i386__)
#define ELF_NATIVE_MACHINE 3		/* EM_386 */
#else
#define ELF_NATIVE_MACHINE 0		/* unknown: never called foreign */
#endif
#define ELF_NATIVE_64 (sizeof(void *) == 8)

/*
 * A PT_INTERP's path, p_offset and p_filesz at the program header's
 * offsets 8/32 (ELF64) or 4/16 (ELF32), NUL-terminated within filesz.
 * Left "" when the bytes are not in p[0..len) or not a proper string.
 */
static void
elf_interp(const uint8_t *p, size_t len, size_t ph, bool is64, bool le,
	   struct exec_image *img)
{
	uint64_t off, sz;
	size_t i;

	if (!field(p, len, ph + (is64 ? 8 : 4), is64 ? 8 : 4, le, &off) ||
	    !field(p, len, ph + (is64 ? 32 : 16), is64 ? 8 : 4, le, &sz) ||
	    sz < 2 || sz > sizeof(img->interp) || off > len ||
	    sz > len - off)
		return;
	for (i = 0; i + 1 < sz && p[off + i] != '\0'; i++)
		img->interp[i] = (char)p[off + i];
	img->interp[i] = '\0';
}

/*
 * Is there a Go build-id note in the PT_NOTE segment at program header ph?
 *   note: namesz(4) descsz(4) type(4) name (padded to 4) desc (padded)
 * A segment beyond p[0..len) (within EXEC_READ_MAX) sets *more to the
 * bytes that would reach its end.
 */
static bool
elf_go_note(const uint8_t *p, size_t len, size_t ph, bool is64, bool le,
	    size_t *more)
{
	uint64_t off, sz, nsz, dsz, type;
	size_t at, end;

	if (!field(p, len, ph + (is64 ? 8 : 4), is64 ? 8 : 4, le, &off) ||
	    !field(p, len, ph + (is64 ? 32 : 16), is64 ? 8 : 4, le, &sz) ||
	    sz > NOTE_SEG_MAX || off > EXEC_READ_MAX)
		return false;
	end = (size_t)(off + sz);
	if (end > len) {
		if (end - len > *more)
			*more = end - len;
		return false;
	}
	for (at = (size_t)off; at + 12 <= end;) {
		if (!field(p, end, at, 4, le, &nsz) ||
		    !field(p, end, at + 4, 4, le, &dsz) ||
		    !field(p, end, at + 8, 4, le, &type) ||
		    nsz > NOTE_SEG_MAX || dsz > NOTE_SEG_MAX)
			return false;
		if (nsz == 4 && type == GO_NOTE_BUILDID && at + 16 <= end &&
		    memcmp(p + at + 12, "Go\0\0", 4) == 0)
			return true;
		at += 12 + ((nsz + 3) & ~3u) + ((dsz + 3) & ~3u);
	}
	return false;
}

int
exec_parse(const uint8_t *p, size_t len, size_t *need,
	   struct exec_image *img)
{
	uint64_t type, machine, phoff, phent, phnum, ptype, i;
	bool le, is64;
	size_t end, more = 0;

	memset(img, 0, sizeof(*img));
	img->kind = EXEC_OTHER;
	if (len == 0)
		return PARSE_ERR;
	if (len >= 2 && p[0] == '#' && p[1] == '!') {
		parse_script(p, len, img);
		return PARSE_OK;
	}
	if (len < 16 || memcmp(p, "\177ELF", 4) != 0 ||
	    (p[4] != 1 && p[4] != 2) || (p[5] != 1 && p[5] != 2))
		return PARSE_OK;
	is64 = p[4] == 2;
	le = p[5] == 1;
	if (!field(p, len, 16, 2, le, &type) ||
	    !field(p, len, 18, 2, le, &machine) ||
	    !field(p, len, is64 ? 32 : 28, is64 ? 8 : 4, le, &phoff) ||
	    !field(p, len, is64 ? 54 : 42, 2, le, &phent) ||
	    !field(p, len, is64 ? 56 : 44, 2, le, &phnum))
		return PARSE_OK;	/* a truncated header: not runnable */
	if ((type != ELF_ET_EXEC && type != ELF_ET_DYN) ||
	    phent != (is64 ? 56u : 32u) || phnum == 0 ||
	    phnum > EXEC_PHNUM_MAX || phoff > EXEC_READ_MAX)
		return PARSE_OK;
	end = (size_t)(phoff + phent * phnum);
	if (end > len) {
		*need = end - len;
		return PARSE_MORE;
	}
	img->kind = EXEC_ELF_STATIC;
	img->foreign = ELF_NATIVE_MACHINE != 0 &&
		       (is64 != ELF_NATIVE_64 || machine != ELF_NATIVE_MACHINE);
	for (i = 0; i < phnum; i++) {
		if (!field(p, len, (size_t)(phoff + i * phent), 4, le, &ptype))
			break;
		if (ptype == ELF_PT_INTERP && img->kind != EXEC_ELF_DYNAMIC) {
			img->kind = EXEC_ELF_DYNAMIC;
			elf_interp(p, len, (size_t)(phoff + i * phent), is64,
				   le, img);
		}
		if (ptype == ELF_PT_NOTE && !img->go)
			img->go = elf_go_note(p, len,
					      (size_t)(phoff + i * phent),
					      is64, le, &more);
	}
	/* a note segment past the bytes read: more could find Go's */
	*need = img->go ? 0 : more;
	return PARSE_OK;
}

const char *
exec_why_str(enum exec_why w)
{
	switch (w) {
	case EXEC_FOLLOWS:
		return "";
	case EXEC_WHY_STATIC:
		return "statically linked";
	case EXEC_WHY_SETUID:
		return "setuid";
	case EXEC_WHY_SETGID:
		return "setgid";
	case EXEC_WHY_FCAPS:
		return "file capabilities";
	case EXEC_WHY_INTERP:
		return "its interpreter cannot be followed";
	case EXEC_WHY_FOREIGN:
		return "built for another word size or machine";
	case EXEC_WHY_LOADER:
		return "runs under its own program interpreter";
	case EXEC_WHY_GO:
		return "a Go program (its own system calls)";
	}
	return "?";
}
