#!/usr/bin/env node
/*
 * tests/browser/run.mjs — the browser journeys (tests/browser/README.md).
 *
 *   node tests/browser/run.mjs build/custodian [journey ...]
 *
 * Builds nothing.  Installs playwright-core and axe-core from the lock
 * (npm ci into tests/browser/node_modules) when they are missing or the
 * lock changed; initialises a data directory in a temporary directory,
 * issues a token for each staff role, starts `custodian serve` on a free
 * loopback port, then runs every tests/browser/journeys/*.mjs (or the ones
 * named) in Debian's chromium, each in a fresh browser context and under a
 * time limit.  Prints one line per journey and ends with
 * "browser: N passed, M failed"; exits 1 on any failure (a missing
 * chromium or node module is a failure, never a skip).  The server is
 * always stopped and the temporary directory removed (CU_BROWSER_KEEP=1
 * keeps it, with the server's log).
 *
 * Environment: CU_CHROMIUM (default /usr/bin/chromium), CU_SCREENSHOTS
 * (default: screenshots/ next to the binary, so build/screenshots/),
 * CU_JOURNEY_TIMEOUT (seconds a journey may take, default 90),
 * CU_BROWSER_KEEP.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const JOURNEYS = path.join(HERE, 'journeys');
const MODULES = path.join(HERE, 'node_modules');
const LOCK_STAMP = path.join(MODULES, '.custodian-lock-sha256');
const CHROMIUM = process.env.CU_CHROMIUM || '/usr/bin/chromium';
const JOURNEY_TIMEOUT_MS = 1000 * Number(process.env.CU_JOURNEY_TIMEOUT || 90);
const SUITE_DEADLINE_MS = 540 * 1000; /* under ctest's 600 s: the server is always stopped */
const ACTION_TIMEOUT_MS = 10000;
const NAV_TIMEOUT_MS = 15000;
const READY_TIMEOUT_MS = 30000;
const WIDE = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 740 };
/* Staff roles issued a token at start (the officer's comes from `custodian init`). */
const ROLES = ['staff', 'analyst', 'service', 'admin'];

function die(msg) {
	console.error(`browser: ${msg}`);
	console.log('browser: 0 passed, 1 failed');
	process.exit(1);
}

/* ---- node modules: npm ci when missing or when the lock changed ------------------------ */

function lockHash() {
	return crypto.createHash('sha256')
		.update(fs.readFileSync(path.join(HERE, 'package-lock.json')))
		.digest('hex');
}

function ensureModules() {
	const want = lockHash();
	const have = fs.existsSync(LOCK_STAMP) ? fs.readFileSync(LOCK_STAMP, 'utf8').trim() : '';
	const present = ['playwright-core', 'axe-core'].every((m) =>
		fs.existsSync(path.join(MODULES, m, 'package.json')));
	if (present && have === want)
		return;
	console.log('browser: installing playwright-core and axe-core (npm ci)');
	const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], {
		cwd: HERE,
		stdio: ['ignore', 'inherit', 'inherit'],
		env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
	});
	if (r.error)
		die(`cannot run npm (${r.error.code}): install node and npm (scripts/install-deps)`);
	if (r.status !== 0)
		die('npm ci failed in tests/browser');
	fs.writeFileSync(LOCK_STAMP, want + '\n');
}

/* ---- the server ------------------------------------------------------------------------ */

/* Sets key in [section] of the INI file `custodian init` wrote. */
function setConf(file, section, key, value) {
	const out = [];
	let cur = null, done = false;
	for (let line of fs.readFileSync(file, 'utf8').split('\n')) {
		const m = line.match(/^\s*\[(\w+)\]/);
		if (m) {
			if (cur === section && !done) {
				out.push(`${key} = ${value}`);
				done = true;
			}
			cur = m[1];
		} else if (cur === section && new RegExp(`^\\s*${key}\\s*=`).test(line)) {
			line = `${key} = ${value}`;
			done = true;
		}
		out.push(line);
	}
	if (!done) {
		if (cur !== section)
			out.push(`[${section}]`);
		out.push(`${key} = ${value}`);
	}
	fs.writeFileSync(file, out.join('\n').replace(/\n*$/, '\n'));
}

