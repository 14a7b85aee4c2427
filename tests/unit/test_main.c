/*
 * The unit test runner: every registered test in a child process of its
 * own, its output captured and shown under its name, a summary at the end.
 *
 *   unit_tests                 run everything
 *   unit_tests store proto/x   run the tests whose "suite/name" contains
 *                              any of the arguments
 *   unit_tests -l              list the tests
 *   unit_tests --no-fork ...   run in this process (for a debugger)
 *
 * Exit status: 0 when nothing failed (skips are not failures), 1 otherwise.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define EXIT_SKIP 77
#define TEST_TIMEOUT 60     /* seconds; a hung test fails, not the run */

static struct test *registered;
static size_t nregistered;

static int current_failed;
static int current_skipped;

void test_register(struct test *t)
{
    t->next = registered;
    registered = t;
    nregistered++;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    const char *base = strrchr(file, '/');
    fprintf(stderr, "    %s:%d: ", base ? base + 1 : file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    current_failed = 1;
}

void test_skip(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "    skipped: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    current_skipped = 1;
}

int test_failed(void)
{
    return current_failed;
}

int test_json_eq(json_t *v, const char *expected, char *why, size_t whylen)
{
    json_error_t e;
    json_t *want = json_loads(expected, JSON_DECODE_ANY, &e);
    if (!want) {
        snprintf(why, whylen, "      bad expected JSON in the test: %s", e.text);
        return 0;
    }
    int same = v && json_equal(v, want);
    if (!same) {
        char *got = v ? json_dumps(v, JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
        char *exp = json_dumps(want, JSON_SORT_KEYS | JSON_ENCODE_ANY);
        snprintf(why, whylen, "      got      %s\n      expected %s",
                 got ? got : "(null)", exp ? exp : "?");
        free(got);
        free(exp);
    }
    json_decref(want);
    return same;
}

/* ---- running ---- */

static int compare_tests(const void *a, const void *b)
{
    const struct test *x = *(struct test *const *)a;
    const struct test *y = *(struct test *const *)b;
    int c = strcmp(x->suite, y->suite);
    return c ? c : strcmp(x->name, y->name);
}

static int selected(const struct test *t, char **filters, int nfilters)
{
    char full[256];
    if (nfilters == 0)
        return 1;
    snprintf(full, sizeof(full), "%s/%s", t->suite, t->name);
    for (int i = 0; i < nfilters; i++)
        if (strstr(full, filters[i]))
            return 1;
    return 0;
}

enum outcome { PASSED, FAILED, SKIPPED };

static enum outcome run_here(const struct test *t)
{
    current_failed = 0;
    current_skipped = 0;
    t->fn();
    fflush(stdout);
    fflush(stderr);
    if (current_failed)
        return FAILED;
    return current_skipped ? SKIPPED : PASSED;
}

/* Read everything the child writes until it closes the pipe. */
static char *drain(int fd, size_t *len)
{
    size_t cap = 4096;
    char *out = malloc(cap);
    *len = 0;
    if (!out)
        return NULL;
    for (;;) {
        if (*len + 1024 > cap) {
            char *grown = realloc(out, cap * 2);
            if (!grown)
                break;
            out = grown;
            cap *= 2;
        }
        ssize_t n = read(fd, out + *len, cap - *len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        *len += (size_t)n;
    }
    out[*len] = '\0';
    return out;
}

static enum outcome run_forked(const struct test *t, char **output,
                               char *detail, size_t detaillen)
{
    int fds[2];
    *output = NULL;
    detail[0] = '\0';
    fflush(stdout);
    fflush(stderr);
    if (pipe(fds) < 0) {
        snprintf(detail, detaillen, "pipe: %s", strerror(errno));
        return FAILED;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(detail, detaillen, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return FAILED;
    }
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        alarm(TEST_TIMEOUT);
        enum outcome o = run_here(t);
        /* A failed or skipped test returns early and leaks what it held:
         * _exit() skips the leak check, which would only add noise.
         * Otherwise exit(): LeakSanitizer checks at exit, so a test that
         * passes but leaks fails. */
        if (o != PASSED)
            _exit(o == FAILED ? 1 : EXIT_SKIP);
        exit(0);
    }
    close(fds[1]);
    size_t len;
    *output = drain(fds[0], &len);
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(detail, detaillen, "waitpid: %s", strerror(errno));
            return FAILED;
        }
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        snprintf(detail, detaillen, "killed by signal %d (%s)%s", sig,
                 strsignal(sig), sig == SIGALRM ? ": timed out" : "");
        return FAILED;
    }
    int code = WEXITSTATUS(status);
    if (code == 0)
        return PASSED;
    if (code == EXIT_SKIP)
        return SKIPPED;
    if (code != 1)
        snprintf(detail, detaillen, "exit status %d (a sanitizer report?)", code);
    return FAILED;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    int fork_tests = 1, list = 0, nfilters = 0;
    char **filters = calloc((size_t)argc + 1, sizeof(char *));
    if (!filters)
        return 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-fork") == 0)
            fork_tests = 0;
        else if (strcmp(argv[i], "-l") == 0 || strcmp(argv[i], "--list") == 0)
            list = 1;
        else
            filters[nfilters++] = argv[i];
    }
    struct test **tests = calloc(nregistered + 1, sizeof(*tests));
    if (!tests)
        return 2;
    size_t n = 0;
    for (struct test *t = registered; t; t = t->next)
        tests[n++] = t;
    qsort(tests, n, sizeof(*tests), compare_tests);

    int passed = 0, failed = 0, skipped = 0;
    double start = now_ms();
    char **failures = calloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        const struct test *t = tests[i];
        if (!selected(t, filters, nfilters))
            continue;
        if (list) {
            printf("%s/%s\n", t->suite, t->name);
            continue;
        }
        char *output = NULL, detail[256] = "";
        enum outcome o;
        if (fork_tests) {
            o = run_forked(t, &output, detail, sizeof(detail));
        } else {
            printf("--- %s/%s\n", t->suite, t->name);
            o = run_here(t);
        }
        const char *word = o == PASSED ? "ok  " : o == SKIPPED ? "skip" : "FAIL";
        printf("%s %s/%s%s%s\n", word, t->suite, t->name, detail[0] ? ": " : "",
               detail);
        if (output && *output && o != PASSED)
            fputs(output, stdout);
        free(output);
        if (o == PASSED) {
            passed++;
        } else if (o == SKIPPED) {
            skipped++;
        } else {
            char name[256];
            snprintf(name, sizeof(name), "%s/%s", t->suite, t->name);
            if (failures)
                failures[failed] = strdup(name);
            failed++;
        }
        fflush(stdout);
    }
    if (!list) {
        printf("\nunit: %d passed, %d failed, %d skipped (%.0f ms)\n", passed,
               failed, skipped, now_ms() - start);
        for (int i = 0; failures && i < failed; i++)
            printf("  failed: %s\n", failures[i]);
    }
    for (int i = 0; failures && i < failed; i++)
        free(failures[i]);
    free(failures);
    free(tests);
    free(filters);
    return failed ? 1 : 0;
}

json_t *test_json(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v)
        test_fail(__FILE__, __LINE__, "bad JSON in the test: %s", e.text);
    return v;
}
