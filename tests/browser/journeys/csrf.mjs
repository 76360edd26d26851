// Forms posted from another site are refused in a real browser (Sec-Fetch-Site, Origin), even
// with a valid form token the other site fetched: no cookie choice and no log-in happen.
// (A visitor's form token is not bound to the visitor: server/web/page.c, same_origin.)
import assert from 'node:assert/strict';

export default async function (ctx) {
	const m = await ctx.newMember();
	// What another site's server can fetch: a visitor's form token from our log-in page.
	const login = await ctx.api('GET', '/login');
	const csrf = (login.text.match(/name="csrf" value="([^"]+)"/) || [])[1];
	assert.ok(csrf, 'a form token on /login');

	const { context, page } = ctx;
	const evil = 'http://other.example';
	const esc = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
	await context.route(`${evil}/**`, (route) => route.fulfill({ contentType: 'text/html', body: `<!doctype html>
<html lang="en"><title>Another site</title><body>
<form id="choice" method="post" action="${ctx.base}/cookies">
  <input type="hidden" name="csrf" value="${esc(csrf)}"><input type="hidden" name="all" value="accept">
  <button id="accept">Win a prize</button></form>
<form id="login" method="post" action="${ctx.base}/login">
  <input type="hidden" name="csrf" value="${esc(csrf)}">
  <input type="hidden" name="email" value="${esc(m.email)}"><input type="hidden" name="password" value="${esc(m.password)}">
  <button id="go-login">Continue</button></form></body></html>` }));

	for (const button of ['#accept', '#go-login']) {
		await page.goto(`${evil}/`);
		const [reply] = await Promise.all([
			page.waitForResponse((r) => r.url().startsWith(ctx.base) && r.request().method() === 'POST'),
			page.locator(button).click(),
		]);
		assert.equal(reply.status(), 403, `${button}: a cross-site POST is refused`);
		await page.waitForLoadState();
		assert.deepEqual(await ctx.cookies(context), {}, `${button}: no cookie`);
	}
	await ctx.axe(page, { label: 'the refusal page' });
	await ctx.shot(page, 'csrf-refused');

	// The same forms from our own pages work: the refusal is about the site, not the form.
	await ctx.loginMember(page, m);
}
