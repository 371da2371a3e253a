/*
 * esc_interp.c - a program interpreter (PT_INTERP) of its own for the
 * escape matrix (t_escape.sh): no libc, no dynamic linker, so nothing it
 * does passes through the shim.  The kernel starts it in place of ld.so
 * for a program linked with -Wl,--dynamic-linker=THIS; it connects to
 * ESC_ADDR:ESC_PORT (given as -D, network byte order) and exits.
 *
 *   cc -nostdlib -static -fno-stack-protector -O1 \
 *      -DESC_ADDR=0x... -DESC_PORT=0x... -o interp esc_interp.c
 */
static long
sc(long n, long a, long b, long c)
{
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return r;
}

void _start(void);

void
_start(void)
{
	struct {
		unsigned short fam, port;
		unsigned int addr;
		char zero[8];
	} s = { 2, ESC_PORT, ESC_ADDR, { 0 } };
	long fd = sc(41, 2, 1, 0);	/* socket(AF_INET, SOCK_STREAM) */

	sc(42, fd, (long)&s, sizeof(s));	/* connect */
	sc(60, 0, 0, 0);			/* exit(0) */
	for (;;)
		;
}
