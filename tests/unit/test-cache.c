/*
 * test-cache.c - tests of lib/cache*.c: the memory LRU, and the Redis tier
 * against a real redis-server that the test starts on a free loopback port
 * (and kills and restarts to check the outage behaviour).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "mw/buf.h"
#include "mw/cache.h"
#include "mw/config.h"
#include "mw/log.h"
#include "mw/redis-target.h"

#define REDIS_SERVER "redis-server"
#define PREFIX "mwtest:"

static pid_t redis_pid = -1;
static int redis_port;

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static struct mw_config *
cfg_make(const char *fmt, ...)
{
    char text[1024];
    struct mw_err err;
    struct mw_config *cfg;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    cfg = mw_config_parse("test.conf", text, strlen(text), &err);
    assert_non_null(cfg);
    assert_int_equal(mw_config_validate(cfg, mw_cfg_core_sections, 5), 0);
    return cfg;
}

static struct mw_cache *
cache_open(const char *fmt, ...)
{
    char text[1024];
    struct mw_err err;
    struct mw_config *cfg;
    struct mw_cache *c;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    cfg = cfg_make("%s", text);
    c = mw_cache_open(cfg, &err);
    assert_non_null(c);
    mw_config_free(&cfg);
    return c;
}

static struct mw_cache *
redis_cache_open(void)
{
    return cache_open("[cache]\nbackend = redis\nredis = 127.0.0.1:%d\nredis_prefix = " PREFIX
                      "\nredis_timeout_ms = 500\n",
                      redis_port);
}

/* A port nobody listens on right now. */
static int
free_port(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

/* A separate hiredis connection, to look at what the cache wrote. */
static redisContext *
peek_connect(void)
{
    struct timeval tv = {1, 0};
    redisContext *ctx = redisConnectWithTimeout("127.0.0.1", redis_port, tv);

    if (ctx != NULL && ctx->err) {
        redisFree(ctx);
        return NULL;
    }
    return ctx;
}

static void
redis_start(void)
{
    char port[16];

    snprintf(port, sizeof(port), "%d", redis_port);
    redis_pid = fork();
    assert_true(redis_pid >= 0);
    if (redis_pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execlp(REDIS_SERVER, REDIS_SERVER, "--port", port, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--daemonize", "no", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        redisContext *ctx = peek_connect();
        redisReply *reply = ctx ? redisCommand(ctx, "PING") : NULL;
        int ok = reply != NULL && reply->type == REDIS_REPLY_STATUS;
        if (reply)
            freeReplyObject(reply);
        if (ctx)
            redisFree(ctx);
        if (ok)
            return;
        sleep_ms(50);
    }
    fail_msg("redis-server did not answer PING on port %d", redis_port);
}

static void
redis_kill(void)
{
    if (redis_pid > 0) {
        kill(redis_pid, SIGKILL);
        waitpid(redis_pid, NULL, 0);
        redis_pid = -1;
    }
}

static int
redis_setup(void **state)
{
    (void)state;
    if (system("command -v " REDIS_SERVER " >/dev/null 2>&1") != 0)
        skip();
    redis_port = free_port();
    redis_start();
    return 0;
}

static int
redis_teardown(void **state)
{
    (void)state;
    redis_kill();
    return 0;
}

/* GET key through a separate connection; NULL if absent. Caller frees. */
static redisReply *
peek(const char *cmd, const char *key)
{
    redisContext *ctx = peek_connect();
    redisReply *reply;

    assert_non_null(ctx);
    reply = redisCommand(ctx, "%s %s", cmd, key);
    assert_non_null(reply);
    redisFree(ctx);
    return reply;
}

static void
test_memory_basic(void **state)
{
    struct mw_cache *c = cache_open("");
    static const char bin[] = {'a', '\0', 'b', '\0', '\xff'};
    struct mw_cache_stats st;
    struct mw_buf b;

    (void)state;
    mw_buf_init(&b);
    assert_int_equal(mw_cache_get(c, "k", &b), 0);
    mw_cache_set(c, "k", "one", 3, 60);
    assert_int_equal(mw_cache_get(c, "k", &b), 1);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "one", 3);
    mw_cache_set(c, "k", "second", 6, 60);
    mw_buf_reset(&b);
    assert_int_equal(mw_cache_get(c, "k", &b), 1);
    assert_string_equal(b.data, "second");
    mw_cache_set(c, "bin", bin, sizeof(bin), 60);
    mw_buf_reset(&b);
    assert_int_equal(mw_cache_get(c, "bin", &b), 1);
    assert_int_equal(b.len, sizeof(bin));
    assert_memory_equal(b.data, bin, sizeof(bin));
    mw_cache_del(c, "k");
    mw_buf_reset(&b);
    assert_int_equal(mw_cache_get(c, "k", &b), 0);
    assert_int_equal(b.len, 0);
    mw_cache_set(c, "bin", "x", 1, 0); /* ttl 0 = do not cache */
    assert_int_equal(mw_cache_get(c, "bin", &b), 0);
    mw_cache_stats(c, &st);
    assert_int_equal(st.hits, 3);
    assert_int_equal(st.misses, 3);
    assert_int_equal(st.sets, 4);
    assert_int_equal(st.memory_entries, 0);
    assert_int_equal(st.redis_up, 0);
    mw_buf_release(&b);
    mw_cache_close(&c);
    assert_null(c);
}

static void
test_memory_ttl(void **state)
{
    struct mw_cache *c = cache_open("");
    struct mw_buf b;

    (void)state;
    mw_buf_init(&b);
    mw_cache_set(c, "short", "v", 1, 1);
    mw_cache_set(c, "long", "w", 1, 3600);
    assert_int_equal(mw_cache_get(c, "short", &b), 1);
    sleep_ms(1200);
    assert_int_equal(mw_cache_get(c, "short", &b), 0);
    assert_int_equal(mw_cache_get(c, "long", &b), 1);
    mw_buf_release(&b);
    mw_cache_close(&c);
}

static void
test_memory_lru(void **state)
{
    struct mw_cache *c = cache_open("[cache]\nmemory_max_entries = 16\n");
    struct mw_cache_stats st;
    struct mw_buf b;
    char key[32];

    (void)state;
    mw_buf_init(&b);
    for (int i = 0; i < 16; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        mw_cache_set(c, key, key, strlen(key), 600);
    }
    /* Touch k0: now k1 is the least recently used. */
    assert_int_equal(mw_cache_get(c, "k0", &b), 1);
    mw_cache_set(c, "k16", "x", 1, 600);
    mw_cache_stats(c, &st);
    assert_int_equal(st.memory_entries, 16);
    assert_int_equal(mw_cache_get(c, "k1", &b), 0);
    assert_int_equal(mw_cache_get(c, "k0", &b), 1);
    assert_int_equal(mw_cache_get(c, "k2", &b), 1);
    assert_int_equal(mw_cache_get(c, "k16", &b), 1);
    for (int i = 100; i < 1100; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        mw_cache_set(c, key, key, strlen(key), 600);
    }
    mw_cache_stats(c, &st);
    assert_int_equal(st.memory_entries, 16);
    for (int i = 1084; i < 1100; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        mw_buf_reset(&b);
        assert_int_equal(mw_cache_get(c, key, &b), 1);
        assert_string_equal(b.data, key);
    }
    assert_int_equal(mw_cache_get(c, "k1083", &b), 0);
    mw_buf_release(&b);
    mw_cache_close(&c);
}

static void
test_redis_shared(void **state)
{
    struct mw_cache *a = redis_cache_open(), *b2 = redis_cache_open();
    static const char bin[] = {'v', '\0', 'a', 'l', '\n'};
    struct mw_cache_stats st;
    redisReply *reply;
    struct mw_buf b;

    (void)state;
    mw_buf_init(&b);
    mw_cache_set(a, "shared", bin, sizeof(bin), 100);
    reply = peek("GET", PREFIX "shared");
    assert_int_equal(reply->type, REDIS_REPLY_STRING);
    assert_int_equal(reply->len, sizeof(bin));
    assert_memory_equal(reply->str, bin, sizeof(bin));
    freeReplyObject(reply);
    reply = peek("TTL", PREFIX "shared");
    assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
    assert_true(reply->integer > 0 && reply->integer <= 100);
    freeReplyObject(reply);

    /* Another fleet member reads it from Redis, then from its own memory. */
    assert_int_equal(mw_cache_get(b2, "shared", &b), 1);
    assert_int_equal(b.len, sizeof(bin));
    assert_memory_equal(b.data, bin, sizeof(bin));
    mw_cache_stats(b2, &st);
    assert_int_equal(st.memory_entries, 1);
    assert_int_equal(st.redis_up, 1);
    assert_int_equal(st.redis_errors, 0);

    mw_cache_del(a, "shared");
    reply = peek("EXISTS", PREFIX "shared");
    assert_int_equal(reply->integer, 0);
    freeReplyObject(reply);
    mw_buf_reset(&b);
    assert_int_equal(mw_cache_get(a, "shared", &b), 0);
    mw_buf_release(&b);
    mw_cache_close(&a);
    mw_cache_close(&b2);
}

/* Count lines of path containing needle. */
static int
count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int n = 0;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL)
        if (strstr(line, needle) != NULL)
            n++;
    fclose(f);
    return n;
}

