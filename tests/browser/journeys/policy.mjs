// The privacy policy (pages_policy.c): a visitor reads the policy in force, its purposes and
// its version history, opens a version and sees it was the first; the Japanese page renders;
// a logged-in member with nothing to accept sees no accept form.
import assert from 'node:assert/strict';

export default async function (ctx) {
	const { page } = ctx;
	await ctx.visit(page, '/policy', { shot: 'policy', phone: true });
	assert.equal(await page.locator('h1').count(), 1);
	assert.ok(await page.locator('#purposes').isVisible());
	const versions = page.locator('main a[href^="/policy/versions/"]');
	assert.ok(await versions.count() >= 1, 'the version history links each version');
	assert.equal(await page.locator('form[action="/policy/accept"]').count(), 0);
	const href = await versions.last().getAttribute('href');
	await Promise.all([page.waitForURL(`**${href}`), versions.last().click()]);
	await ctx.axe(page, { label: href });
	await ctx.shot(page, 'policy-version');
	assert.ok((await page.locator('main').textContent()).includes(ctx.t('en', 'pol_what_changed')));

	const ja = await ctx.newContext({ locale: 'ja-JP' });
	const jp = await ja.newPage();
	await ctx.visit(jp, '/policy?lang=ja', { shot: 'policy-ja' });
	assert.equal(await jp.locator('html').getAttribute('lang'), 'ja');
	assert.ok((await jp.locator('main').textContent()).includes(ctx.t('ja', 'pol_versions')));

	const m = await ctx.newMember();
	await ctx.loginMember(page, m);
	await ctx.visit(page, '/policy');
	assert.equal(await page.locator('form[action="/policy/accept"]').count(), 0, 'nothing to accept');
}
