// The staff console: a wrong token is refused without echo; staff log in, find a member by
// e-mail (a POST: the address never in a URL), open them for `support` and see the allowed
// fields with values and the withheld ones marked with the reason, then log out.  The officer
// reads that access in the audit trail and checks the chain.  The admin issues a token (the
// secret shown once), it opens a console, and revoking it ends that console's session.
import assert from 'node:assert/strict';

async function submit(page, button, url) {
	await Promise.all([url ? page.waitForURL(url) : page.waitForLoadState(), button.click()]);
}

export default async function (ctx) {
	const { page, context } = ctx;
	const m = await ctx.newMember();

	// A wrong token: the message next to the field, the field empty, no cookie.
	await page.goto('/console/login');
	await page.locator('#token').fill('cu_' + 'Q'.repeat(43));
	await submit(page, page.locator('main form button[type="submit"]'));
	await page.waitForSelector('#token-error');
	assert.equal(await page.locator('#token').inputValue(), '');
	assert.equal(await page.locator('#token').getAttribute('aria-invalid'), 'true');
	assert.ok(!(await page.content()).includes('Q'.repeat(43)), 'the token is not echoed');
	assert.equal((await context.cookies()).find((c) => c.name === 'cu_console'), undefined);
	await ctx.axe(page, { label: '/console/login (failed)' });
	await ctx.shot(page, 'console-login-failed');

	// Staff log in: the cookie is the console's only, strict, and ends with the browser.
	await ctx.consoleLogin(page, 'staff');
	const cookie = (await context.cookies()).find((c) => c.name === 'cu_console');
	assert.ok(cookie, 'a console cookie');
	assert.equal(cookie.path, '/console');
	assert.ok(cookie.httpOnly);
	assert.equal(cookie.sameSite, 'Strict');
	assert.equal(cookie.expires, -1, 'a session cookie');
	await ctx.axe(page, { label: '/console (staff)' });
	await ctx.shot(page, 'console-staff', { phone: true });

	// Find the member by e-mail: a POST, then the member's page by id.
	await ctx.visit(page, '/console/members', { shot: 'console-find' });
	const find = page.locator('main form[action="/console/members"]');
	assert.equal(await find.getAttribute('method'), 'post');
	await find.locator('#email').fill(m.email);
	await submit(page, find.locator('button[type="submit"]'), `**/console/members/${m.id}`);
	assert.ok(!page.url().includes(encodeURIComponent(m.email)) && !page.url().includes(m.email));
	await ctx.axe(page, { label: '/console/members/{id}' });

	// Open for support: allowed fields with their values, withheld ones with the reason.
	await page.locator('#p-support').check();
	await submit(page, page.locator('main form[method="get"] button[type="submit"]'),
		(u) => u.searchParams.get('purpose') === 'support');
	const allowed = page.locator('tr.allowed');
	assert.equal(await allowed.count(), 3);
	assert.ok((await page.locator('tr.allowed[data-field="name"] td').textContent()).includes(m.name));
	assert.ok((await page.locator('tr.allowed[data-field="email"] td').textContent()).includes(m.email));
	const address = page.locator('tr.withheld-row[data-field="address"] td');
	assert.ok((await address.textContent()).includes(ctx.t('en', 'con_reason_purpose')));
	assert.ok(!(await page.content()).includes(m.address), 'a withheld value is never sent');
	for (const c of await context.cookies())
		assert.ok(!decodeURIComponent(c.value).includes(m.email), `cookie ${c.name} holds personal data`);
	await ctx.axe(page, { label: '/console/members/{id}?purpose=support' });
	await ctx.shot(page, 'console-member-support', { phone: true });

	// A purpose the role is not granted: the refusal with its reason.
	await ctx.visit(page, `/console/members/${m.id}?purpose=research`, { status: 403 });
	assert.ok((await page.locator('main [role="alert"]').textContent())
		.includes(ctx.t('en', 'con_refused_purpose_not_allowed')));

	// Log out from the header: the cookie goes, the console asks for a token again.
	await submit(page, page.locator('header form[action="/console/logout"] button'),
		'**/console/login?done=logout');
	assert.equal((await context.cookies()).find((c) => c.name === 'cu_console'), undefined);
	await page.goto('/console');
	assert.equal(new URL(page.url()).pathname, '/console/login');

	// The officer: the queues, the staff read in the audit trail, the chain check.
	const officer = await (await ctx.newContext()).newPage();
	await ctx.consoleLogin(officer, 'officer');
	await ctx.axe(officer, { label: '/console (officer)' });
	await ctx.shot(officer, 'console-officer', { phone: true });
	await ctx.visit(officer, `/console/audit?member=${m.id}`);
	const reads = officer.locator('table.audit tbody tr', { hasText: 'support' });
	assert.ok(await reads.count() >= 1, 'the staff read is in the trail');
	await submit(officer, officer.locator('main form[aria-labelledby="h-verify"] button'));
	assert.ok((await officer.locator('.verify-result').textContent())
		.includes(ctx.t('en', 'con_verify_intact')));
	await ctx.axe(officer, { label: '/console/audit?verify=1' });
	await ctx.shot(officer, 'console-audit');

	// The admin issues a token; its secret is shown once and opens a console.
	const admin = await (await ctx.newContext()).newPage();
	await ctx.consoleLogin(admin, 'admin');
	await ctx.visit(admin, '/console/tokens', { shot: 'console-tokens' });
	const form = admin.locator('main form[action="/console/tokens"]');
	await form.locator('#role').selectOption('staff');
	await form.locator('#name').fill('journey desk');
	await submit(admin, form.locator('button[type="submit"]'));
	const secret = await admin.locator('#secret').inputValue();
	assert.match(secret, /^cu_[A-Za-z0-9_-]{43}$/);
	await ctx.axe(admin, { label: 'token issued' });
	await ctx.shot(admin, 'console-token-created');
	await admin.goto('/console/tokens');
	assert.ok(!(await admin.content()).includes(secret), 'shown once');

	const holderContext = await ctx.newContext();
	const holder = await holderContext.newPage();
	await holder.goto('/console/login');
	await holder.locator('#token').fill(secret);
	await submit(holder, holder.locator('main form button[type="submit"]'), '**/console');

	// Revoked after a confirmation: the holder's console session ends on its next request.
	const row = admin.locator('tbody tr', { hasText: 'journey desk' });
	await submit(admin, row.locator('a[href$="/revoke"]'), '**/revoke');
	await ctx.axe(admin, { label: 'revoke: confirm' });
	await submit(admin, admin.locator('main form button.danger'), '**/console/tokens?done=revoked');
	await holder.goto('/console/members');
	assert.equal(new URL(holder.url()).pathname, '/console/login');
	assert.ok((await holder.locator('main').textContent()).includes(ctx.t('en', 'con_session_ended')));
	assert.equal((await holderContext.cookies()).find((c) => c.name === 'cu_console'), undefined);
}
