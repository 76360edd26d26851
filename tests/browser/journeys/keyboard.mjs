// Keyboard only: the skip link comes first, then a member logs in with Tab, typing and Enter —
// no mouse — and reaches /me.
import assert from 'node:assert/strict';

async function tabTo(page, selector, limit = 40) {
	for (let i = 0; i < limit; i++) {
		await page.keyboard.press('Tab');
		if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector))
			return i + 1;
	}
	throw new Error(`${selector} is not reached with Tab`);
}

export default async function (ctx) {
	const { page } = ctx;
	const m = await ctx.newMember();

	await page.goto('/login');
	assert.equal(await tabTo(page, 'a.skip', 1), 1, 'the first Tab stop is the skip link');
	await tabTo(page, '#email');
	await page.keyboard.type(m.email);
	await page.keyboard.press('Tab');
	assert.ok(await page.evaluate(() => document.activeElement.id === 'password'), 'Tab: password next');
	await page.keyboard.type(m.password);
	await Promise.all([page.waitForURL('**/me'), page.keyboard.press('Enter')]);
	assert.ok((await page.locator('h1').textContent()).includes(m.name));
	await ctx.axe(page);

	// And out again, by keyboard: Tab to the header's log-out button, Enter.
	await tabTo(page, 'header form[action="/logout"] button');
	await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.keyboard.press('Enter')]);
	assert.ok(await page.locator('header a[href="/login"]').isVisible());
}
