/*
 * alias.c - libc's other names for the calls the library hooks.
 *
 * glibc exports some calls twice: __connect is connect, __read is read,
 * and so on (nm -D of libc).  A program that calls the other name, links
 * against it or looks it up at run time would reach the kernel past the
 * hook; each alias here is the hook under that name.  The GLIBC_PRIVATE
 * ones (__recv, __sendmmsg, __libc_fcntl64) cannot be linked against, but
 * a run-time lookup finds them.  __poll and __select are in
 * hooks/readiness.c, __fcntl and __libc_fcntl64 in hooks/net.c, with their
 * calls.
 */
#include <sys/socket.h>
#include <unistd.h>

#define HOOK __attribute__((visibility("default")))

int __connect(int fd, const struct sockaddr *sa, socklen_t len);
ssize_t __read(int fd, void *buf, size_t n);
ssize_t __write(int fd, const void *buf, size_t n);
ssize_t __recv(int fd, void *buf, size_t n, int flags);
ssize_t __send(int fd, const void *buf, size_t n, int flags);
int __sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags);
int __close(int fd);
int __dup2(int oldfd, int newfd);

HOOK int
__connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return connect(fd, sa, len);
}

HOOK ssize_t
__read(int fd, void *buf, size_t n)
{
	return read(fd, buf, n);
}

HOOK ssize_t
__write(int fd, const void *buf, size_t n)
{
	return write(fd, buf, n);
}

HOOK ssize_t
__recv(int fd, void *buf, size_t n, int flags)
{
	return recv(fd, buf, n, flags);
}

HOOK ssize_t
__send(int fd, const void *buf, size_t n, int flags)
{
	return send(fd, buf, n, flags);
}

HOOK int
__sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	return sendmmsg(fd, v, n, flags);
}

HOOK int
__close(int fd)
{
	return close(fd);
}

HOOK int
__dup2(int oldfd, int newfd)
{
	return dup2(oldfd, newfd);
}
