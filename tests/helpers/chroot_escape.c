/* chroot_escape: the classic chroot break-out, run inside a container by the integration
 * tests. It chroots into a subdirectory, climbs ".." far beyond it and chroots there. Under
 * chroot alone that lands on the host's root; after pivot_root with the old root detached,
 * the climb stops at the container's root. Where it ended up is told by the program's own
 * file, /chroot_escape, which exists only at the container's root (wherever the host's
 * root is, and whether the host is itself a chroot). Exit: 0 contained, 1 escaped, 2 setup
 * error. Static, so it runs in any root file system. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct stat st;
	int i;

	(void)argc;
	(void)argv;
	mkdir("/.escape", 0700);
	if (chroot("/.escape") != 0) {
		perror("chroot");
		return 2;
	}
	for (i = 0; i < 256; i++)
		if (chdir("..") != 0)
			break;
	if (chroot(".") != 0) {
		perror("chroot .");
		return 2;
	}
	if (stat("/chroot_escape", &st) != 0) {
		printf("escaped\n");
		return 1;
	}
	printf("contained\n");
	return 0;
}
