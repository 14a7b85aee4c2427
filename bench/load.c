/*
 * bench/load.c: the load generator of `make bench`.
 *
 * N threads, one HTTP/1.1 keep-alive connection each, send requests taken
 * from a file of JSON lines
 *
 *   {"tag": "DescribeVpcs", "path": "/", "headers": {"Authorization": "..."},
 *    "body": "Action=DescribeVpcs&VpcId.1=vpc-123"}
 *
 * and record the latency of every request.  In --duration mode each request
 * is a line picked at random (the file carries the mix); in --count mode the
 * lines are sent in order, each once per cycle, until COUNT requests are
 * done (this is how the benchmark fills a server).  In a body, "{seq}" is
 * replaced by a number unique within the run (from --seq-start) and
 * "{seq%N}" by that number modulo N, so creates can have unique names.
 *
 * It prints one JSON object: totals, requests per second, latency
 * percentiles overall and per tag, status counts and one error sample.  It
 * measures; it judges nothing.
 */
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_TAGS 32
#define SAMPLE_LEN 400

struct line {
    int tag;
    char *head;             /* request line and headers, without Content-Length */
    char *body;
    int templated;          /* body has {seq...} placeholders */
};

struct sample {
    uint64_t ns;
    uint32_t tag;
};

struct worker {
    pthread_t thread;
    unsigned rng;
    int fd;
    struct sample *samples;
    size_t n, cap;
    long status[600];       /* count per HTTP status */
    long io_errors;
    long warmup_requests;   /* answered during the warm-up, not recorded */
    char error_sample[SAMPLE_LEN];
    char *out, *in;
    size_t out_cap, in_cap;
};

static struct line *lines;
static size_t nlines;
static char *tags[MAX_TAGS];
static int ntags;
static struct sockaddr_in addr;
static char host_header[128];
static double duration = 0, warmup = 0;
static long count = 0;
static long seq_start = 0;
static uint64_t t_start, t_measure, t_end;
static atomic_long next_index;
static atomic_int stop_all;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "load: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(2);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        die("out of memory%s", "");
    return q;
}

static int tag_index(const char *tag)
{
    for (int i = 0; i < ntags; i++)
        if (strcmp(tags[i], tag) == 0)
            return i;
    if (ntags == MAX_TAGS)
        die("more than 32 tags (last: %s)", tag);
    tags[ntags] = strdup(tag);
    return ntags++;
}

/* Read the request file: one JSON object per line. */
static void load_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open %s", path);
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&buf, &cap, f)) > 0) {
        if (len <= 1)
            continue;
        json_error_t err;
        json_t *o = json_loads(buf, 0, &err);
        if (!o || !json_is_object(o))
            die("bad request line: %s", err.text);
        const char *tag = json_string_value(json_object_get(o, "tag"));
        const char *rpath = json_string_value(json_object_get(o, "path"));
        const char *body = json_string_value(json_object_get(o, "body"));
        json_t *headers = json_object_get(o, "headers");
        size_t hcap = 4096, hlen = 0;
        char *head = xrealloc(NULL, hcap);
        hlen += (size_t)snprintf(head, hcap, "POST %s HTTP/1.1\r\nHost: %s\r\n",
                                 rpath ? rpath : "/", host_header);
        const char *key;
        json_t *value;
        json_object_foreach(headers, key, value) {
            const char *v = json_string_value(value);
            size_t need = strlen(key) + (v ? strlen(v) : 0) + 8;
            if (hlen + need >= hcap) {
                hcap = (hlen + need) * 2;
                head = xrealloc(head, hcap);
            }
            hlen += (size_t)snprintf(head + hlen, hcap - hlen, "%s: %s\r\n", key, v ? v : "");
        }
        lines = xrealloc(lines, (nlines + 1) * sizeof(*lines));
        lines[nlines].tag = tag_index(tag ? tag : "request");
        lines[nlines].head = head;
        lines[nlines].body = strdup(body ? body : "");
        lines[nlines].templated = body && strstr(body, "{seq") != NULL;
        nlines++;
        json_decref(o);
    }
    free(buf);
    fclose(f);
    if (!nlines)
        die("no requests in %s", path);
}

