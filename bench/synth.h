/*
 * bench/synth.h — synthetic members for the benchmarks.
 *
 * Member i is a pure function of (seed, i): the CSV writer (bench_import)
 * and the raw-SQLite baseline (bench_import_baseline) call synth_member()
 * for the same i and so agree on every value's length without sharing a
 * file.  The values look like the service's members: Japanese and romanised
 * names, Japanese postal addresses (UTF-8; a few on two lines), telephone
 * numbers both domestic (090-1234-5678, 03-1234-5678) and E.164
 * (+81 90 1234 5678, +1 415 555 0123, +447700900123), a unique e-mail
 * address, and survey answers that are present for only some members.
 * Every value passes the default policy's rules, so an import rejects none.
 */
#ifndef CU_BENCH_SYNTH_H
#define CU_BENCH_SYNTH_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The default policy's fields, in its order (so bit i of `present` is field i). */
#define SYNTH_NFIELDS 12
static const char *const synth_fields[SYNTH_NFIELDS] = {
    "name",       "address",       "phone",
    "email",      "date_of_birth", "age",
    "occupation", "income",        "newspapers_magazines",
    "products",   "services",      "hobbies",
};

#define SYNTH_VALUE_MAX 256

typedef struct synth_member {
	char v[SYNTH_NFIELDS][SYNTH_VALUE_MAX]; /* "" = not answered */
	size_t len[SYNTH_NFIELDS];
} synth_member;

#define SYNTH_SEED 0x637573746f6469ULL /* fixed: every run imports the same file */

