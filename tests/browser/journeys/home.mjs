// The public pages as a first visitor sees them: home, log-in, cookie choices, in English,
// at desktop and phone width; axe on each.
import assert from 'node:assert/strict';

export default async function (ctx) {
	const { page } = ctx;
	await ctx.visit(page, '/', { shot: 'home', phone: true });
	assert.equal(await page.locator('html').getAttribute('lang'), 'en');
	assert.equal((await page.locator('h1').textContent()).trim(), ctx.t('en', 'home_title'));
	assert.equal(await page.locator('h1').count(), 1, 'one h1');
	// No choice yet: the banner, and no cookie at all.
	assert.ok(await page.locator('section.banner').isVisible(), 'the cookie banner is shown');
	assert.deepEqual(await ctx.cookies(ctx.context), {});
	await ctx.visit(page, '/login', { shot: 'login', phone: true });
	await ctx.visit(page, '/cookies', { shot: 'cookies', phone: true });
	assert.deepEqual(await ctx.cookies(ctx.context), {}, 'reading pages sets no cookie');
	// A missing page: a page (not JSON), in the site's frame, 404.
	await ctx.visit(page, '/no-such-page', { status: 404, shot: 'not-found' });
	assert.ok((await page.content()).includes(ctx.t('en', 'error_not_found')));
	// A member page without a session: to the log-in page.
	await page.goto('/me');
	assert.equal(new URL(page.url()).pathname, '/login');
}