static void
test_redis_outage(void **state)
{
    struct mw_cache *c = redis_cache_open();
    char logpath[] = "/tmp/mw-test-cache-log.XXXXXX";
    int logfd = mkstemp(logpath), saved = dup(2);
    struct mw_cache_stats st;
    struct mw_buf b;
    redisReply *reply;
    char key[32];
    int up = 0;

    (void)state;
    assert_true(logfd >= 0 && saved >= 0);
    mw_buf_init(&b);
    mw_cache_set(c, "before", "1", 1, 600);
    redis_kill();

    /* Capture our log lines while Redis is away. */
    mw_log_set_stderr(1);
    dup2(logfd, 2);
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "down%d", i);
        mw_cache_set(c, key, key, strlen(key), 600);
        mw_buf_reset(&b);
        assert_int_equal(mw_cache_get(c, key, &b), 1);
        assert_string_equal(b.data, key);
        assert_int_equal(mw_cache_get(c, "before", &b), 1);
        assert_int_equal(mw_cache_get(c, "never-set", &b), 0);
    }
    mw_cache_stats(c, &st);
    assert_int_equal(st.redis_up, 0);
    assert_int_equal(st.redis_outages, 1);
    assert_true(st.redis_errors >= 1);

    /* Back on the same port: after the backoff the cache writes to Redis again. */
    redis_start();
    for (int i = 0; i < 700 && !up; i++) {
        mw_cache_set(c, "after", "2", 1, 600);
        mw_cache_stats(c, &st);
        up = st.redis_up;
        if (!up)
            sleep_ms(100);
    }
    dup2(saved, 2);
    close(saved);
    mw_log_set_stderr(0);
    assert_true(up);
    assert_int_equal(st.redis_outages, 1);
    reply = peek("GET", PREFIX "after");
    assert_int_equal(reply->type, REDIS_REPLY_STRING);
    assert_string_equal(reply->str, "2");
    freeReplyObject(reply);

    assert_int_equal(count_lines(logpath, "unreachable"), 1);
    assert_int_equal(count_lines(logpath, "reachable again"), 1);
    close(logfd);
    unlink(logpath);
    mw_buf_release(&b);
    mw_cache_close(&c);
}

