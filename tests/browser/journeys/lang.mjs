// The Japanese pages: Accept-Language ja gives Japanese pages (html lang, h1), screenshots of
// them; ?lang= switches the language, remembered (cu_lang) only when preferences are allowed.
import assert from 'node:assert/strict';

export default async function (ctx) {
	const ja = await ctx.newContext({ locale: 'ja-JP' });
	const page = await ja.newPage();
	await ctx.visit(page, '/', { shot: 'home-ja', phone: true });
	assert.equal(await page.locator('html').getAttribute('lang'), 'ja');
	assert.equal((await page.locator('h1').textContent()).trim(), ctx.t('ja', 'home_title'));
	await ctx.visit(page, '/login', { shot: 'login-ja' });
	assert.equal((await page.locator('h1').textContent()).trim(), ctx.t('ja', 'login_title'));
	await ctx.visit(page, '/cookies', { shot: 'cookies-ja' });
	assert.equal((await page.locator('h1').textContent()).trim(), ctx.t('ja', 'cookies_title'));
	// Accept-Language is read each time: nothing is stored for it.
	assert.deepEqual(await ctx.cookies(ja), {});

	// An English browser switching with the link: the page changes, the choice is not kept
	// while preferences are not allowed (no choice yet, then "Only necessary").
	const { page: en, context } = ctx;
	await en.goto('/');
	await Promise.all([en.waitForURL('**/?lang=ja'), en.locator('header a[hreflang="ja"]').click()]);
	assert.equal(await en.locator('html').getAttribute('lang'), 'ja');
	await ctx.axe(en);
	assert.deepEqual(await ctx.cookies(context), {});
	await Promise.all([en.waitForURL('**/'),
		en.locator('section.banner button[name="all"][value="reject"]').click()]);
	await en.goto('/?lang=ja');
	assert.equal((await ctx.cookies(context)).cu_lang, undefined, 'no cu_lang without preferences');
	await en.goto('/');
	assert.equal(await en.locator('html').getAttribute('lang'), 'en');

	// Preferences allowed: remembered.
	await en.goto('/cookies');
	await en.locator('#c-preferences').check();
	await Promise.all([en.waitForURL('**/cookies?done=1'), en.locator('main form button[type="submit"]').click()]);
	await en.goto('/?lang=ja');
	assert.equal((await ctx.cookies(context)).cu_lang, 'ja');
	await en.goto('/');
	assert.equal(await en.locator('html').getAttribute('lang'), 'ja', 'the remembered language');
	assert.equal((await en.locator('h1').textContent()).trim(), ctx.t('ja', 'home_title'));
	await en.goto('/?lang=en');
	assert.equal((await ctx.cookies(context)).cu_lang, 'en');
}
