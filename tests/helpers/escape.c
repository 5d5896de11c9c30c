/* escape: attempts of the known container escape classes, run as root inside a container
 * by the integration tests (tests/integration/test_escape.cpp). Each subcommand tries the
 * attack the way an exploit would and prints one line per attempt: "<what>: blocked (<errno>)"
 * or "<what>: DONE". The tests check these lines and, more importantly, the host's ground
 * truth afterwards. Exit: 0 when every attempt was blocked, 1 otherwise, 2 on bad usage.
 * Static, so it runs in any root file system. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static int escaped;

static void report(const char *what, int ok)
{
	if (ok) {
		printf("%s: DONE\n", what);
		escaped = 1;
	} else {
		printf("%s: blocked (%s)\n", what, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	}
	fflush(stdout);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(text);
}

static int read_some(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf);
	int e = errno;
	close(fd);
	errno = e;
	return n > 0;
}

/* Host-wide kernel knobs: a core dump helper, a module loader, a hotplug helper all run as
 * the host's root. */
static void knobs(const char *payload)
{
	report("core_pattern", write_file("/proc/sys/kernel/core_pattern", payload));
	report("modprobe", write_file("/proc/sys/kernel/modprobe", payload));
	report("uevent_helper", write_file("/sys/kernel/uevent_helper", payload));
	/* Remounting /proc/sys or /sys writable first does not help. */
	mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND, NULL);
	report("core_pattern after remount", write_file("/proc/sys/kernel/core_pattern", payload));
}

/* CVE-2022-0492: a v1 cgroup hierarchy mounted inside, whose release_agent the kernel runs
 * as the host's root. */
static void release_agent(const char *payload)
{
	mkdir("/tmp/escape-cg", 0700);
	int m = mount("cgroup", "/tmp/escape-cg", "cgroup", 0, "none,name=bcescape") == 0;
	if (!m)
		m = mount("cgroup", "/tmp/escape-cg", "cgroup", 0, "memory") == 0;
	/* Mounting one is allowed (a container's systemd mounts name=systemd); its agent is not. */
	printf("v1 hierarchy mounted: %s\n", m ? "yes" : "no");
	report("release_agent", m && write_file("/tmp/escape-cg/release_agent", payload));
	if (m)
		umount2("/tmp/escape-cg", MNT_DETACH);
}

/* A fresh proc in new mount and PID namespaces, to get around the masked files. */
static void fresh_proc(void)
{
	/* A container's root may unmount the mask (in its user namespace the masks are not
	 * locked: see Documentation/security.md); what counts is that the file behind it stays
	 * out of reach. */
	printf("mask on /proc/sysrq-trigger unmounted: %s\n", umount2("/proc/sysrq-trigger", MNT_DETACH) == 0 ? "yes" : "no");
	report("sysrq-trigger", write_file("/proc/sysrq-trigger", "h"));
	if (unshare(CLONE_NEWNS | CLONE_NEWPID) < 0) {
		report("unshare for a fresh proc", 0);
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		mkdir("/tmp/escape-proc", 0700);
		int m = mount("proc", "/tmp/escape-proc", "proc", 0, NULL) == 0;
		report("fresh proc: sysrq-trigger", m && write_file("/tmp/escape-proc/sysrq-trigger", "h"));
		report("fresh proc: kcore", m && read_some("/tmp/escape-proc/kcore"));
		report("fresh proc: core_pattern", m && write_file("/tmp/escape-proc/sys/kernel/core_pattern", "|/x"));
		exit(escaped);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		escaped = 1;
}

/* BPF from inside: the beancounter programs and pins must stay out of reach. */
static void bpf_calls(void)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	report("bpf(BPF_LINK_GET_NEXT_ID)", syscall(SYS_bpf, BPF_LINK_GET_NEXT_ID, &a, sizeof a) == 0);
	memset(&a, 0, sizeof a);
	report("bpf(BPF_PROG_GET_NEXT_ID)", syscall(SYS_bpf, BPF_PROG_GET_NEXT_ID, &a, sizeof a) == 0);
	mkdir("/tmp/escape-bpf", 0700);
	report("mount bpffs", mount("bpf", "/tmp/escape-bpf", "bpf", 0, NULL) == 0);
}

/* Device nodes beyond the allowlist: a disk, kernel memory. */
static void devices(void)
{
	report("mknod block 8:0", mknod("/tmp/escape-sda", S_IFBLK | 0600, makedev(8, 0)) == 0);
	report("mknod char 1:1 (mem)", mknod("/tmp/escape-mem", S_IFCHR | 0600, makedev(1, 1)) == 0);
	unlink("/tmp/escape-sda");
	unlink("/tmp/escape-mem");
}

/* The 2014 "shocker": open_by_handle_at with a guessed handle of the host's root. */
static void shocker(void)
{
	struct {
		unsigned int handle_bytes;
		int handle_type;
		unsigned char f_handle[8];
	} h = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};
	int fd = open("/", O_RDONLY | O_DIRECTORY);
	report("open_by_handle_at", syscall(SYS_open_by_handle_at, fd, &h, O_RDONLY) >= 0);
	close(fd);
}

/* What a process started by exec finds: only stdio, cwd at the container's root. */
static void fds(void)
{
	char path[64], target[256];
	for (int fd = 3; fd < 1024; fd++) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(path, target, sizeof target - 1);
		if (n < 0)
			continue;
		target[n] = 0;
		printf("leaked fd %d: %s\n", fd, target);
		escaped = 1;
	}
	ssize_t n = readlink("/proc/self/cwd", target, sizeof target - 1);
	target[n > 0 ? n : 0] = 0;
	printf("cwd: %s\n", target);
	if (strcmp(target, "/") != 0)
		escaped = 1;
}

/* IPC of another container: a System V segment made under a fixed key in one container
 * must not be found from another. */
static void ipc(const char *how)
{
	int id = shmget(0x5eed, 4096, !strcmp(how, "make") ? IPC_CREAT | 0666 : 0);
	if (!strcmp(how, "make")) {
		printf("made %d\n", id);
		if (id < 0)
			escaped = 1; /* setup error */
		return;
	}
	report("shmget of another container's key", id >= 0);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *payload = argc > 2 ? argv[2] : "|/escape-payload";
	if (!strcmp(argv[1], "knobs"))
		knobs(payload);
	else if (!strcmp(argv[1], "release_agent"))
		release_agent(payload);
	else if (!strcmp(argv[1], "fresh_proc"))
		fresh_proc();
	else if (!strcmp(argv[1], "bpf"))
		bpf_calls();
	else if (!strcmp(argv[1], "devices"))
		devices();
	else if (!strcmp(argv[1], "shocker"))
		shocker();
	else if (!strcmp(argv[1], "ipc_make"))
		ipc("make");
	else if (!strcmp(argv[1], "ipc_find"))
		ipc("find");
	else if (!strcmp(argv[1], "fds"))
		fds();
	else
		return 2;
	return escaped;
}