static void ensure(char **p, size_t *cap, size_t need)
{
    if (need > *cap) {
        *cap = need * 2;
        *p = xrealloc(*p, *cap);
    }
}

/* Render line l into w->out with seq substituted; returns its length. */
static size_t render(struct worker *w, const struct line *l, long seq)
{
    size_t hl = strlen(l->head), bl = strlen(l->body);
    ensure(&w->out, &w->out_cap, hl + bl * 2 + 128);
    char *body = w->out + hl + 64;
    size_t n = 0;
    if (!l->templated) {
        memcpy(body, l->body, bl);
        n = bl;
    } else {
        for (const char *p = l->body; *p;) {
            long mod = 0;
            int used = 0;
            if (strncmp(p, "{seq}", 5) == 0) {
                used = 5;
            } else if (strncmp(p, "{seq%", 5) == 0 && sscanf(p + 5, "%ld}%n", &mod, &used) == 1 &&
                       used > 0 && mod > 0) {
                used += 5;
            } else {
                used = 0;
            }
            if (used) {
                ensure(&w->out, &w->out_cap, hl + 64 + n + 64 + strlen(p) + 1);
                body = w->out + hl + 64;
                n += (size_t)sprintf(body + n, "%ld", mod ? seq % mod : seq);
                p += used;
            } else {
                body[n++] = *p++;
            }
        }
    }
    char cl[64];
    int cll = snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n\r\n", n);
    /* Slide the body right behind the head. */
    memmove(w->out + hl + (size_t)cll, body, n);
    memcpy(w->out, l->head, hl);
    memcpy(w->out + hl, cl, (size_t)cll);
    return hl + (size_t)cll + n;
}

static int connect_server(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Find the end of a chunked body in b[0..n); returns its length or 0 if
 * more data is needed, -1 if malformed. */
static long chunked_end(const char *b, size_t n)
{
    size_t i = 0;
    for (;;) {
        const char *crlf = memmem(b + i, n - i, "\r\n", 2);
        if (!crlf)
            return 0;
        char *endp;
        unsigned long size = strtoul(b + i, &endp, 16);
        if (endp == b + i)
            return -1;
        i = (size_t)(crlf - b) + 2;
        if (size == 0) {
            /* Trailers end with an empty line. */
            const char *end = memmem(b + i, n - i, "\r\n", 2);
            while (end && end != b + i) {
                i = (size_t)(end - b) + 2;
                end = memmem(b + i, n - i, "\r\n", 2);
            }
            return end ? (long)(i + 2) : 0;
        }
        if (i + size + 2 > n)
            return 0;
        i += size + 2;
    }
}

/* Read one response.  Returns its status, 0 if the connection closed
 * before any byte came (the caller may retry on a new one), -1 on error.
 * *keep says whether the connection can be reused. */
static int read_response(struct worker *w, int *keep)
{
    size_t n = 0;
    long head_len = -1, need = -1;
    int chunked = 0, status = -1, to_eof = 0;
    *keep = 1;
    for (;;) {
        ensure(&w->in, &w->in_cap, n + 65536);
        ssize_t k = recv(w->fd, w->in + n, w->in_cap - n - 1, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0) {
            *keep = 0;
            if (n == 0)
                return 0;
            if (to_eof)
                break;
            return -1;
        }
        n += (size_t)k;
        w->in[n] = '\0';
        if (head_len < 0) {
            char *end = strstr(w->in, "\r\n\r\n");
            if (!end)
                continue;
            head_len = end - w->in + 4;
            if (sscanf(w->in, "HTTP/%*d.%*d %d", &status) != 1)
                return -1;
            int http10 = strncmp(w->in, "HTTP/1.0", 8) == 0;
            int keep_alive = 0;
            for (char *h = strstr(w->in, "\r\n") + 2; h < end; h = strstr(h, "\r\n") + 2) {
                if (strncasecmp(h, "Content-Length:", 15) == 0)
                    need = strtol(h + 15, NULL, 10);
                else if (strncasecmp(h, "Transfer-Encoding:", 18) == 0 &&
                         strcasestr(h, "chunked") && strcasestr(h, "chunked") < strstr(h, "\r\n"))
                    chunked = 1;
                else if (strncasecmp(h, "Connection:", 11) == 0) {
                    char *eol = strstr(h, "\r\n");
                    char *c = strcasestr(h, "close");
                    if (c && c < eol)
                        *keep = 0;
                    c = strcasestr(h, "keep-alive");
                    if (c && c < eol)
                        keep_alive = 1;
                }
            }
            if (http10 && !keep_alive)
                *keep = 0;
            if (!chunked && need < 0) {
                to_eof = 1;
                *keep = 0;
            }
        }
        if (chunked) {
            long body = chunked_end(w->in + head_len, n - (size_t)head_len);
            if (body < 0)
                return -1;
            if (body > 0) {
                n = (size_t)head_len + (size_t)body;
                break;
            }
        } else if (need >= 0 && (long)n >= head_len + need) {
            n = (size_t)(head_len + need);
            break;
        }
    }
    if ((status < 200 || status >= 300) && !w->error_sample[0]) {
        const char *body = w->in + head_len;
        snprintf(w->error_sample, SAMPLE_LEN, "HTTP %d: %.*s", status,
                 (int)(n - (size_t)head_len), body);
    }
    return status;
}

/* One request on the worker's connection, reconnecting when the server
 * closed an idle one.  Returns the status or -1. */
static int do_request(struct worker *w, size_t len)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (w->fd < 0 && (w->fd = connect_server()) < 0)
            return -1;
        int keep = 1;
        int status = send_all(w->fd, w->out, len) < 0 ? 0 : read_response(w, &keep);
        if (status == 0 || status < 0 || !keep) {
            close(w->fd);
            w->fd = -1;
        }
        if (status != 0)
            return status;
    }
    return -1;
}

