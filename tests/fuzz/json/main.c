/* Standalone driver for fuzz_json.c, so the target builds and runs with gcc
 * (ASan/UBSan) where libFuzzer is not available:
 *
 *   fuzz_json [-t seconds] [-s seed] [file...]
 *
 * Runs every file once, then mutates the files and a built-in corpus
 * (byte flips, inserted JSON tokens, deletions, duplications, splices) until
 * the time is up. Mutants that still parse as JSON join the corpus, which
 * keeps it near the inputs that reach the decoder. A crash or abort is the finding; the input that caused it
 * is written to ./crash-input. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/rpc/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 4096

static const char *const seeds[] = {
	"\x00{\"fInt32\":-5,\"fInt64\":\"-9223372036854775808\",\"fUint64\":18446744073709551615,"
	"\"fFloat\":1.5,\"fDouble\":\"NaN\",\"fBytes\":\"-_8\",\"fEnum\":\"COLOR_RED\","
	"\"legacy\":{\"optInt32\":0,\"reqBool\":true},\"rInt64\":[\"1\",2],\"mInt32\":{\"-1\":\"a\"},"
	"\"mBool\":{\"true\":\"1\"},\"mMsg\":{\"7\":{\"child\":{}}},\"dur\":\"-1.5s\","
	"\"ts\":\"2026-11-23T10:24:00.123+01:00\",\"wUint64\":\"5\",\"st\":{\"a\":[1,null,{}]},"
	"\"v\":[true],\"nv\":null,\"empty\":{},\"mask\":\"a.fooBar,b\",\"cVal\":{\"x\":1}}",
	"\x01{\"imageData\":\"aGVsbG8\",\"filters\":[{\"name\":\"blur\",\"params\":{\"sigma\":1.5}}],"
	"\"output\":{\"format\":2,\"quality\":90},\"save\":true}",
	"\x01{\"image_id\":\"x\",\"imageData\":null}",
	"\x04{\"id\":\"x\",\"format\":\"IMAGE_FORMAT_PNG\",\"sizeBytes\":9007199254740993,"
	"\"createdAt\":\"1970-01-01T00:00:00Z\"}",
	"\x05{\"seq\":4294967295,\"value\":-2.5e-3,\"filters\":[{\"params\":{\"a\":\"b\"}}]}",
	"\x07[1,\"\\u00e9\\ud83d\\ude00\",{\"k\":[[],{}]},null,false,-0.0e+5]",
	"\x09\"9999-12-31T23:59:59.999999999Z\"",
	"\x0a\"-315576000000.000000001s\"",
	"\x81output.max_width=100&save=true&image_id=x&filters.name=y&backend=cpu",
	"\x80legacy.opt_int32=4&r_int64=1&r_int64=2&ts=2026-01-01T00:00:00Z&w_bool=t&v=x",
};

static const char *const tokens[] = {
	"{",
	"}",
	"[",
	"]",
	",",
	":",
	"\"",
	"null",
	"true",
	"false",
	"0",
	"-1",
	"1e999",
	"18446744073709551616",
	"\"NaN\"",
	"\"Infinity\"",
	"\\u0000",
	"\\ud800",
	"\\",
	"\xff",
	"\"fInt32\":",
	"\"child\":{",
	"\"v\":[",
	"\"mMsg\":{\"1\":",
	"\"st\":{\"",
	"1.5",
	"\"AA==\"",
	"\"cMsg\":{}",
	"\"cStr\":\"\"",
	"&",
	"=",
	".",
	"child.",
	"\"2026-02-29T00:00:00Z\"",
};

static uint64_t rng;
static uint8_t cur[FUZZ_MAX_INPUT];
static size_t cur_len;

/* ASan's hook, present only in sanitized builds. */
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

static void dump_input(void)
{
	FILE *f = fopen("crash-input", "wb");
	if (f) {
		fwrite(cur, 1, cur_len, f);
		fclose(f);
	}
	static const char msg[] = "input written to crash-input\n";
	if (write(2, msg, sizeof(msg) - 1) < 0)
		return;
}

