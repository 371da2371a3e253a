/*
 * test_health.c - the proxies' health state machine and the member
 * choice: ejection lengths, half-open trials, Retry-After, back-off with
 * its jitter bounds, 407 for ever, never all unusable, and the spread of
 * round-robin and random.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "health.h"

static struct hl_proxy tab[4];
static struct hl_proxy *const ents[4] = { &tab[0], &tab[1], &tab[2], &tab[3] };

/* Four members that have answered before (no first-contact trial). */
static void
reset(void)
{
	int i;

	memset(tab, 0, sizeof(tab));
	for (i = 0; i < 4; i++)
		tab[i].proven = 1;
}

/* 30 s x consecutive ejections, capped at 5 min; a success resets. */
static void
test_eject_lengths(void **state)
{
	struct hl_proxy e;
	int64_t now = 1000;
	int i;

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_int_equal(hl_state(&e, now), HL_UP);
	for (i = 1; i <= 12; i++) {
		hl_report(&e, HL_FAILED, now, 0, 0);
		int64_t want = 30000LL * i > 300000 ? 300000 : 30000LL * i;

		assert_int_equal(e.until_ms - now, want);
		assert_int_equal(e.why, HL_WHY_EJECTED);
		assert_int_equal(hl_state(&e, now + want - 1), HL_DOWN);
		assert_int_equal(hl_state(&e, now + want), HL_HALF_OPEN);
		now += want;
		/* the trial fails: ejected again, for longer */
		assert_true(hl_take(&e, now, now + 5000));
	}
	hl_report(&e, HL_OK, now, 0, 0);
	assert_int_equal(hl_state(&e, now), HL_UP);
	assert_int_equal(e.fails, 0);
	hl_report(&e, HL_FAILED, now, 0, 0);
	assert_int_equal(e.until_ms - now, 30000);
}

/* Many processes failing on it at once eject it once. */
static void
test_eject_once_for_many(void **state)
{
	struct hl_proxy e;
	int i;

	(void)state;
	memset(&e, 0, sizeof(e));
	for (i = 0; i < 5; i++)
		hl_report(&e, HL_FAILED, 100 + i, 0, 0);
	assert_int_equal(e.fails, 1);
	assert_int_equal(e.until_ms, 100 + 30000);
}

/* Half-open: exactly one trial; the others skip until it ends. */
static void
test_half_open_one_trial(void **state)
{
	struct hl_proxy e;
	int64_t now = 50;

	(void)state;
	memset(&e, 0, sizeof(e));
	hl_report(&e, HL_FAILED, now, 0, 0);
	now += 30000;
	assert_true(hl_take(&e, now, now + 10000));
	assert_int_equal(hl_state(&e, now + 1), HL_TRIAL_BUSY);
	assert_false(hl_take(&e, now + 1, now + 10001));
	/* the trial's holder was killed: its deadline frees the trial */
	assert_int_equal(hl_state(&e, now + 10000), HL_HALF_OPEN);
	assert_true(hl_take(&e, now + 10000, now + 20000));
	hl_report(&e, HL_OK, now + 10001, 0, 0);
	assert_int_equal(hl_state(&e, now + 10001), HL_UP);
	assert_true(hl_take(&e, now + 10002, now + 20000));
	assert_true(hl_take(&e, now + 10002, now + 20000));
}

/* An answer under way when another connect found it dead changes
 * nothing; one that began after the ejection (its trial) clears it. */
static void
test_stale_answer(void **state)
{
	struct hl_proxy e;

	(void)state;
	memset(&e, 0, sizeof(e));
	hl_report(&e, HL_FAILED, 1000, 0, 0);
	hl_answered(&e, 990);
	assert_int_equal(hl_state(&e, 1001), HL_DOWN);
	hl_answered(&e, 1000);
	assert_int_equal(hl_state(&e, 1001), HL_UP);
	assert_int_equal(e.fails, 0);
}

