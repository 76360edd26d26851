// An analyst in the console's statistics: members counted by occupation drawn as bars, the small
// cell hatched and marked "suppressed", never a bar; the beacon traffic as a time series; axe on
// every page; the screenshots are real pictures (a PNG of a sane size that is not one colour);
// with CU_UPDATE_DOCS_SHOTS=1 the members' page is copied to docs/screenshots/ for docs/web.md.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const DOCS_SHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs',
	'screenshots');
const COMMON = 'engineer';  /* 14 members: above k = 10 */
const SECOND = 'teacher';   /* 12 members: released, or suppressed as the complement */
const RARE = 'falconer';    /* 3 members: a small cell, pooled into "(other)" and suppressed */

/* A PNG's size and whether its pixels differ: IHDR, then the inflated IDAT rows. */
function pngFacts(file) {
	const b = fs.readFileSync(file);
	assert.equal(b.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', `${file} is a PNG`);
	const width = b.readUInt32BE(16), height = b.readUInt32BE(20);
	const idat = [];
	for (let o = 8; o < b.length;) {
		const len = b.readUInt32BE(o), type = b.toString('ascii', o + 4, o + 8);
		if (type === 'IDAT')
			idat.push(b.subarray(o + 8, o + 8 + len));
		o += 12 + len;
	}
	const raw = zlib.inflateSync(Buffer.concat(idat));
	const seen = new Set();
	for (let i = 0; i < raw.length && seen.size < 64; i += 97)
		seen.add(raw[i]);
	return { bytes: b.length, width, height, distinct: seen.size };
}

/* n visitors (user agents) with `views` views each of event, moved daysAgo back (a POST is durable). */
async function hits(ctx, event, n, daysAgo, views = 1) {
	await Promise.all(Array.from({ length: n * views }, async (_, i) => {
		const r = await ctx.api('POST', '/v1/beacon', { json: { page: '/', event },
			headers: { Cookie: 'cu_cookies=n1p0s1a0', 'User-Agent': `StatsJourney-${daysAgo}/${i % n}.0` } });
		assert.equal(r.status, 204, r.text);
	}));
	n *= views;
	const day = (ago) => new Date(Date.now() - ago * 86400000).toISOString().slice(0, 10);
	const py = spawnSync('python3', ['-c', `import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
with c:
    n = c.execute("UPDATE beacon_hits SET day = ?, minute_us = minute_us - ? WHERE event = ? AND day = ?",
                  (sys.argv[2], int(sys.argv[3]) * 86400 * 1000000, sys.argv[4], sys.argv[5])).rowcount
print(n)`, path.join(ctx.data, 'custodian.db'), day(daysAgo), String(daysAgo), event, day(0)],
	{ encoding: 'utf8' });
	assert.equal(py.status, 0, py.stderr);
	assert.equal(Number(py.stdout), n, 'the hits moved back');
}

export default async function (ctx) {
	const { page } = ctx;
	// Side by side (the server has threads to spare): the journey stays well under 30 s.
	await Promise.all(Array.from({ length: 29 }, (_, i) =>
		ctx.newMember({ occupation: i < 14 ? COMMON : i < 26 ? SECOND : RARE, age: String(28 + (i % 4)) })));
	// Traffic is released from the roll-up of days before today: hits sent now are moved back a
	// few days in the store (the clock cannot move) and rolled up as the retention worker would.
	await hits(ctx, 'journey', 12, 1, 2);
	await hits(ctx, 'journey', 14, 2);
	await hits(ctx, 'journey', 3, 3);   /* under k: a suppressed day */
	await hits(ctx, 'journey', 11, 5, 3);
	assert.match(ctx.cli('beacon', 'rollup'), /rolled up [1-9]\d* day/);

	await ctx.consoleLogin(page, 'analyst');
	// The navigation leads there.
	await page.locator('nav a[href="/console/statistics"]').first().click();
	await page.waitForURL('**/console/statistics');
	await ctx.axe(page, { label: 'the statistics form' });

	// Ask: members by occupation, for research.  The release is differentially private by
	// default (the policy's Laplace at ε 0.25: noise of ±8 on these 29 members); for a picture
	// whose small cell is surely small the analyst spends ε 4 of the month's 5 (noise of ±0.5).
	await page.locator('#by').selectOption('occupation');
	await page.locator('#purpose').selectOption('research');
	await page.locator('#noise').selectOption('laplace');
	await page.locator('#epsilon').fill('4');
	await Promise.all([page.waitForURL('**/console/statistics'),
		page.locator('form[action="/console/statistics"] button[type="submit"]').click()]);
	const svg = page.locator('svg.chart.bars');
	await svg.waitFor();
	assert.equal(await svg.getAttribute('role'), 'img');
	assert.ok((await svg.locator('title').first().textContent()).length > 0);
	// A bar for the common occupation; the small cell a hatched mark with its note, not a bar.
	assert.ok(await svg.locator('rect.bar:not(.suppressed)').count() >= 1, 'a bar is drawn');
	assert.ok(await svg.locator('rect.bar.suppressed').count() >= 1, 'a suppressed cell is marked');
	const notes = await svg.locator('text.note').allTextContents();
	assert.ok(notes.some((t) => t === ctx.t('en', 'stat_suppressed_complementary') ||
		t === ctx.t('en', 'stat_suppressed_small').replace('{k}', '10')), notes.join(' | '));
	for (const r of await svg.locator('rect.bar.suppressed').all())
		assert.ok(Number(await r.getAttribute('width')) < 30, 'a suppressed mark has no size of its own');
	// The hatch is a pattern the CSS fills with; no inline style anywhere on the page.
	const fill = await svg.locator('rect.bar.suppressed').first()
		.evaluate((el) => getComputedStyle(el).fill);
	assert.match(fill, /url\(.*#hatch/);
	assert.equal(await page.locator('[style]').count(), 0);
	// The same figures in the table beside it.
	assert.ok(await page.locator('table.stat-cells tbody tr').count() >= 2);
	assert.ok(await page.locator('table.stat-cells .tag.suppressed').count() >= 1);
	await ctx.axe(page, { label: 'a release' });
	await ctx.shot(page, 'statistics-members', { phone: true });

	// Released when, and the fresh-release box for a new draw.
	assert.ok(await page.locator('.stat-result time').count() >= 1);
	assert.equal(await page.locator('#fresh').count(), 1);

	// A filter so narrow it would single people out: the API's refusal, in words.
	await page.locator('#noise').selectOption('');
	await page.locator('#epsilon').fill('');
	await page.locator('#by').selectOption('age_band');
	await page.locator('#where_field').selectOption('occupation');
	await page.locator('#where_value').fill(RARE);
	await page.locator('form[action="/console/statistics"] button[type="submit"]').click();
	await page.locator('#refusal').waitFor();
	assert.equal(await page.locator('svg.chart').count(), 0);
	await ctx.axe(page, { label: 'a refusal' });

	// Traffic: a time series of views and visitors.
	await ctx.visit(page, '/console/statistics/traffic', { shot: 'statistics-traffic' });
	const series = page.locator('svg.chart.series');
	assert.equal(await series.getAttribute('role'), 'img');
	// A point for each day that is not suppressed (14 days, one suppressed); the suppressed day a
	// hatched band and a marked row, with no point.
	assert.equal(await series.locator('circle.series-0').count(), 13);
	assert.equal(await series.locator('circle.series-1').count(), 13);
	assert.equal(await series.locator('rect.gap').count(), 1);
	assert.equal(await page.locator('table.stat-days tbody tr').count(), 14);
	assert.equal(await page.locator('table.stat-days .tag.suppressed').count(), 1);

	// The officer watches the budget: the releases above spent ε, the page says so.
	const officer = await (await ctx.newContext()).newPage();
	await ctx.consoleLogin(officer, 'officer');
	await ctx.visit(officer, '/console/statistics/budget', { shot: 'statistics-budget' });
	assert.equal(await officer.locator('table.stat-budget').count(), 1);

	// The screenshots are pictures: sane sizes, not one colour; one goes to the docs.
	for (const name of ['statistics-members', 'statistics-traffic']) {
		const f = pngFacts(path.join(ctx.shots, `${name}.png`));
		ctx.log(`${name}.png: ${f.width}×${f.height}, ${f.bytes} bytes, ${f.distinct} distinct bytes sampled`);
		assert.equal(f.width, ctx.WIDE.width);
		assert.ok(f.height >= 400 && f.height <= 8000, `height ${f.height}`);
		assert.ok(f.bytes > 10000 && f.bytes < 5e6, `size ${f.bytes}`);
		assert.ok(f.distinct > 8, 'not a blank picture');
	}
	// Only when asked: a test run never changes the source tree.
	if (process.env.CU_UPDATE_DOCS_SHOTS === '1') {
		fs.mkdirSync(DOCS_SHOTS, { recursive: true });
		fs.copyFileSync(path.join(ctx.shots, 'statistics-members.png'),
			path.join(DOCS_SHOTS, 'statistics-members.png'));
	}
}
