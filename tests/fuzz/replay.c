/*
 * replay.c - run a fuzz target over its corpus without libFuzzer, for
 * `make check`.  Each argument is a file or a directory of files; every
 * file is handed over in an exact-size heap copy so that ASan reports a
 * read even one byte past the end.  A crash or failed invariant ends the
 * run; otherwise one TAP line says how many inputs passed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_FILE_MAX (1 << 20)

static int
replay_file(const char *path)
{
	FILE *f;
	struct stat st;
	uint8_t *data;
	size_t n;

	f = fopen(path, "rb");
	if (f == NULL || fstat(fileno(f), &st) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	if (st.st_size < 0 || st.st_size > REPLAY_FILE_MAX) {
		fprintf(stderr, "replay: %s: too large\n", path);
		fclose(f);
		return -1;
	}
	n = (size_t)st.st_size;
	/* malloc(0) may return NULL; an empty input still gets a pointer. */
	data = malloc(n > 0 ? n : 1);
	if (data == NULL || fread(data, 1, n, f) != n) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(data);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay every regular file in dir, in name order; returns the count. */
static long
replay_dir(const char *dir)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL, **grown, path[4096];
	size_t n = 0, cap = 0, i;
	struct stat st;
	long count = 0;

	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(names, cap * sizeof(*names));
			if (grown == NULL)
				abort();
			names = grown;
		}
		names[n] = strdup(e->d_name);
		if (names[n] == NULL)
			abort();
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (count >= 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(path) == -1)
				count = -1;
			else
				count++;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

int
main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');
	struct stat st;
	long total = 0, n;
	int i;

	name = name != NULL ? name + 1 : argv[0];
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", name);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode))
			n = replay_dir(argv[i]);
		else
			n = replay_file(argv[i]) == 0 ? 1 : -1;
		if (n < 0) {
			printf("not ok - replay %s: cannot read %s\n", name,
			       argv[i]);
			return 1;
		}
		total += n;
	}
	printf("ok - replay %s: %ld inputs\n", name, total);
	return 0;
}
