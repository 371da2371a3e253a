/*
 * epregs.h - a program's epoll registrations, as the kernel lists them in
 * /proc/self/fdinfo/EPFD, one line each:
 *
 *   tfd:        5 events:       19 data:                5  pos:0 ino:1f sdev:8
 *
 * Both the readiness layer (hiding a pending socket's registrations) and
 * the socket replacement (carrying them to the new socket) read them.
 * The line parser is pure (no I/O), for the unit tests and the fuzzer.
 */
#ifndef PROXYWRAP_EPREGS_H
#define PROXYWRAP_EPREGS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/types.h>

struct epreg {
	int epfd;
	struct epoll_event ev;		/* events and data as registered */
};

/*
 * One line (NUL-terminated, without its newline): true when it is a
 * registration, with its target fd, events, data and, when the line has
 * one, its file's inode (else *ino is 0).
 */
bool epregs_parse_line(const char *line, int *tfd, struct epoll_event *ev,
		       unsigned long *ino);

/*
 * The registrations of fd in the epoll set epfd, read from
 * /proc/self/fdinfo/EPFD (those of a file with inode ino only, unless ino
 * is 0), appended to out[k] up to out[max - 1].  Returns the new k.
 */
size_t epregs_read(int epfd, int fd, unsigned long ino, struct epreg *out,
		   size_t k, size_t max);

/* Is fd an epoll fd (its /proc/self/fd link)? */
bool epregs_is_epoll(int fd);

/* The same for process (or thread) pid's fds, /proc/PID (the
 * supervisor's view of a program); pid 0 is this process. */
size_t epregs_read_pid(pid_t pid, int epfd, int fd, unsigned long ino,
		       struct epreg *out, size_t k, size_t max);
bool epregs_is_epoll_pid(pid_t pid, int fd);

#endif
