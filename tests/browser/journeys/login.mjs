// A member made through the API logs in through /login (a wrong password first), is addressed
// by name on /me, and logs out.
import assert from 'node:assert/strict';

export default async function (ctx) {
	const { page, context } = ctx;
	const m = await ctx.newMember();

	// A wrong password: the message, the address kept, the password not.
	await page.goto('/login');
	await page.locator('#email').fill(m.email);
	await page.locator('#password').fill(m.password + 'x');
	await Promise.all([page.waitForLoadState(), page.locator('main form button[type="submit"]').click()]);
	await page.waitForSelector('#login-error');
	assert.equal(await page.locator('#email').inputValue(), m.email);
	assert.equal(await page.locator('#password').inputValue(), '');
	await ctx.axe(page, { label: '/login (failed)' });
	await ctx.shot(page, 'login-failed');

	await ctx.loginMember(page, m);
	const h1 = (await page.locator('h1').textContent()).trim();
	assert.ok(h1.includes(m.name), `addressed by name: ${h1}`);
	await ctx.axe(page);
	await ctx.shot(page, 'me', { phone: true });
	const session = (await context.cookies()).find((c) => c.name === 'cu_session');
	assert.ok(session && session.httpOnly, 'an HttpOnly session cookie');
	// The page's personal data never travels in a URL or a cookie.
	for (const c of await context.cookies())
		for (const v of [m.email, m.name, m.phone])
			assert.ok(!decodeURIComponent(c.value).includes(v), `cookie ${c.name} holds personal data`);
	// The public pages know the member.
	await page.goto('/');
	assert.ok(await page.locator('header form[action="/logout"]').isVisible());

	// Log out from the header.
	await Promise.all([page.waitForURL((u) => u.pathname === '/'),
		page.locator('header form[action="/logout"] button').click()]);
	assert.equal((await context.cookies()).find((c) => c.name === 'cu_session'), undefined,
		'the session cookie is gone');
	assert.ok(await page.locator('header a[href="/login"]').isVisible());
	await page.goto('/me');
	assert.equal(new URL(page.url()).pathname, '/login', 'logged out: /me asks to log in');
}