function cli(bin, data, ...args) {
	const r = spawnSync(bin, ['--data', data, ...args], { encoding: 'utf8', timeout: 120000 });
	if (r.error || r.status !== 0)
		throw new Error(`custodian ${args.join(' ')} failed: ${r.error || r.stderr}`);
	return r.stdout;
}

function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.on('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startServer(bin, root) {
	const data = path.join(root, 'data');
	const out = cli(bin, data, 'init');
	const m = out.match(/first officer token \(id \S+\)[^\n]*\n\s*(cu_\S+)/);
	if (!m)
		throw new Error(`no officer token in the output of init:\n${out}`);
	const tokens = { officer: m[1] };
	const conf = path.join(data, 'custodian.conf');
	/* As the API tests: cheap password hashing, and no per-address limits for one client. */
	setConf(conf, 'security', 'argon2_opslimit', '1');
	setConf(conf, 'security', 'argon2_memlimit_kib', '8');
	setConf(conf, 'security', 'signups_per_hour', '1000000');
	setConf(conf, 'server', 'threads', '4');
	setConf(conf, 'server', 'connections_per_address', '0');
	for (const role of ROLES) {
		const t = cli(bin, data, 'token', 'create', '--role', role, '--name', `browser ${role}`)
			.match(/^secret: (cu_\S+)$/m);
		if (!t)
			throw new Error(`no secret for the ${role} token`);
		tokens[role] = t[1];
	}
	const port = Number(process.env.CU_BROWSER_PORT || 0) || await freePort();
	const base = `http://127.0.0.1:${port}`;
	const log = fs.openSync(path.join(root, 'server.log'), 'w');
	const proc = spawn(bin, ['--data', data, 'serve', '--listen', `127.0.0.1:${port}`, '--quiet'],
		{ stdio: ['ignore', log, log] });
	fs.closeSync(log);
	let exited = null;
	proc.on('exit', (code, sig) => { exited = sig || code; });
	const deadline = Date.now() + READY_TIMEOUT_MS;
	for (;;) {
		if (exited !== null)
			throw new Error(`the server exited (${exited}): ${serverLog(root)}`);
		try {
			const r = await fetch(base + '/readyz', { signal: AbortSignal.timeout(1000) });
			if (r.status === 200)
				break;
		} catch { /* not listening yet */ }
		if (Date.now() > deadline)
			throw new Error(`the server did not become ready: ${serverLog(root)}`);
		await sleep(50);
	}
	return { proc, bin, base, tokens, data, exited: () => exited };
}

function serverLog(root) {
	try {
		return fs.readFileSync(path.join(root, 'server.log'), 'utf8').slice(-4000);
	} catch {
		return '';
	}
}

async function stopServer(srv) {
	if (!srv || srv.exited() !== null)
		return;
	srv.proc.kill('SIGTERM');
	for (let i = 0; i < 100 && srv.exited() === null; i++)
		await sleep(100);
	if (srv.exited() === null)
		srv.proc.kill('SIGKILL');
}

let axeText = null;
const axeSource = () => (axeText ??= fs.readFileSync(path.join(MODULES, 'axe-core', 'axe.min.js'), 'utf8'));

const locales = {};
function locale(lang) {
	if (!locales[lang]) {
		const dir = path.join(HERE, '..', '..', 'web', 'locales', lang);
		locales[lang] = Object.assign({}, ...fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
			.sort().map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))));
	}
	return locales[lang];
}

/* ---- what a journey gets ---------------------------------------------------------------- */

