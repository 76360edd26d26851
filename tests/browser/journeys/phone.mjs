// Every main page at phone width (375 px): it answers, nothing makes the page wider than the
// screen (wide tables scroll inside their .table-wrap), and axe finds nothing serious — for a
// visitor, a member, the officer and the admin.  The other journeys run at 1280 px.
import assert from 'node:assert/strict';

const PAGES = {
	visitor: ['/', '/login', '/signup', '/cookies', '/policy'],
	member: ['/me', '/me/data', '/me/consents', '/me/requests', '/me/complaints', '/me/diary',
		'/me/notices', '/me/access-log', '/me/export'],
	officer: ['/console', '/console/members', '/console/requests', '/console/complaints',
		'/console/exceptions', '/console/third-parties', '/console/subcontractors',
		'/console/policy', '/console/audit'],
	admin: ['/console/tokens'],
};

async function check(ctx, page, path) {
	await ctx.visit(page, path);
	const { width, widest } = await page.evaluate(() => {
		const w = document.documentElement.clientWidth;
		let widest = '';
		for (const el of document.body.querySelectorAll('*')) {
			const r = el.getBoundingClientRect();
			if (r.right > w + 1 && !el.closest('.table-wrap') && getComputedStyle(el).position !== 'fixed') {
				widest = `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + String(el.className).split(' ').join('.') : ''} (right edge ${Math.round(r.right)} px)`;
				break;
			}
		}
		return { width: document.documentElement.scrollWidth, widest };
	});
	assert.ok(width <= ctx.PHONE.width, `${path} is ${width} px wide at ${ctx.PHONE.width}: ${widest}`);
}

export default async function (ctx) {
	const phone = { viewport: ctx.PHONE, isMobile: true, hasTouch: true };

	const visitor = await (await ctx.newContext(phone)).newPage();
	for (const p of PAGES.visitor)
		await check(ctx, visitor, p);

	const m = await ctx.newMember();
	const member = await (await ctx.newContext(phone)).newPage();
	await ctx.loginMember(member, m);
	for (const p of PAGES.member)
		await check(ctx, member, p);

	for (const role of ['officer', 'admin']) {
		const page = await (await ctx.newContext(phone)).newPage();
		await ctx.consoleLogin(page, role);
		for (const p of PAGES[role])
			await check(ctx, page, p);
	}
	// The console's member page, opened for a purpose, at phone width.
	const staff = await (await ctx.newContext(phone)).newPage();
	await ctx.consoleLogin(staff, 'staff');
	await ctx.shot(staff, 'phone-console-staff');
	await check(ctx, staff, '/console/members');
}