/* Retry-After: exactly that long, then half-open; fails untouched. */
static void
test_retry_after(void **state)
{
	struct hl_proxy e;

	(void)state;
	memset(&e, 0, sizeof(e));
	hl_report(&e, HL_RETRY_AFTER, 7000, 2000, 0);
	assert_int_equal(e.why, HL_WHY_RETRY_AFTER);
	assert_int_equal(hl_state(&e, 8999), HL_DOWN);
	assert_int_equal(hl_state(&e, 9000), HL_HALF_OPEN);
	assert_int_equal(e.fails, 0);
	/* Retry-After: 0 is "now", still a trial first */
	hl_report(&e, HL_RETRY_AFTER, 9000, 0, 0);
	assert_int_equal(hl_state(&e, 9000), HL_HALF_OPEN);
}

/* 429 alone: 1 s doubling to 60 s, jitter takes at most a tenth. */
static void
test_backoff(void **state)
{
	static const int64_t base[] = { 1000, 2000, 4000, 8000, 16000, 32000,
					60000, 60000, 60000 };
	struct hl_proxy e;
	uint32_t rnd;
	size_t i;

	(void)state;
	for (rnd = 0; rnd < 100000; rnd += 9973) {
		memset(&e, 0, sizeof(e));
		for (i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
			int64_t d;

			hl_report(&e, HL_BACKOFF, 0, 0, rnd * 7919u + (uint32_t)i);
			d = e.until_ms;
			if (d > base[i] || d < base[i] - base[i] / 10)
				fail_msg("back-off %zu: %lld ms", i,
					 (long long)d);
			assert_int_equal(e.why, HL_WHY_BACKOFF);
		}
	}
	hl_report(&e, HL_OK, 1, 0, 0);
	hl_report(&e, HL_BACKOFF, 1, 0, 0);
	assert_int_equal(e.until_ms, 1001);
}

/* 407: never again, not even when it is the only member. */
static void
test_auth_forever(void **state)
{
	enum hl_state st[4];

	(void)state;
	reset();
	hl_report(&tab[0], HL_AUTH, 10, 0, 0);
	hl_report(&tab[0], HL_OK, 11, 0, 0);
	assert_int_equal(hl_state(&tab[0], 1000000), HL_AUTH_FAILED);
	assert_int_equal(hl_pick(ents, 1, CFG_FAILOVER, 0, 0, 0, 0, 20, 30,
				 st), -1);
	assert_int_equal(st[0], HL_AUTH_FAILED);
	assert_int_equal(hl_pick(ents, 2, CFG_FAILOVER, 0, 0, 0, 0, 20, 30,
				 st), 1);
	assert_false(hl_retryable(HL_AUTH));
	assert_false(hl_retryable(HL_FINAL));
	assert_true(hl_retryable(HL_FAILED));
	assert_true(hl_retryable(HL_RETRY_AFTER));
}

/* Failover order, skipping the ejected, the full and the tried. */
static void
test_pick_failover(void **state)
{
	enum hl_state st[4];

	(void)state;
	reset();
	assert_int_equal(hl_pick(ents, 3, CFG_FAILOVER, 5, 7, 0, 0, 0, 10,
				 st), 0);
	hl_report(&tab[0], HL_FAILED, 0, 0, 0);
	assert_int_equal(hl_pick(ents, 3, CFG_FAILOVER, 0, 0, 0, 0, 1, 10,
				 st), 1);
	assert_int_equal(st[0], HL_DOWN);
	assert_int_equal(hl_pick(ents, 3, CFG_FAILOVER, 0, 0, 1u << 1, 0, 1,
				 10, st), 2);
	assert_int_equal(st[1], HL_FULL);
	assert_int_equal(hl_pick(ents, 3, CFG_FAILOVER, 0, 0, 0, 1u << 1, 1,
				 10, st), 2);
	assert_int_equal(st[1], HL_TRIED);
	assert_int_equal(hl_pick(ents, 3, CFG_FAILOVER, 0, 0, 0, 6, 1, 10,
				 st), -1);
	/* half-open after 30 s: the first connect takes the trial */
	assert_int_equal(hl_pick(ents, 3, CFG_FAILOVER, 0, 0, 0, 0, 30000,
				 40000, st), 0);
	assert_int_equal(st[0], HL_HALF_OPEN);
	assert_int_equal(hl_pick(ents, 3, CFG_FAILOVER, 0, 0, 0, 0, 30001,
				 40001, st), 1);
	assert_int_equal(st[0], HL_TRIAL_BUSY);
}

