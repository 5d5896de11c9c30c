/* memhog MIB SECONDS: allocates MIB MiB of anonymous memory, writes every page, prints
 * "ready", then sleeps SECONDS (or until killed). Static, so it runs in any root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t bytes;
	char *p;

	if (argc != 3) {
		fprintf(stderr, "usage: memhog MIB SECONDS\n");
		return 2;
	}
	bytes = (size_t)atol(argv[1]) << 20;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (size_t i = 0; i < bytes; i += 4096)
		p[i] = 1;
	printf("ready\n");
	fflush(stdout);
	sleep((unsigned)atoi(argv[2]));
	return 0;
}
