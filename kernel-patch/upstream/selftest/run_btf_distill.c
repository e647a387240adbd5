// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in for test_progs that runs the subtests of one prog_tests file
 * (here tools/testing/selftests/bpf/prog_tests/btf_distill.c, compiled
 * unchanged against the tree's own test_progs.h) in userspace, against
 * whatever libbpf it is linked with. Only the pieces of test_progs those
 * tests use are here: test__start_subtest(), test__fail(), test__skip(),
 * and the env the ASSERT_* macros look at.
 *
 * Each subtest runs in a child process with a timeout, so a libbpf that
 * crashes or never returns on a subtest fails that subtest instead of the
 * run. One line per subtest:
 *
 *   PASS|FAIL|SKIP|CRASH|HANG <subtest> [detail]
 *
 * then "summary: N subtests, P passed, S skipped, F failed". Exit status 0
 * iff no subtest failed, crashed or hung.
 *
 * usage: run_btf_distill [-t SECONDS] [-l] [SUBTEST...]
 *   -t  per-subtest timeout (default 10)
 *   -l  list the subtests and exit
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_progs.h"

struct test_env env;
int env_verbosity;

void test_btf_distill(void);

#define MAX_SUBTESTS 64

static const char *subtests[MAX_SUBTESTS];
static int nr_subtests;
static bool listing;
static const char *selected;
static bool failed, skipped;

bool test__start_subtest(const char *name)
{
	if (listing) {
		if (nr_subtests < MAX_SUBTESTS)
			subtests[nr_subtests++] = strdup(name);
		return false;
	}
	return selected && strcmp(name, selected) == 0;
}

bool test__start_subtest_with_desc(const char *name, const char *description)
{
	return test__start_subtest(name);
}

void test__end_subtest(void)
{
}

void test__fail(void)
{
	failed = true;
}

void test__skip(void)
{
	skipped = true;
}

void test__force_log(void)
{
}

/* run one subtest in a child; returns its line's verdict */
static const char *run_one(const char *name, int timeout, char *detail, size_t len)
{
	struct timespec start, now;
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		snprintf(detail, len, "fork: %s", strerror(errno));
		return "FAIL";
	}
	if (pid == 0) {
		/* the ASSERT_* lines go to stderr, the verdicts to stdout */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		selected = name;
		test_btf_distill();
		fflush(stdout);
		_exit(failed ? 1 : skipped ? 2 : 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= timeout) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(detail, len, "no return after %d s", timeout);
			return "HANG";
		}
		usleep(10000);
	}
	if (WIFSIGNALED(status)) {
		snprintf(detail, len, "signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
		return "CRASH";
	}
	switch (WEXITSTATUS(status)) {
	case 0:
		return "PASS";
	case 2:
		return "SKIP";
	default:
		return "FAIL";
	}
}

int main(int argc, char **argv)
{
	int timeout = 10, opt, i, bad = 0, passed = 0, skip = 0, ran = 0;

	while ((opt = getopt(argc, argv, "t:l")) != -1) {
		switch (opt) {
		case 't':
			timeout = atoi(optarg);
			break;
		case 'l':
			listing = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-t SECONDS] [-l] [SUBTEST...]\n", argv[0]);
			return 2;
		}
	}
	{
		bool list_only = listing;

		listing = true;
		test_btf_distill();
		listing = false;
		if (list_only) {
			for (i = 0; i < nr_subtests; i++)
				printf("%s\n", subtests[i]);
			return 0;
		}
	}
	for (i = 0; i < nr_subtests; i++) {
		char detail[128] = "";
		const char *verdict;
		int a;
		bool want = optind == argc;

		for (a = optind; a < argc; a++)
			want |= strcmp(argv[a], subtests[i]) == 0;
		if (!want)
			continue;
		verdict = run_one(subtests[i], timeout, detail, sizeof(detail));
		printf("%s %s%s%s\n", verdict, subtests[i], detail[0] ? " " : "", detail);
		ran++;
		if (!strcmp(verdict, "PASS"))
			passed++;
		else if (!strcmp(verdict, "SKIP"))
			skip++;
		else
			bad++;
	}
	printf("summary: %d subtests, %d passed, %d skipped, %d failed\n", ran, passed, skip, bad);
	return bad ? 1 : 0;
}
