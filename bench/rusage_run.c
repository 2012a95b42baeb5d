// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Run a command and print its CPU time and peak RSS:
 *     rusage_run CMD [ARGS...]  ->  "<user µs> <system µs> <maxrss KiB> <exit status>"
 * Why not os.wait4() from Python: Linux carries a process's peak RSS
 * across exec, and a child forked from Python starts with a copy of the
 * interpreter's pages, so every command would seem to need as much memory
 * as the benchmark script.  Forked from this small program, the floor is
 * about 1 MB.  The command's output goes to /dev/null.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: rusage_run CMD [ARGS...]\n");
		return 64;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 2;
	}
	printf("%lld %lld %ld %d\n",
	       (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	       (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec,
	       ru.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}
