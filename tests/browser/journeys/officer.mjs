// The privacy officer in the console: applies a member's amendment (the member's data changes and
// the member has a notice), answers a complaint, refuses a disclosure on one of the policy's
// grounds; every queue and registry page passes axe; staff are refused politely.
import assert from 'node:assert/strict';

export default async function (ctx) {
	const { page } = ctx;
	const m = await ctx.newMember();
	const s = await ctx.memberSession(m);
	const asMember = { cookie: s.cookie, csrf: s.csrf };
	const file = async (p, json) => {
		const r = await ctx.api('POST', p, { ...asMember, json });
		assert.equal(r.status, 201, r.text);
		return r.json;
	};
	const newAddress = '9-9-9 Amended-cho, Minato-ku, Tokyo';
	const amendment = (await file('/v1/requests', { type: 'amendment',
		details: { changes: { address: newAddress }, reason: 'I moved.' } })).request;
	const disclosure = (await file('/v1/requests', { type: 'disclosure' })).request;
	const complaint = (await file('/v1/complaints', { about: 'use', text: 'Too many e-mails.' })).complaint;

	await ctx.consoleLogin(page, 'officer');

	// The queue, with its clocks; the amendment is on it.
	await ctx.visit(page, '/console/requests', { shot: 'officer-requests', phone: true });
	await page.locator(`a[href="/console/requests/${amendment.id}"]`).click();
	await page.waitForURL(`**/console/requests/${amendment.id}`);
	await ctx.axe(page, { label: 'the amendment' });
	await ctx.shot(page, 'officer-request-amendment');

	// Apply it: the member's data changes, and the member is told.
	const apply = page.locator('form:has(input[name="action"][value="apply"])');
	await Promise.all([page.waitForURL(/done=decided/), apply.locator('button[type="submit"]').click()]);
	await ctx.axe(page, { label: 'the amendment, applied' });
	const me = await ctx.api('GET', '/v1/me', asMember);
	assert.equal(me.json.fields.address, newAddress);
	const notices = (await ctx.api('GET', '/v1/me/notices', asMember)).json.notices;
	assert.ok(notices.some((n) => n.body.includes('Amended: address')), 'the member has a notice');

	// Refuse the disclosure on a ground, with reasons.
	await ctx.visit(page, `/console/requests/${disclosure.id}`);
	const refuse = page.locator('form:has(input[name="action"][value="refuse"])');
	await refuse.locator('#refuse-ground').selectOption('breach_of_law');
	await refuse.locator('#refuse-reasons').fill('A court order forbids telling the subject.');
	await Promise.all([page.waitForURL(/done=decided/), refuse.locator('button[type="submit"]').click()]);
	await ctx.axe(page, { label: 'the disclosure, refused' });
	const got = (await ctx.api('GET', `/v1/requests/${disclosure.id}`, { role: 'officer' })).json;
	assert.equal(got.state, 'refused');
	assert.equal(got.ground, 'breach_of_law');

	// Answer the complaint: assign it to oneself, then respond.
	await ctx.visit(page, '/console/complaints', { shot: 'officer-complaints' });
	await page.locator(`a[href="/console/complaints/${complaint.id}"]`).click();
	await page.waitForURL(`**/console/complaints/${complaint.id}`);
	await ctx.axe(page, { label: 'the complaint' });
	await Promise.all([page.waitForURL(/done=assigned/),
		page.locator('form[action$="/assign"] button[type="submit"]').click()]);
	await page.locator('#text').fill('We stopped the e-mails and apologise.');
	await Promise.all([page.waitForURL(/done=answered/),
		page.locator('form[action$="/responses"] button[type="submit"]').click()]);
	await ctx.axe(page, { label: 'the complaint, answered' });
	await ctx.shot(page, 'officer-complaint');
	const c = (await ctx.api('GET', `/v1/complaints/${complaint.id}`, { role: 'officer' })).json;
	assert.deepEqual(c.responses.map((x) => x.text), ['We stopped the e-mails and apologise.']);

	// The other queues and the registries.
	await ctx.visit(page, '/console/exceptions', { shot: 'officer-exceptions' });
	await ctx.visit(page, '/console/subcontractors', { shot: 'officer-subcontractors', phone: true });
	await ctx.visit(page, '/console/third-parties', { shot: 'officer-third-parties' });
	await ctx.visit(page, '/console/policy', { shot: 'officer-policy' });

	// The same pages in Japanese.
	const ja = await (await ctx.newContext({ locale: 'ja-JP' })).newPage();
	await ctx.consoleLogin(ja, 'officer');
	await ctx.visit(ja, '/console/requests?lang=ja', { shot: 'officer-requests-ja' });
	assert.equal(await ja.locator('h1').textContent(), ctx.t('ja', 'off_requests_title'));

	// Staff are refused, politely.
	const staff = await (await ctx.newContext()).newPage();
	await ctx.consoleLogin(staff, 'staff');
	await ctx.visit(staff, '/console/requests', { status: 403 });
	assert.ok((await staff.locator('main').textContent()).includes(ctx.t('en', 'off_not_for_role')));
}