static inline uint64_t synth_mix(uint64_t x)
{
	/* splitmix64's finaliser */
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

typedef struct synth_rng {
	uint64_t s;
} synth_rng;

static inline uint64_t synth_next(synth_rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return synth_mix(r->s);
}

/* Uniform-enough in [0, n) for the small n used here. */
static inline unsigned synth_below(synth_rng *r, unsigned n)
{
	return (unsigned)((synth_next(r) >> 32) % n);
}

static inline int synth_chance(synth_rng *r, unsigned percent)
{
	return synth_below(r, 100) < percent;
}

#define SYNTH_PICK(r, a) ((a)[synth_below((r), (unsigned)(sizeof(a) / sizeof((a)[0])))])

static const char *const synth_family_kanji[] = {
    "佐藤", "鈴木", "高橋",   "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
    "吉田", "山田", "佐々木", "山口", "松本", "井上", "木村", "林",   "斎藤", "清水",
};
static const char *const synth_given_kanji[] = {
    "太郎", "花子", "翔",   "陽菜", "蓮",   "結衣", "大翔", "さくら", "悠真", "美咲",
    "健一", "由美", "拓也", "愛",   "直樹", "恵子", "誠",   "明美",   "和也", "真由美",
};
static const char *const synth_family_latin[] = {
    "sato",      "suzuki", "takahashi", "tanaka", "ito",    "watanabe", "yamamoto", "nakamura",
    "kobayashi", "kato",   "smith",     "garcia", "nguyen", "kim",      "muller",   "rossi",
};
static const char *const synth_given_latin[] = {
    "taro", "hanako", "sho",  "hina", "ren",    "yui",  "haruto", "sakura",
    "yuma", "misaki", "emma", "liam", "olivia", "noah", "minh",   "jiwoo",
};
static const char *const synth_pref[] = {
    "東京都千代田区",     "東京都新宿区",       "大阪府大阪市北区",   "神奈川県横浜市中区",
    "愛知県名古屋市中区", "福岡県福岡市博多区", "北海道札幌市中央区", "京都府京都市左京区",
    "兵庫県神戸市中央区", "宮城県仙台市青葉区",
};
static const char *const synth_town[] = {
    "丸の内", "西新宿", "梅田", "山下町", "栄", "博多駅前", "大通西", "北白川", "三宮町", "一番町",
};
static const char *const synth_building[] = {
    "グランドメゾン", "サンハイツ", "パークコート", "レジデンス", "コーポ",
};
static const char *const synth_domain[] = {
    "example.jp", "example.co.jp", "mail.example.ne.jp", "example.com", "example.org",
};
static const char *const synth_occupation[] = {
    "会社員",  "公務員",   "自営業",
    "学生",    "engineer", "teacher",
    "nurse",   "designer", "パート・アルバイト",
    "retired",
};
static const char *const synth_income[] = {
    "under 3M JPY", "3-5M JPY", "5-7M JPY", "7-10M JPY", "over 10M JPY",
};
static const char *const synth_press[] = {
    "日本経済新聞", "朝日新聞",        "読売新聞",     "週刊文春",
    "Newsweek",     "The Japan Times", "日経ビジネス", "an・an",
};
static const char *const synth_products[] = {
    "flashcards", "language courses", "exam prep",     "タブレット",
    "e-books",    "オンライン英会話", "study planner",
};
static const char *const synth_services[] = {
    "newsletter", "live classes", "career coaching", "mobile app", "study groups",
};
static const char *const synth_hobbies[] = {
    "reading", "travel", "料理", "running", "写真", "music", "gaming", "登山", "旅行", "cycling",
};

/* Appends to field f of m, truncating at the buffer's end (no value gets near it). */
__attribute__((format(printf, 3, 4))) static inline void synth_put(synth_member *m, int f,
                                                                   const char *fmt, ...)
{
	size_t room = SYNTH_VALUE_MAX - m->len[f];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(m->v[f] + m->len[f], room, fmt, ap);
	va_end(ap);
	if (n > 0)
		m->len[f] += (size_t)n < room ? (size_t)n : room - 1;
}

/* 1..max distinct-ish items of a list, comma-separated. */
static inline void synth_list(synth_rng *r, synth_member *m, int f, const char *const *items,
                              unsigned nitems, unsigned max)
{
	unsigned k = 1 + synth_below(r, max), first = synth_below(r, nitems);

	for (unsigned j = 0; j < k && j < nitems; j++)
		synth_put(m, f, "%s%s", j ? "," : "", items[(first + j * 3) % nitems]);
}

static inline void synth_member_make(uint64_t i, synth_member *m)
{
	synth_rng r = {synth_mix(SYNTH_SEED ^ synth_mix(i))};
	const char *gl = SYNTH_PICK(&r, synth_given_latin);
	const char *fl = SYNTH_PICK(&r, synth_family_latin);
	int birth_year = 0;

	for (int f = 0; f < SYNTH_NFIELDS; f++) {
		m->v[f][0] = '\0';
		m->len[f] = 0;
	}

	/* name: mostly kanji, family name first; some romanised, given name first */
	if (synth_chance(&r, 70))
		synth_put(m, 0, "%s %s", SYNTH_PICK(&r, synth_family_kanji),
		          SYNTH_PICK(&r, synth_given_kanji));
	else
		synth_put(m, 0, "%c%s %c%s", gl[0] - 32, gl + 1, fl[0] - 32, fl + 1);

	/* address: postcode, prefecture and ward, block numbers, sometimes a building */
	synth_put(m, 1, "〒%03u-%04u %s%s%u丁目%u-%u", 100 + synth_below(&r, 900),
	          synth_below(&r, 10000), SYNTH_PICK(&r, synth_pref), SYNTH_PICK(&r, synth_town),
	          1 + synth_below(&r, 9), 1 + synth_below(&r, 30), 1 + synth_below(&r, 20));
	if (synth_chance(&r, 40))
		synth_put(m, 1, "%s%s%u号室", synth_chance(&r, 5) ? "\n" : " ",
		          SYNTH_PICK(&r, synth_building), 101 + synth_below(&r, 1200));

	/* phone: domestic mobile, domestic landline, or E.164 */
	switch (synth_below(&r, 10)) {
	case 0:
	case 1:
	case 2:
	case 3:
	case 4:
		synth_put(m, 2, "0%u0-%04u-%04u", 7 + synth_below(&r, 3), synth_below(&r, 10000),
		          synth_below(&r, 10000));
		break;
	case 5:
		synth_put(m, 2, "03-%04u-%04u", synth_below(&r, 10000), synth_below(&r, 10000));
		break;
	case 6:
	case 7:
		synth_put(m, 2, "+81 %u0 %04u %04u", 7 + synth_below(&r, 3), synth_below(&r, 10000),
		          synth_below(&r, 10000));
		break;
	case 8:
		synth_put(m, 2, "+1 %03u 555 %04u", 201 + synth_below(&r, 700),
		          synth_below(&r, 10000));
		break;
	default:
		synth_put(m, 2, "+447700%06u", synth_below(&r, 1000000));
		break;
	}

	/* email: unique by i; some capitalised (the blind index lower-cases) */
	synth_put(m, 3, "%s.%s.%llu@%s", gl, fl, (unsigned long long)i,
	          SYNTH_PICK(&r, synth_domain));
	if (synth_chance(&r, 10))
		m->v[3][0] = (char)(m->v[3][0] - 32);

	/* survey answers, each present for some members only */
	if (synth_chance(&r, 70)) {
		birth_year = 1940 + (int)synth_below(&r, 68);
		synth_put(m, 4, "%04d-%02u-%02u", birth_year, 1 + synth_below(&r, 12),
		          1 + synth_below(&r, 28));
	}
	if (synth_chance(&r, 60))
		synth_put(m, 5, "%d",
		          birth_year ? 2026 - birth_year : 18 + (int)synth_below(&r, 70));
	if (synth_chance(&r, 50))
		synth_put(m, 6, "%s", SYNTH_PICK(&r, synth_occupation));
	if (synth_chance(&r, 30))
		synth_put(m, 7, "%s", SYNTH_PICK(&r, synth_income));
	if (synth_chance(&r, 20))
		synth_list(&r, m, 8, synth_press, sizeof(synth_press) / sizeof(synth_press[0]), 3);
	if (synth_chance(&r, 30))
		synth_list(&r, m, 9, synth_products,
		           sizeof(synth_products) / sizeof(synth_products[0]), 4);
	if (synth_chance(&r, 25))
		synth_list(&r, m, 10, synth_services,
		           sizeof(synth_services) / sizeof(synth_services[0]), 3);
	if (synth_chance(&r, 40))
		synth_list(&r, m, 11, synth_hobbies,
		           sizeof(synth_hobbies) / sizeof(synth_hobbies[0]), 4);
}

#endif
