// Global Privacy Control (Sec-GPC: 1): the preferences page says it is honoured, nothing is set
// before a choice, and advertising stays refused even after "Allow all" (the cookie records
// what was chosen; the server applies GPC when it reads it — server/web/page.c,
// cu_web_choice_parse).
import assert from 'node:assert/strict';

export default async function (ctx) {
	const context = await ctx.newContext({ extraHTTPHeaders: { 'Sec-GPC': '1' } });
	const page = await context.newPage();
	const notice = page.locator('main p.notice', { hasText: ctx.t('en', 'cookies_gpc') });

	await ctx.visit(page, '/cookies', { shot: 'cookies-gpc' });
	assert.ok(await notice.isVisible(), 'the GPC notice');
	// Without a choice, GPC refuses statistics too: nothing is set, even a language asked for.
	await page.goto('/?lang=ja');
	assert.deepEqual(await ctx.cookies(context), {});
	await page.goto('/cookies?lang=en');

	await Promise.all([page.waitForURL('**/cookies'),
		page.locator('section.banner button[name="all"][value="accept"]').click()]);
	const jar = await ctx.cookies(context);
	assert.deepEqual(Object.keys(jar), ['cu_cookies'], 'the choice is the only cookie');
	assert.match(jar.cu_cookies, /^n1p1s1a[01]$/);
	// Still said, and no advertising cookie: every cookie is listed above.
	await ctx.axe(page);
	assert.ok(await notice.isVisible(), 'the GPC notice after "Allow all"');

	// The same choice without GPC (another browser) is not refused: GPC alone makes the difference.
	const plain = await ctx.newContext();
	await plain.addCookies([{ ...(await context.cookies())[0] }]);
	const p2 = await plain.newPage();
	await p2.goto('/cookies');
	assert.equal(await p2.locator('main p.notice', { hasText: ctx.t('en', 'cookies_gpc') }).count(), 0);
}