/* All skipped: the first attempt goes to the one that comes back first;
 * a second attempt in the same connect does not go to another. */
static void
test_pick_never_all_unusable(void **state)
{
	enum hl_state st[4];

	(void)state;
	reset();
	hl_report(&tab[0], HL_FAILED, 0, 0, 0);
	hl_report(&tab[0], HL_FAILED, 30000, 0, 0);	/* 60 s: 90000 */
	hl_report(&tab[1], HL_RETRY_AFTER, 30000, 5000, 0);	/* 35000 */
	hl_report(&tab[2], HL_FAILED, 30000, 0, 0);	/* 60000 */
	assert_int_equal(hl_pick(ents, 3, CFG_FAILOVER, 0, 0, 0, 0, 30001,
				 40000, st), 1);
	assert_int_equal(st[1], HL_DOWN);
	assert_int_equal(hl_pick(ents, 3, CFG_FAILOVER, 0, 0, 0, 1u << 1,
				 30001, 40000, st), -1);
	/* full members are not forced */
	assert_int_equal(hl_pick(ents, 3, CFG_FAILOVER, 0, 0, 1u << 1, 0,
				 30001, 40000, st), 2);
}

/* Round-robin over 1,000 connects: within 5% of even per member, also
 * with a member out for a while; random too. */
static void
test_pick_spread(void **state)
{
	enum hl_state st[4];
	int count[4], i, k, n = 3;
	uint32_t rnd = 12345;

	(void)state;
	reset();
	memset(count, 0, sizeof(count));
	for (i = 0; i < 1000; i++) {
		k = hl_pick(ents, n, CFG_ROUND_ROBIN, (uint32_t)i, 0, 0, 0, i,
			    i + 10, st);
		assert_true(k >= 0);
		count[k]++;
	}
	for (k = 0; k < n; k++)
		if (abs(count[k] - 1000 / n) > 1000 / n / 20)
			fail_msg("round-robin: member %d got %d", k, count[k]);
	memset(count, 0, sizeof(count));
	for (i = 0; i < 1000; i++) {
		rnd = rnd * 1103515245u + 12345u;
		k = hl_pick(ents, n, CFG_RANDOM, 0, rnd >> 8, 0, 0, i, i + 10,
			    st);
		count[k]++;
	}
	for (k = 0; k < n; k++)
		if (abs(count[k] - 1000 / n) > 1000 / n / 10)
			fail_msg("random: member %d got %d", k, count[k]);
	/* member 1 out: the others share its turns */
	hl_report(&tab[1], HL_FAILED, 0, 0, 0);
	memset(count, 0, sizeof(count));
	for (i = 0; i < 1000; i++)
		count[hl_pick(ents, n, CFG_ROUND_ROBIN, (uint32_t)i, 0, 0, 0,
			      1, 11, st)]++;
	assert_int_equal(count[1], 0);
	assert_true(count[0] >= 300 && count[2] >= 300);
	assert_int_equal(count[0] + count[2], 1000);
}

/* A member not heard from yet: one connect tries it, the others go
 * elsewhere or, with nothing else, wait for its verdict; a lone proxy
 * is never kept waiting. */