static void
test_redis_down_at_start(void **state)
{
    struct mw_cache *c = cache_open("[cache]\nbackend = redis\nredis = 127.0.0.1:%d\n"
                                    "redis_timeout_ms = 200\n",
                                    free_port());
    struct mw_cache_stats st;
    struct mw_buf b;

    (void)state;
    mw_buf_init(&b);
    mw_cache_set(c, "k", "v", 1, 60);
    assert_int_equal(mw_cache_get(c, "k", &b), 1);
    assert_string_equal(b.data, "v");
    assert_int_equal(mw_cache_get(c, "absent", &b), 0);
    mw_cache_stats(c, &st);
    assert_int_equal(st.redis_up, 0);
    assert_int_equal(st.redis_outages, 1);
    mw_buf_release(&b);
    mw_cache_close(&c);
}

/* [cache] redis is checked with the configuration (-n): plain servers and sentinel:// lists. */
static void
test_bad_endpoint(void **state)
{
    static const char *const bad[] = {
        "nonsense",           "sentinel://",
        "sentinel://h:1/",    "sentinel://h:1,/m",
        "sentinel://h/m",     "sentinel://unix:/x/m",
        "sentinel://h:1/m m", "sentinel:///m",
        "sentinel://h:0/m",   "sentinel://a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9/m",
    };
    static const char text[] = "[cache]\nbackend = redis\nredis = nonsense\n";
    struct mw_redis_target t;
    struct mw_config *cfg;
    struct mw_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.text[0] = '\0';
        assert_int_equal(mw_redis_target_check(bad[i], &err), -1);
        assert_true(err.text[0] != '\0');
    }
    assert_int_equal(mw_redis_target_parse("unix:/run/redis.sock", &t, &err), 0);
    assert_false(t.sentinel);
    assert_int_equal(
        mw_redis_target_parse("sentinel://127.0.0.1:26379,[::1]:26380/my-master.1", &t, &err), 0);
    assert_true(t.sentinel);
    assert_int_equal(t.nsentinels, 2);
    assert_string_equal(t.sentinels[1].host, "::1");
    assert_string_equal(t.sentinels[1].port, "26380");
    assert_string_equal(t.master, "my-master.1");
    cfg = mw_config_parse("test.conf", text, strlen(text), &err);
    assert_non_null(cfg);
    assert_int_equal(mw_config_validate(cfg, mw_cfg_core_sections, 5), 1);
    mw_config_free(&cfg);
}

