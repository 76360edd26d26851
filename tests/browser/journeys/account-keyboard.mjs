// Keyboard only: a visitor signs up with Tab, typing and Enter — no mouse — in Japanese, and
// reaches /me; the sign-up page in Japanese passes axe.
import assert from 'node:assert/strict';

async function tabTo(page, selector, limit = 60) {
	for (let i = 0; i < limit; i++) {
		await page.keyboard.press('Tab');
		if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector))
			return i + 1;
	}
	throw new Error(`${selector} is not reached with Tab`);
}

export default async function (ctx) {
	const ja = await ctx.newContext({ locale: 'ja-JP', extraHTTPHeaders: { 'Accept-Language': 'ja' } });
	const page = await ja.newPage();
	const u = `${process.pid}${Date.now().toString(36)}`;

	await ctx.visit(page, '/signup', { shot: 'signup-ja' });
	assert.equal(await page.locator('html').getAttribute('lang'), 'ja');
	assert.equal((await page.locator('h1').textContent()).trim(), ctx.t('ja', 'acc_signup_title'));
	await tabTo(page, '#f-name');
	await page.keyboard.type(`山田 花子 ${u}`);
	await page.keyboard.press('Tab');
	await page.keyboard.type(`東京都千代田区丸の内 ${u}`);
	await page.keyboard.press('Tab');
	assert.ok(await page.evaluate(() => document.activeElement.id === 'f-phone'), 'Tab: the telephone next');
	await page.keyboard.type(`+8170${String(Date.now() % 1e8).padStart(8, '3')}`);
	await page.keyboard.press('Tab');
	await page.keyboard.type(`keyboard.${u}@browser-example.org`);
	await page.keyboard.press('Tab');
	assert.ok(await page.evaluate(() => document.activeElement.id === 'f-password'), 'Tab: the password next');
	await page.keyboard.type(`sakura mochi ${u}`);
	await Promise.all([page.waitForURL('**/me?done=welcome'), page.keyboard.press('Enter')]);
	assert.ok((await page.locator('h1').textContent()).includes('山田 花子'));
	await ctx.axe(page, { label: '/me (ja)' });
}