static void on_signal(int sig)
{
	dump_input();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void run(const uint8_t *p, size_t n)
{
	memcpy(cur, p, n);
	cur_len = n;
	LLVMFuzzerTestOneInput(cur, n);
}

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

typedef struct input {
	uint8_t *p;
	size_t n;
} input;

static input *corpus;
static size_t ncorpus;

static void add(const uint8_t *p, size_t n)
{
	corpus = realloc(corpus, (ncorpus + 1) * sizeof(*corpus));
	corpus[ncorpus].p = malloc(n ? n : 1);
	memcpy(corpus[ncorpus].p, p, n);
	corpus[ncorpus++].n = n;
}

static size_t mutate(uint8_t *b, size_t n)
{
	int rounds = rnd() % 4 ? 1 : 2 + (int)(rnd() % 3);
	for (int r = 0; r < rounds; r++) {
		size_t at = n ? rnd() % (n + 1) : 0;
		switch (rnd() % 6) {
		case 0: /* flip */
			if (n)
				b[at % n] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1: { /* insert a token */
			const char *t = tokens[rnd() % (sizeof(tokens) / sizeof(tokens[0]))];
			size_t k = strlen(t);
			if (n + k > FUZZ_MAX_INPUT)
				break;
			memmove(b + at + k, b + at, n - at);
			memcpy(b + at, t, k);
			n += k;
			break;
		}
		case 2: { /* delete */
			size_t k = 1 + rnd() % 8;
			if (at + k > n)
				break;
			memmove(b + at, b + at + k, n - at - k);
			n -= k;
			break;
		}
		case 3: { /* duplicate a range */
			size_t k = 1 + rnd() % 32;
			if (at + k > n || n + k > FUZZ_MAX_INPUT)
				break;
			memmove(b + at + k, b + at, n - at);
			n += k;
			break;
		}
		case 4: { /* splice another input's tail */
			const input *o = &corpus[rnd() % ncorpus];
			size_t from = o->n ? rnd() % o->n : 0, k = o->n - from;
			if (at + k > FUZZ_MAX_INPUT)
				k = FUZZ_MAX_INPUT - at;
			memcpy(b + at, o->p + from, k);
			n = at + k;
			break;
		}
		case 5: /* random byte */
			if (n)
				b[at % n] = (uint8_t)rnd();
			break;
		}
	}
	if (n == 0)
		b[n++] = 0;
	b[0] = (uint8_t)((b[0] & 0x80) | (rnd() % 4 == 0 ? rnd() & 0x7f : b[0] & 0x7f));
	return n;
}

int main(int argc, char **argv)
{
	double seconds = 10;
	rng = (uint64_t)time(NULL) | 1;
	int i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			rng = strtoull(argv[++i], NULL, 0) | 1;
		else
			break;
	}
	printf("seed %llu\n", (unsigned long long)rng);
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(dump_input);
	signal(SIGABRT, on_signal);
	signal(SIGSEGV, on_signal);
	static uint8_t buf[FUZZ_MAX_INPUT];
	for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		/* seeds start with a selector byte that may be 0: length is
		 * 1 + strlen of the rest */
		add((const uint8_t *)seeds[k], 1 + strlen(seeds[k] + 1));
	}
	for (; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		add(buf, n);
	}
	for (size_t k = 0; k < ncorpus; k++)
		run(corpus[k].p, corpus[k].n);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned long iters = 0;
	for (;;) {
		if ((iters & 1023) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((double)(t.tv_sec - t0.tv_sec) +
				    (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >=
			    seconds)
				break;
		}
		const input *base = &corpus[rnd() % ncorpus];
		memcpy(buf, base->p, base->n);
		size_t n = mutate(buf, base->n);
		run(buf, n);
		/* keep valid-JSON mutants so that mutations compound */
		cJSON *j = NULL;
		if (ncorpus < 8192 && !(buf[0] & 0x80) && rnd() % 8 == 0 &&
		    gpx_json_parse((const char *)buf + 1, n - 1, NULL, &j, NULL) == 0) {
			cJSON_Delete(j);
			add(buf, n);
		}
		iters++;
	}
	printf("%lu inputs, no crash\n", iters);
	for (size_t k = 0; k < ncorpus; k++)
		free(corpus[k].p);
	free(corpus);
	return 0;
}