static void record(struct worker *w, uint64_t ns, int tag)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 65536;
        w->samples = xrealloc(w->samples, w->cap * sizeof(*w->samples));
    }
    w->samples[w->n].ns = ns;
    w->samples[w->n].tag = (uint32_t)tag;
    w->n++;
}

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    w->fd = -1;
    long consecutive_failures = 0;
    while (!atomic_load(&stop_all)) {
        long i = atomic_fetch_add(&next_index, 1);
        const struct line *l;
        if (count) {
            if (i >= count)
                break;
            l = &lines[(size_t)i % nlines];
        } else {
            w->rng = w->rng * 1103515245u + 12345u;
            l = &lines[(w->rng >> 8) % nlines];
        }
        size_t len = render(w, l, seq_start + i);
        uint64_t t0 = now_ns();
        if (!count && t0 >= t_end)
            break;
        int status = do_request(w, len);
        uint64_t t1 = now_ns();
        if (status < 0) {
            w->io_errors++;
            if (++consecutive_failures > 100) {
                fprintf(stderr, "load: giving up after 100 failed connections\n");
                atomic_store(&stop_all, 1);
            }
            continue;
        }
        consecutive_failures = 0;
        if (t0 < t_measure) {
            w->warmup_requests++;
            continue;
        }
        w->status[status < 600 ? status : 599]++;
        record(w, t1 - t0, l->tag);
    }
    if (w->fd >= 0)
        close(w->fd);
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const uint64_t *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return (double)v[i] / 1e6;
}

static void print_stats(const char *indent, const uint64_t *v, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)v[i];
    printf("%s\"count\": %zu, \"mean_ms\": %.4f, \"p50_ms\": %.4f, \"p90_ms\": %.4f, "
           "\"p99_ms\": %.4f, \"max_ms\": %.4f",
           indent, n, n ? sum / (double)n / 1e6 : 0.0, pct(v, n, 50), pct(v, n, 90),
           pct(v, n, 99), n ? (double)v[n - 1] / 1e6 : 0.0);
}

