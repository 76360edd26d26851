// A member follows their cases (pages_casework.c): files an amendment (a mistake first: the
// message sits next to its field, the input is kept), sees it with its due date, files a
// complaint and reads the officer's response, keeps a diary (add, edit, delete with the
// browser's confirmation), marks a notice read, and after a staff read for `support` finds it
// in "who accessed my data" with the purpose and the items.
import assert from 'node:assert/strict';

const post = (page, form) => page.locator(form).locator('button[type="submit"]').first();

export default async function (ctx) {
	const { page } = ctx;
	const m = await ctx.newMember();
	await ctx.loginMember(page, m);

	// Requests: an amendment with a value the field refuses, then corrected.
	await ctx.visit(page, '/me/requests', { shot: 'me-requests', phone: true });
	const amend = 'form:has(input[name="kind"][value="amendment"])';
	await page.locator('#a-field').selectOption('email');
	await page.locator('#a-value').fill('not an address');
	await page.locator('#a-reason').fill('A typo when I signed up.');
	await Promise.all([page.waitForLoadState(), post(page, amend).click()]);
	await page.waitForSelector('#a-value-error');
	assert.equal(await page.locator('#a-value').getAttribute('aria-invalid'), 'true');
	assert.equal(await page.locator('#a-value').inputValue(), 'not an address', 'input kept');
	await ctx.axe(page, { label: '/me/requests (errors)' });
	await page.locator('#a-field').selectOption('address');
	await page.locator('#a-value').fill('9 Chome, Minato-ku, Tokyo');
	await Promise.all([page.waitForURL(/\/me\/requests\/[A-Za-z0-9_-]{22}\?done=filed$/),
		post(page, amend).click()]);
	const rid = new URL(page.url()).pathname.split('/')[3];
	await ctx.axe(page, { label: '/me/requests/{id}' });
	await ctx.shot(page, 'me-request', { phone: true });
	const session = await ctx.memberSession(m);
	const mine = await ctx.api('GET', '/v1/me/requests', { cookie: session.cookie });
	const row = mine.json.requests.find((x) => x.id === rid);
	assert.equal(row.type, 'amendment');
	await ctx.visit(page, '/me/requests');
	assert.equal(await page.locator(`a[href="/me/requests/${rid}"]`).count(), 1);
	assert.equal(await page.locator(`time[datetime="${row.due}"]`).count(), 1, 'the due date shows');

	// Erasure: the browser asks first; saying no files nothing.
	const erase = 'form:has(input[name="kind"][value="erasure"])';
	await page.locator('#e-confirm').check();
	page.once('dialog', (d) => d.dismiss());
	await post(page, erase).click();
	assert.ok(page.url().endsWith('/me/requests'), 'still on the page');
	assert.equal((await ctx.api('GET', '/v1/me/requests', { cookie: session.cookie })).json.requests.length, 1);

	// A complaint, and the officer's response on its page.
	await ctx.visit(page, '/me/complaints', { shot: 'me-complaints', phone: true });
	await page.locator('#c-about').selectOption('use');
	await page.locator('#c-text').fill('Why was my address used for a mailing?');
	await Promise.all([page.waitForURL(/\/me\/complaints\/[A-Za-z0-9_-]{22}\?done=filed$/),
		page.locator('main form[method="post"] button[type="submit"]').click()]);
	const cid = new URL(page.url()).pathname.split('/')[3];
	const resp = await ctx.api('POST', `/v1/complaints/${cid}/responses`, { role: 'officer',
		json: { text: 'It should not have been; the mailing list is corrected.' } });
	assert.equal(resp.status, 201);
	await ctx.visit(page, `/me/complaints/${cid}`, { shot: 'me-complaint', phone: true });
	assert.ok((await page.locator('main').textContent()).includes('the mailing list is corrected'));

	// The diary: add, edit, delete (confirmed in the browser's dialog).
	await ctx.visit(page, '/me/diary', { shot: 'me-diary', phone: true });
	await page.locator('#d-title').fill('A first day');
	await page.locator('#d-body').fill('Learned three kanji.');
	await Promise.all([page.waitForURL('**/me/diary?done=added'),
		page.locator('main form[action="/me/diary"] button[type="submit"]').click()]);
	const edit = page.locator('main a[href$="/edit"]').first();
	await Promise.all([page.waitForURL(/\/edit$/), edit.click()]);
	await ctx.axe(page, { label: '/me/diary/{id}/edit' });
	await page.locator('#d-title').fill('A first good day');
	await Promise.all([page.waitForURL('**/me/diary?done=saved'),
		page.locator('main form[method="post"] button[type="submit"].primary').click()]);
	assert.ok((await page.locator('main h3').first().textContent()).includes('A first good day'));
	page.once('dialog', (d) => d.accept());
	await Promise.all([page.waitForURL('**/me/diary?done=deleted'),
		page.locator('main form[action$="/delete"] button[type="submit"]').first().click()]);
	const diaries = await ctx.api('GET', '/v1/me/diaries', { cookie: session.cookie });
	assert.deepEqual(diaries.json.entries, [], 'deleted');
	await ctx.axe(page, { label: '/me/diary (deleted)' });

	// Notices: unread first; marking one read moves it down.
	await ctx.visit(page, '/me/notices', { shot: 'me-notices', phone: true });
	const unread = await page.locator('main article.unread').count();
	assert.ok(unread > 0, 'filing made notices');
	await Promise.all([page.waitForURL('**/me/notices?done=read'),
		page.locator('main article.unread button[type="submit"]').first().click()]);
	assert.equal(await page.locator('main article.unread').count(), unread - 1);

	// Who accessed my data: a staff read for support, with its purpose and items.
	const read = await ctx.api('GET', `/v1/members/${m.id}?purpose=support`, { role: 'staff' });
	assert.equal(read.status, 200);
	await ctx.visit(page, '/me/access-log', { shot: 'me-access-log', phone: true });
	const first = await page.locator('main tbody tr').first().textContent();
	assert.ok(first.includes(ctx.t('en', 'alog_role_staff')), 'who: the role');
	assert.ok(first.includes('(support)'), 'the purpose');
	assert.ok(first.includes('Telephone number'), 'the items, by their labels');
	assert.ok(!first.includes('api-test') && !first.includes('browser'), 'no staff name');
}