function makeCtx({ browser, srv, shots, name, contexts, failures }) {
	let seq = 0;
	const ctx = {
		name,
		base: srv.base,
		tokens: srv.tokens,
		shots, /* the directory ctx.shot writes to */
		data: srv.data, /* the server's data directory (custodian.db in it) */
		WIDE,
		PHONE,

		/* Another browser context (closed when the journey ends); options as Playwright's. */
		async newContext(options = {}) {
			const c = await browser.newContext({ viewport: WIDE, locale: 'en-GB', ...options,
				baseURL: srv.base });
			c.setDefaultTimeout(ACTION_TIMEOUT_MS);
			c.setDefaultNavigationTimeout(NAV_TIMEOUT_MS);
			c.on('page', (p) => watch(p));
			contexts.push(c);
			return c;
		},

		/* The API itself: {status, headers, json, text}.  opts: role | token, cookie, csrf, json, headers. */
		async api(method, p, opts = {}) {
			const h = { ...(opts.headers || {}) };
			const token = opts.token || (opts.role && srv.tokens[opts.role]);
			if (token)
				h.Authorization = `Bearer ${token}`;
			if (opts.cookie)
				h.Cookie = opts.cookie.includes('=') ? opts.cookie : `cu_session=${opts.cookie}`;
			if (opts.csrf)
				h['X-CSRF-Token'] = opts.csrf;
			let body;
			if (opts.json !== undefined) {
				h['Content-Type'] = 'application/json';
				body = JSON.stringify(opts.json);
			}
			const r = await fetch(srv.base + p, { method, headers: h, body, redirect: 'manual' });
			const text = await r.text();
			let json = null;
			try {
				json = JSON.parse(text);
			} catch { /* not JSON */ }
			return { status: r.status, headers: r.headers, json, text };
		},

		/* `custodian --data <the server's> args...` beside the running server: its stdout. */
		cli(...args) {
			return cli(srv.bin, srv.data, ...args);
		},

		/* A member registered through the API (service token) with a password. */
		async newMember(over = {}) {
			const u = `${process.pid}${Date.now().toString(36)}${++seq}`;
			const values = {
				name: `Hanako Browser${seq}`,
				address: `${seq}-2-3 Marunouchi, Chiyoda-ku, Tokyo`,
				email: `member.${u}@browser-example.org`,
				phone: `+8190${String(Date.now() % 1e8).padStart(8, '1')}`,
				...over,
			};
			const password = over.password || `pw-${crypto.randomBytes(9).toString('base64url')}`;
			const body = { ...values, password };
			const r = await ctx.api('POST', '/v1/members', { role: 'service', json: body });
			if (r.status !== 201)
				throw new Error(`registering a member: ${r.status} ${r.text}`);
			return { id: r.json.id, ...values, password };
		},

		/* A member's API session: {cookie, csrf} for ctx.api. */
		async memberSession(m) {
			const r = await ctx.api('POST', '/v1/session', { json: { email: m.email, password: m.password } });
			if (r.status !== 200)
				throw new Error(`logging in through the API: ${r.status} ${r.text}`);
			const sc = r.headers.get('set-cookie') || '';
			const cookie = (sc.match(/cu_session=([^;]+)/) || [])[1];
			return { cookie, csrf: r.json.csrf };
		},

		/* Logs m in through the /login form; ends on /me. */
		async loginMember(page, m, { remember = false } = {}) {
			await page.goto('/login');
			const form = page.locator('main form[action="/login"]');
			await form.locator('#email').fill(m.email);
			await form.locator('#password').fill(m.password);
			if (remember)
				await form.locator('#remember').check();
			await Promise.all([page.waitForURL('**/me'), form.locator('button[type=submit]').click()]);
		},

		/*
		 * Opens the console as role: through the /console/login form when the
		 * page exists (a field named "token"), else the cu_console cookie set
		 * directly (value: the token's secret, path /console).  Ends on /console.
		 */
		async consoleLogin(page, role) {
			const token = srv.tokens[role];
			if (!token)
				throw new Error(`no token for role '${role}'`);
			const r = await page.goto('/console/login');
			const field = page.locator('form input[name="token"]');
			if (r && r.status() === 200 && await field.count() === 1) {
				await field.fill(token);
				await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/console/login')),
					field.press('Enter')]);
			} else {
				const u = new URL(srv.base);
				await page.context().addCookies([{ name: 'cu_console', value: token,
					domain: u.hostname, path: '/console', httpOnly: true, sameSite: 'Lax' }]);
				await page.goto('/console');
			}
		},

		/* axe-core on the page as it is: fails on any serious or critical violation. */
		async axe(page, { label } = {}) {
			/*
			 * Evaluated, not page.addScriptTag: the site's CSP (script-src 'self')
			 * refuses an inline script tag, and must keep refusing it.
			 */
			if (!(await page.evaluate(() => typeof window.axe === 'object')))
				await page.evaluate(axeSource());
			const res = await page.evaluate(async () =>
				// eslint-disable-next-line no-undef
				(await axe.run(document, { resultTypes: ['violations'] })).violations.map((v) => ({
					id: v.id, impact: v.impact, help: v.help,
					nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
				})));
			const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
			const where = label || new URL(page.url()).pathname;
			for (const v of res.filter((x) => !bad.includes(x)))
				console.log(`    axe (${v.impact}) ${where}: ${v.id} — ${v.help}: ${v.nodes.join(', ')}`);
			if (bad.length)
				throw new Error(`axe on ${where}: ` + bad.map((v) =>
					`${v.impact} ${v.id} (${v.help}): ${v.nodes.join(', ')}`).join('; '));
		},

		/* Full-page screenshot build/screenshots/<name>.png, 1280 wide; {phone: true}: also <name>-phone.png at 375. */
		async shot(page, file, { phone = false } = {}) {
			fs.mkdirSync(shots, { recursive: true });
			await page.screenshot({ path: path.join(shots, `${file}.png`), fullPage: true });
			if (phone) {
				const was = page.viewportSize();
				await page.setViewportSize(PHONE);
				await page.screenshot({ path: path.join(shots, `${file}-phone.png`), fullPage: true });
				await page.setViewportSize(was || WIDE);
			}
		},

		/* goto + status check (default 200) + axe; {shot: name, phone} saves a screenshot too. */
		async visit(page, p, { status = 200, shot, phone } = {}) {
			const r = await page.goto(p);
			if (!r || r.status() !== status)
				throw new Error(`GET ${p}: ${r ? r.status() : 'no reply'}, expected ${status}`);
			await ctx.axe(page);
			if (shot)
				await ctx.shot(page, shot, { phone });
			return r;
		},

		/* The context's cookies as {name: value}. */
		async cookies(context) {
			return Object.fromEntries((await context.cookies()).map((c) => [c.name, c.value]));
		},

		/* A message of the site's locale (web/locales/<lang>/*.json), as the pages show it. */
		t(lang, key) {
			const v = locale(lang)[key];
			if (v === undefined)
				throw new Error(`no message '${key}' in web/locales/${lang}`);
			return v;
		},

		log(msg) {
			console.log(`    ${msg}`);
		},
	};

	/* Script errors and CSP refusals on any page fail the journey. */
	function watch(p) {
		p.on('pageerror', (e) => failures.push(`script error on ${p.url()}: ${e.message}`));
		p.on('console', (msg) => {
			if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text()))
				failures.push(`CSP refusal on ${p.url()}: ${msg.text()}`);
		});
	}
	return ctx;
}

