/* ptys N SECONDS: opens N pseudo-terminals (/dev/ptmx, each unlocked, so each has its
 * /dev/pts/K), prints "ready N", then sleeps SECONDS (or until killed), holding them.
 * Static, so it runs in any root. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n;

	if (argc != 3) {
		fprintf(stderr, "usage: ptys N SECONDS\n");
		return 2;
	}
	n = atoi(argv[1]);
	for (int i = 0; i < n; i++) {
		int fd = posix_openpt(O_RDWR | O_NOCTTY);

		if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0) {
			perror("ptmx");
			return 1;
		}
	}
	printf("ready %d\n", n);
	fflush(stdout);
	sleep((unsigned)atoi(argv[2]));
	return 0;
}