/* Many threads at once on one Redis-backed cache (mailward-milter's use). */
static void *
thread_work(void *arg)
{
    struct mw_cache *c = ((void **)arg)[0];
    long id = (long)((void **)arg)[1];
    struct mw_buf b;
    char key[64];
    long bad = 0;

    mw_buf_init(&b);
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof(key), "t%ld-%d", id, i);
        mw_cache_set(c, key, key, strlen(key), 60);
        mw_buf_reset(&b);
        if (mw_cache_get(c, key, &b) != 1 || strcmp(b.data, key) != 0)
            bad++;
        if (i % 10 == 0)
            mw_cache_del(c, key);
    }
    mw_buf_release(&b);
    return (void *)bad;
}

static void
test_redis_threads(void **state)
{
    struct mw_cache *c = redis_cache_open();
    pthread_t t[8];
    void *args[8][2];
    struct mw_cache_stats st;
    redisReply *reply;

    (void)state;
    for (long i = 0; i < 8; i++) {
        args[i][0] = c;
        args[i][1] = (void *)i;
        assert_int_equal(pthread_create(&t[i], NULL, thread_work, args[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        void *bad;
        pthread_join(t[i], &bad);
        assert_null(bad);
    }
    mw_cache_stats(c, &st);
    assert_int_equal(st.sets, 8 * 300);
    assert_int_equal(st.hits, 8 * 300);
    assert_int_equal(st.redis_errors, 0);
    reply = peek("GET", PREFIX "t7-299");
    assert_int_equal(reply->type, REDIS_REPLY_STRING);
    assert_string_equal(reply->str, "t7-299");
    freeReplyObject(reply);
    reply = peek("EXISTS", PREFIX "t7-290");
    assert_int_equal(reply->integer, 0);
    freeReplyObject(reply);
    mw_cache_close(&c);
}

/* What an asynchronous callback saw. */
struct answer {
    int calls;
    int found;
    struct mw_buf val;
    int returned; /* set after mw_cache_get_async() returned */
    int early;    /* the callback ran before that */
};

static void
on_answer(void *arg, int found, const void *val, size_t len)
{
    struct answer *a = arg;

    if (!a->returned)
        a->early = 1;
    a->calls++;
    a->found = found;
    mw_buf_reset(&a->val);
    if (found)
        mw_buf_append(&a->val, val, len);
}

static void
ask(struct mw_cache *c, struct event_base *base, const char *key, struct answer *a)
{
    a->calls = a->found = a->returned = a->early = 0;
    mw_cache_get_async(c, base, key, on_answer, a);
    a->returned = 1;
}

static void
wait_for(struct event_base *base, struct answer *a)
{
    for (int i = 0; i < 10000 && a->calls == 0; i++)
        event_base_loop(base, EVLOOP_ONCE);
    assert_int_equal(a->calls, 1);
    assert_false(a->early);
}

static void
test_async(void **state)
{
    struct event_base *base = event_base_new();
    struct mw_cache *writer = redis_cache_open(), *c = redis_cache_open();
    struct mw_cache_stats st;
    struct answer a, pending;
    redisReply *reply;

    (void)state;
    mw_buf_init(&a.val);
    mw_buf_init(&pending.val);
    mw_cache_set(writer, "async", "value\0x", 7, 100);

    ask(c, base, "async", &a); /* from Redis */
    wait_for(base, &a);
    assert_int_equal(a.found, 1);
    assert_int_equal(a.val.len, 7);
    assert_memory_equal(a.val.data, "value\0x", 7);
    mw_cache_stats(c, &st);
    assert_int_equal(st.memory_entries, 1);

    ask(c, base, "async", &a); /* now from memory, still deferred */
    wait_for(base, &a);
    assert_int_equal(a.found, 1);

    ask(c, base, "nothing-here", &a);
    wait_for(base, &a);
    assert_int_equal(a.found, 0);

    /* An async set, then a get on the same connection: the SET is in Redis by then. */
    mw_cache_set_async(c, base, "aset", "z", 1, 50);
    ask(c, base, "nothing-either", &a);
    wait_for(base, &a);
    reply = peek("GET", PREFIX "aset");
    assert_int_equal(reply->type, REDIS_REPLY_STRING);
    assert_string_equal(reply->str, "z");
    freeReplyObject(reply);

    /* Redis gone: a lookup not in memory is a miss, and memory still answers. */
    redis_kill();
    ask(c, base, "not-in-memory", &a);
    wait_for(base, &a);
    assert_int_equal(a.found, 0);
    ask(c, base, "aset", &a);
    wait_for(base, &a);
    assert_int_equal(a.found, 1);
    mw_cache_stats(c, &st);
    assert_int_equal(st.redis_up, 0);
    assert_int_equal(st.redis_outages, 1);

    /* Closing answers what is still pending, exactly once. */
    ask(c, base, "aset", &pending);
    mw_cache_close(&c);
    assert_int_equal(pending.calls, 1);
    assert_int_equal(pending.found, 1);

    mw_buf_release(&a.val);
    mw_buf_release(&pending.val);
    mw_cache_close(&writer);
    event_base_free(base);
}

/* Async lookups in flight when Redis restarts are answered, and Redis is used again. */
static void
test_async_recover(void **state)
{
    struct event_base *base = event_base_new();
    struct mw_cache *c = redis_cache_open();
    struct mw_cache_stats st;
    struct answer a;

    (void)state;
    mw_buf_init(&a.val);
    ask(c, base, "x", &a);
    wait_for(base, &a);
    redis_kill();
    redis_start();
    for (int i = 0; i < 700; i++) {
        mw_cache_stats(c, &st);
        if (st.redis_outages == 1 && st.redis_up)
            break;
        ask(c, base, "x", &a);
        wait_for(base, &a);
        assert_int_equal(a.found, 0);
        sleep_ms(100);
    }
    mw_cache_stats(c, &st);
    assert_int_equal(st.redis_up, 1);
    /* A lookup with Redis up again goes to Redis and finds what another host wrote. */
    {
        redisContext *ctx = peek_connect();
        redisReply *r;
        assert_non_null(ctx);
        r = redisCommand(ctx, "SET %s %s EX 60", PREFIX "x", "fresh");
        assert_non_null(r);
        freeReplyObject(r);
        redisFree(ctx);
    }
    ask(c, base, "x", &a);
    wait_for(base, &a);
    assert_int_equal(a.found, 1);
    assert_string_equal(a.val.data, "fresh");
    mw_buf_release(&a.val);
    mw_cache_close(&c);
    event_base_free(base);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_basic),
        cmocka_unit_test(test_memory_ttl),
        cmocka_unit_test(test_memory_lru),
        cmocka_unit_test(test_bad_endpoint),
        cmocka_unit_test(test_redis_down_at_start),
        cmocka_unit_test_setup_teardown(test_redis_shared, redis_setup, redis_teardown),
        cmocka_unit_test_setup_teardown(test_redis_threads, redis_setup, redis_teardown),
        cmocka_unit_test_setup_teardown(test_redis_outage, redis_setup, redis_teardown),
        cmocka_unit_test_setup_teardown(test_async, redis_setup, redis_teardown),
        cmocka_unit_test_setup_teardown(test_async_recover, redis_setup, redis_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