/* ---- running ---------------------------------------------------------------------------- */

function withTimeout(promise, ms, what) {
	let timer;
	return Promise.race([
		promise.finally(() => clearTimeout(timer)),
		new Promise((_, reject) => {
			timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms / 1000} s`)), ms);
		}),
	]);
}

async function runJourney(browser, srv, shots, file) {
	const name = path.basename(file, '.mjs');
	const contexts = [];
	const failures = [];
	const ctx = makeCtx({ browser, srv, shots, name, contexts, failures });
	const started = Date.now();
	let error = null;
	try {
		const mod = await import(pathToFileURL(file).href);
		if (typeof mod.default !== 'function')
			throw new Error('the module does not export a default async function(ctx)');
		ctx.context = await ctx.newContext();
		ctx.page = await ctx.context.newPage();
		await withTimeout(Promise.resolve().then(() => mod.default(ctx)), JOURNEY_TIMEOUT_MS, name);
		if (failures.length)
			throw new Error(failures.join('; '));
	} catch (e) {
		error = e;
		/* The page as it was, for whoever reads the failure. */
		for (const [i, c] of contexts.entries())
			for (const [j, p] of c.pages().entries())
				await p.screenshot({ path: path.join(shots, `failed-${name}-${i}${j}.png`), fullPage: true,
					timeout: 5000 }).catch(() => {});
	} finally {
		for (const c of contexts)
			await c.close().catch(() => {});
	}
	const secs = ((Date.now() - started) / 1000).toFixed(1);
	if (error) {
		console.log(`FAIL ${name} (${secs} s)`);
		console.log(String(error.stack || error).split('\n').slice(0, 8).map((l) => `    ${l}`).join('\n'));
		if (srv.exited() !== null)
			console.log(`    the server has exited (${srv.exited()}):\n${serverLog(path.dirname(srv.data))}`);
	} else {
		console.log(`ok   ${name} (${secs} s)`);
	}
	return !error;
}

async function main() {
	const [binArg, ...only] = process.argv.slice(2);
	if (!binArg)
		die('usage: node tests/browser/run.mjs path/to/custodian [journey ...]');
	const bin = path.resolve(binArg);
	if (!fs.existsSync(bin))
		die(`no custodian binary at ${bin}`);
	if (!fs.existsSync(CHROMIUM))
		die(`no chromium at ${CHROMIUM} (apt-get install chromium; scripts/install-deps)`);
	const shots = path.resolve(process.env.CU_SCREENSHOTS || path.join(path.dirname(bin), 'screenshots'));
	fs.mkdirSync(shots, { recursive: true });
	for (const f of fs.readdirSync(shots).filter((x) => /^failed-.*\.png$/.test(x)))
		fs.rmSync(path.join(shots, f)); /* a past run's */

	let files = fs.readdirSync(JOURNEYS).filter((f) => f.endsWith('.mjs')).sort();
	if (only.length) {
		const unknown = only.filter((n) => !files.includes(`${n.replace(/\.mjs$/, '')}.mjs`));
		if (unknown.length)
			die(`no such journey: ${unknown.join(', ')}`);
		files = files.filter((f) => only.some((n) => `${n.replace(/\.mjs$/, '')}.mjs` === f));
	}
	files = files.map((f) => path.join(JOURNEYS, f));

	ensureModules();
	const { chromium } = await import(pathToFileURL(path.join(MODULES, 'playwright-core', 'index.mjs')).href);

	const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cu-browser-'));
	let srv = null, browser = null, passed = 0, failed = 0;
	const cleanup = async () => {
		if (browser)
			await browser.close().catch(() => {});
		await stopServer(srv);
		if (process.env.CU_BROWSER_KEEP)
			console.log(`browser: kept ${root}`);
		else
			fs.rmSync(root, { recursive: true, force: true });
	};
	for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
		process.on(sig, () => { cleanup().finally(() => process.exit(1)); });
	const suiteTimer = setTimeout(() => {
		console.log(`browser: the suite passed its ${SUITE_DEADLINE_MS / 1000} s limit`);
		cleanup().finally(() => process.exit(1));
	}, SUITE_DEADLINE_MS);
	const t0 = Date.now();
	try {
		srv = await startServer(bin, root);
		browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
		console.log(`browser: chromium ${browser.version()}, server ${srv.base}, ${files.length} journeys`);
		for (const f of files) {
			if (await runJourney(browser, srv, shots, f))
				passed++;
			else
				failed++;
		}
	} catch (e) {
		console.log(`browser: ${e.stack || e}`);
		failed++;
	} finally {
		clearTimeout(suiteTimer);
		await cleanup();
	}
	console.log(`browser: screenshots in ${shots}; ${((Date.now() - t0) / 1000).toFixed(1)} s`);
	console.log(`browser: ${passed} passed, ${failed} failed`);
	process.exit(failed ? 1 : 0);
}

main();