static void
test_first_contact(void **state)
{
	enum hl_state st[4];

	(void)state;
	memset(tab, 0, sizeof(tab));
	assert_int_equal(hl_pick(ents, 2, CFG_FAILOVER, 0, 0, 0, 0, 0, 100,
				 st), 0);
	assert_int_equal(hl_pick(ents, 2, CFG_FAILOVER, 0, 0, 0, 0, 1, 100,
				 st), 1);
	assert_int_equal(st[0], HL_TRIAL_BUSY);
	assert_int_equal(hl_pick(ents, 2, CFG_FAILOVER, 0, 0, 0, 0, 2, 100,
				 st), HL_PICK_WAIT);
	/* the first says 429 + Retry-After: the waiting go to member 1,
	 * whose own trial ends well */
	hl_report(&tab[0], HL_RETRY_AFTER, 3, 2000, 0);
	hl_report(&tab[1], HL_OK, 3, 0, 0);
	assert_int_equal(hl_pick(ents, 2, CFG_FAILOVER, 0, 0, 0, 0, 4, 100,
				 st), 1);
	assert_int_equal(hl_pick(ents, 2, CFG_FAILOVER, 0, 0, 0, 0, 5, 100,
				 st), 1);
	assert_int_equal(tab[0].attempts, 1);
	/* alone: its first contact does not hold the others back */
	memset(tab, 0, sizeof(tab));
	assert_int_equal(hl_pick(ents, 1, CFG_FAILOVER, 0, 0, 0, 0, 0, 100,
				 st), 0);
	assert_int_equal(hl_pick(ents, 1, CFG_FAILOVER, 0, 0, 0, 0, 1, 100,
				 st), 0);
	/* a trial's holder killed: the trial ends at its deadline */
	memset(tab, 0, sizeof(tab));
	assert_int_equal(hl_pick(ents, 2, CFG_FAILOVER, 0, 0, 0, 0, 0, 100,
				 st), 0);
	hl_report(&tab[1], HL_FAILED, 0, 0, 0);
	assert_int_equal(hl_pick(ents, 2, CFG_FAILOVER, 0, 0, 0, 0, 50, 150,
				 st), HL_PICK_WAIT);
	assert_int_equal(hl_pick(ents, 2, CFG_FAILOVER, 0, 0, 0, 0, 100, 200,
				 st), 0);
}

/* Entries are found again by key, claimed once, and a full table says so. */
static void
test_find(void **state)
{
	struct cfg_proxy a, b;
	struct hl_proxy *e1, *e2;
	uint32_t i;

	(void)state;
	reset();
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	strcpy(a.name, "a");
	strcpy(b.name, "b");
	strcpy(a.url.host, "198.18.0.1");
	strcpy(b.url.host, "198.18.0.1");
	a.url.port = b.url.port = 3128;
	assert_int_not_equal(hl_key(&a), hl_key(&b));
	assert_int_not_equal(hl_key(&a), 0);
	e1 = hl_find(tab, 4, hl_key(&a));
	e2 = hl_find(tab, 4, hl_key(&b));
	assert_non_null(e1);
	assert_non_null(e2);
	assert_ptr_not_equal(e1, e2);
	assert_ptr_equal(hl_find(tab, 4, hl_key(&a)), e1);
	for (i = 100; i < 102; i++)
		assert_non_null(hl_find(tab, 4, i));
	assert_null(hl_find(tab, 4, 999));
	assert_string_equal(hl_state_str(HL_AUTH_FAILED),
			    "refused our credentials (407) earlier in this "
			    "session");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eject_lengths),
		cmocka_unit_test(test_eject_once_for_many),
		cmocka_unit_test(test_half_open_one_trial),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_stale_answer),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_auth_forever),
		cmocka_unit_test(test_pick_failover),
		cmocka_unit_test(test_pick_never_all_unusable),
		cmocka_unit_test(test_pick_spread),
		cmocka_unit_test(test_first_contact),
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
