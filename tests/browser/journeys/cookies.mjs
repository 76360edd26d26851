// The cookie banner and the preferences page: "Only necessary" stores the choice and nothing
// else; "Allow all" stores it too; refusing statistics (and preferences) afterwards leaves no
// cookie of theirs — the full cookie list is checked, not one name.
import assert from 'node:assert/strict';

const banner = (page, value) => page.locator(`section.banner button[name="all"][value="${value}"]`);

export default async function (ctx) {
	const { page, context } = ctx;

	// "Only necessary": back on the same page, banner gone, only the choice is stored.
	await ctx.visit(page, '/');
	await Promise.all([page.waitForURL('**/'), banner(page, 'reject').click()]);
	assert.equal(new URL(page.url()).pathname, '/', 'back to the page the banner was on');
	assert.equal(await page.locator('section.banner').count(), 0, 'no banner once chosen');
	assert.deepEqual(await ctx.cookies(context), { cu_cookies: 'n1p0s0a0' });
	await ctx.axe(page);
	// A language asked for is not remembered: preferences are refused.
	await page.goto('/?lang=ja');
	assert.equal(await page.locator('html').getAttribute('lang'), 'ja');
	assert.deepEqual(await ctx.cookies(context), { cu_cookies: 'n1p0s0a0' }, 'no cu_lang');
	await page.goto('/?lang=en');
	// The preferences page shows the choice: optional categories off.
	await ctx.visit(page, '/cookies');
	for (const c of ['preferences', 'statistics', 'advertising'])
		assert.equal(await page.locator(`#c-${c}`).isChecked(), false, c);

	// Another visitor: "Allow all".
	const other = await ctx.newContext();
	const p2 = await other.newPage();
	await ctx.visit(p2, '/cookies');
	await Promise.all([p2.waitForURL('**/cookies'), banner(p2, 'accept').click()]);
	assert.deepEqual(await ctx.cookies(other), { cu_cookies: 'n1p1s1a1' });
	for (const c of ['preferences', 'statistics', 'advertising'])
		assert.equal(await p2.locator(`#c-${c}`).isChecked(), true, c);
	await p2.goto('/?lang=ja');
	assert.equal((await ctx.cookies(other)).cu_lang, 'ja', 'the language is remembered');

	// Then refuses statistics and preferences on the preferences page.
	await p2.goto('/cookies');
	await p2.locator('#c-statistics').uncheck();
	await p2.locator('#c-preferences').uncheck();
	await Promise.all([p2.waitForURL('**/cookies?done=1'),
		p2.locator('main form button[type="submit"]').click()]);
	assert.ok(await p2.locator('main p[role="status"]').isVisible(), 'the saved notice');
	await ctx.axe(p2);
	await ctx.shot(p2, 'cookies-saved');
	// Every cookie there is, by name: the choice alone (cu_lang went with preferences, and no
	// statistics cookie exists).
	assert.deepEqual(await ctx.cookies(other), { cu_cookies: 'n1p0s0a1' });
	assert.equal(await p2.locator('#c-statistics').isChecked(), false);
	await p2.goto('/?lang=ja');
	await p2.goto('/');
	assert.deepEqual(await ctx.cookies(other), { cu_cookies: 'n1p0s0a1' }, 'still no cu_lang');
	assert.equal(await p2.locator('html').getAttribute('lang'), 'en', 'the language is not remembered');
}
