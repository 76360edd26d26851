// A new member signs up (a mistake first: the messages sit next to their fields, the input is
// kept but the password is not), lands on /me addressed by name, answers the survey on /me/data
// and becomes eligible for a service, consents to a use outside the purposes of use and refuses
// statistics cookies on /me/consents (then no such cookie exists, and the choice is a consent
// record), downloads a receipt and the export in JSON and CSV.
import assert from 'node:assert/strict';

const submit = (page) => page.locator('main form[method="post"] button[type="submit"].primary').first();

export default async function (ctx) {
	const { page, context } = ctx;
	const u = `${process.pid}${Date.now().toString(36)}`;
	const me = {
		name: `Sakura <i>Signup</i> ${u}`,
		address: `${u} Chome, Chiyoda-ku, Tokyo`,
		phone: `+8180${String(Date.now() % 1e8).padStart(8, '2')}`,
		email: `signup.${u}@browser-example.org`,
		password: `plum blossom ${u}`,
	};

	// The form, built from the policy: the survey apart and optional.
	await ctx.visit(page, '/signup', { shot: 'signup', phone: true });
	assert.ok(await page.locator('#f-occupation').isVisible(), 'the survey is on the form');
	await page.locator('#f-name').fill(me.name);
	await page.locator('#f-address').fill(me.address);
	await page.locator('#f-phone').fill(me.phone);
	await page.locator('#f-email').fill('not-an-address');
	await page.locator('#f-password').fill('short');
	await Promise.all([page.waitForLoadState(), submit(page).click()]);
	await page.waitForSelector('#e-email');
	assert.equal(await page.locator('#f-email').getAttribute('aria-invalid'), 'true');
	assert.ok((await page.locator('#f-email').getAttribute('aria-describedby')).includes('e-email'));
	assert.ok(await page.locator('#e-password').isVisible(), 'the password message too');
	assert.equal(await page.locator('#f-name').inputValue(), me.name, 'the input is kept');
	assert.equal(await page.locator('#f-password').inputValue(), '', 'but not the password');
	await ctx.axe(page, { label: '/signup (errors)' });
	await ctx.shot(page, 'signup-errors');

	// Corrected: an account, logged in, welcomed by name (escaped, from the server).
	await page.locator('#f-email').fill(me.email);
	await page.locator('#f-password').fill(me.password);
	await Promise.all([page.waitForURL('**/me?done=welcome'), submit(page).click()]);
	assert.ok((await page.locator('h1').textContent()).includes(me.name), 'addressed by name');
	assert.equal(await page.locator('h1 i').count(), 0, 'the name is text, not markup');
	await ctx.axe(page, { label: '/me' });
	await ctx.shot(page, 'me-dashboard', { phone: true });
	for (const [n, v] of Object.entries(await ctx.cookies(context)))
		for (const p of [me.email, me.name, me.phone])
			assert.ok(!decodeURIComponent(v).includes(p), `cookie ${n} holds personal data`);

	// My data: not yet eligible for live classes; answering the survey makes it so.
	await ctx.visit(page, '/me/data', { shot: 'me-data', phone: true });
	const live = page.locator('#eligibility li', { hasText: 'Live classes' });
	assert.equal(await live.locator('.tag.ok').count(), 0, 'not eligible before the survey');
	await page.locator('#f-occupation').fill('Pharmacist');
	await page.locator('#f-hobbies').fill('go, ikebana');
	await Promise.all([page.waitForURL('**/me/data?done=saved*'), submit(page).click()]);
	assert.equal(await live.locator('.tag.ok').count(), 1, 'eligible after the survey');
	await ctx.axe(page, { label: '/me/data (saved)' });

	// A mistake on the edit form: the message next to the field, the input kept.
	await page.locator('#f-phone').fill('not a phone');
	await Promise.all([page.waitForLoadState(), submit(page).click()]);
	await page.waitForSelector('#e-phone');
	assert.equal(await page.locator('#f-phone').inputValue(), 'not a phone');
	await ctx.axe(page, { label: '/me/data (errors)' });

	// Consents: a use outside the purposes of use, then statistics cookies refused.
	await ctx.visit(page, '/me/consents', { shot: 'me-consents', phone: true });
	await Promise.all([page.waitForURL('**/me/consents?done=saved'),
		page.locator('form:has(input[name="target"][value="testimonials"]) button[value="1"]').click()]);
	await Promise.all([page.waitForURL('**/me/consents?done=saved'),
		page.locator('form:has(input[name="target"][value="statistics"]) button[value="0"]').click()]);
	await ctx.axe(page, { label: '/me/consents (saved)' });
	const cookies = await ctx.cookies(context);
	assert.match(cookies.cu_cookies, /s0/, 'the browser choice refuses statistics');
	assert.deepEqual(Object.keys(cookies).sort(), ['cu_cookies', 'cu_session'],
		'no cookie but the session and the choice');
	const session = cookies.cu_session;
	const api = await ctx.api('GET', '/v1/me/consents', { cookie: session });
	const choice = (k, t) => api.json.choices.find((c) => c.kind === k && c.target === t);
	assert.equal(choice('purpose', 'testimonials').granted, true);
	assert.equal(choice('cookie', 'statistics').granted, false);

	// The receipt, as a download.
	const [receipt] = await Promise.all([page.waitForEvent('download'),
		page.locator(`a[href="/me/consents/${choice('purpose', 'testimonials').id}/receipt"]`).first().click()]);
	assert.match(receipt.suggestedFilename(), /^consent-receipt-.*\.json$/);

	// The export, in both formats.
	await ctx.visit(page, '/me/export', { shot: 'me-export', phone: true });
	for (const [fmt, first] of [['json', /^\{/], ['csv', /^"section","item","key","value"/]]) {
		const [dl] = await Promise.all([page.waitForEvent('download'),
			page.locator(`a[href="/me/export/${fmt}"]`).click()]);
		assert.equal(dl.suggestedFilename(), `custodian-export.${fmt}`);
		const fs = await import('node:fs');
		const text = fs.readFileSync(await dl.path(), 'utf8');
		assert.match(text, first, `${fmt} export`);
		assert.ok(text.includes('Pharmacist'), `${fmt} export holds the survey answer`);
	}
}