static void json_string_out(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void usage(void)
{
    fprintf(stderr,
            "usage: load --target HOST:PORT --requests FILE (--duration S | --count N)\n"
            "            [--threads N] [--warmup S] [--seq-start N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *target = NULL, *file = NULL;
    int threads = 16;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (strcmp(a, "--target") == 0)
            target = v;
        else if (strcmp(a, "--requests") == 0)
            file = v;
        else if (strcmp(a, "--threads") == 0)
            threads = atoi(v);
        else if (strcmp(a, "--duration") == 0)
            duration = atof(v);
        else if (strcmp(a, "--warmup") == 0)
            warmup = atof(v);
        else if (strcmp(a, "--count") == 0)
            count = atol(v);
        else if (strcmp(a, "--seq-start") == 0)
            seq_start = atol(v);
        else
            usage();
    }
    if (!target || !file || threads < 1 || (duration <= 0) == (count <= 0))
        usage();
    char hostpart[100];
    int port;
    if (sscanf(target, "%99[^:]:%d", hostpart, &port) != 2)
        die("bad --target %s (want HOST:PORT)", target);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, hostpart, &addr.sin_addr) != 1)
        die("bad address %s", hostpart);
    snprintf(host_header, sizeof(host_header), "%s", target);
    load_lines(file);

    struct worker *ws = calloc((size_t)threads, sizeof(*ws));
    if (!ws)
        die("out of memory%s", "");
    t_start = now_ns();
    t_measure = t_start + (uint64_t)(warmup * 1e9);
    t_end = t_measure + (uint64_t)(duration * 1e9);
    if (count)
        t_measure = t_start;
    for (int i = 0; i < threads; i++) {
        ws[i].rng = 0x9e3779b9u * (unsigned)(i + 1) ^ (unsigned)t_start;
        if (pthread_create(&ws[i].thread, NULL, run_worker, &ws[i]) != 0)
            die("pthread_create failed%s", "");
    }
    for (int i = 0; i < threads; i++)
        pthread_join(ws[i].thread, NULL);
    uint64_t t_done = now_ns();

    size_t total = 0;
    long io_errors = 0, warmup_requests = 0, status[600] = { 0 };
    const char *sample = "";
    for (int i = 0; i < threads; i++) {
        total += ws[i].n;
        io_errors += ws[i].io_errors;
        warmup_requests += ws[i].warmup_requests;
        for (int s = 0; s < 600; s++)
            status[s] += ws[i].status[s];
        if (!sample[0] && ws[i].error_sample[0])
            sample = ws[i].error_sample;
    }
    uint64_t *all = malloc((total + 1) * sizeof(*all));
    uint64_t *bytag = malloc((total + 1) * sizeof(*bytag));
    if (!all || !bytag)
        die("out of memory%s", "");
    size_t k = 0;
    for (int i = 0; i < threads; i++)
        for (size_t j = 0; j < ws[i].n; j++)
            all[k++] = ws[i].samples[j].ns;
    qsort(all, total, sizeof(*all), cmp_u64);
    double seconds = (double)(t_done - t_measure) / 1e9;

    long ok = 0;
    for (int s = 200; s < 300; s++)
        ok += status[s];
    printf("{\n  \"threads\": %d, \"seconds\": %.3f, \"requests\": %zu, \"ok\": %ld, "
           "\"io_errors\": %ld, \"warmup_requests\": %ld,\n  \"rps\": %.1f,\n  \"status\": {",
           threads, seconds, total, ok, io_errors, warmup_requests,
           seconds > 0 ? (double)total / seconds : 0.0);
    int first = 1;
    for (int s = 0; s < 600; s++)
        if (status[s]) {
            printf("%s\"%d\": %ld", first ? "" : ", ", s, status[s]);
            first = 0;
        }
    printf("},\n  \"latency\": {");
    print_stats("", all, total);
    printf("},\n  \"by_tag\": {");
    for (int t = 0; t < ntags; t++) {
        size_t m = 0;
        for (int i = 0; i < threads; i++)
            for (size_t j = 0; j < ws[i].n; j++)
                if ((int)ws[i].samples[j].tag == t)
                    bytag[m++] = ws[i].samples[j].ns;
        qsort(bytag, m, sizeof(*bytag), cmp_u64);
        printf("%s\n    ", t ? "," : "");
        json_string_out(tags[t]);
        printf(": {");
        print_stats("", bytag, m);
        printf("}");
    }
    printf("\n  },\n  \"error_sample\": ");
    json_string_out(sample);
    printf("\n}\n");
    return 0;
}
