// Browser test of the built report: serve reports/build on 127.0.0.1, open every page in
// headless Debian Chromium (playwright-core drives /usr/bin/chromium; no browser download)
// at 1280 px, fail on any console error, page error, failed request, empty chart, missing
// chart (EXPECTED_CHARTS), horizontal overflow of the page or of a table, or a number
// printed the unreadable way ("0.0k", a 1970-01-01 sentinel date, NaN), and save a
// full-page screenshot of each page to reports/screenshots/. The client page is also
// driven: typing another client's id must show that client.
//
// Run with `make report-test` (after `make report`), or `node --test tests/` in reports/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const reportDir = path.resolve(here, '..');
const buildDir = path.join(reportDir, 'build');
const shotsDir = path.join(reportDir, 'screenshots');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// One route per Markdown page: reports/pages/<name>.md -> /<name>
const pages = fs
	.readdirSync(path.join(reportDir, 'pages'))
	.filter((f) => f.endsWith('.md'))
	.map((f) => f.replace(/\.md$/, ''))
	.sort()
	.map((name) => ({ name, route: name === 'index' ? '/' : `/${name}` }));

// The charts each page must draw when its tables are built (a page that shows a
// "not built yet" alert is held to no minimum): at least this many, every one inked.
const EXPECTED_CHARTS = {
	index: 3, // purchases and revenue, share by number of purchases, first vs second purchases
	segments: 2, // customers and revenue share per RFM group, revenue per cluster
	stability: 3, // ARI line, migration heatmap, migration Sankey
	launch: 2, // audience share per band, conversion per band with 95 % intervals (box plot)
	'second-purchase': 4, // P(2nd order) distribution, best windows, churn bands, churn distribution
	recommendations: 3, // sources, list lengths, model vs baselines grouped bars with intervals
	clienteling: 2, // send blocks, invitations per store
	client: 0
};
const VIEWPORT = { width: 1280, height: 900 };

const MIME = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript',
	'.mjs': 'text/javascript',
	'.css': 'text/css',
	'.json': 'application/json',
	'.webmanifest': 'application/manifest+json',
	'.wasm': 'application/wasm',
	'.parquet': 'application/octet-stream',
	'.arrow': 'application/octet-stream',
	'.png': 'image/png',
	'.svg': 'image/svg+xml',
	'.ico': 'image/x-icon',
	'.woff': 'font/woff',
	'.woff2': 'font/woff2'
};

function resolveFile(urlPath) {
	const clean = decodeURIComponent(urlPath.split('?')[0]);
	const candidates = [clean, `${clean}.html`, path.join(clean, 'index.html')];
	for (const c of candidates) {
		const file = path.join(buildDir, c);
		if (!file.startsWith(buildDir)) return null;
		if (fs.existsSync(file) && fs.statSync(file).isFile()) return file;
	}
	return null;
}

let server;
let baseUrl;
let browser;

before(async () => {
	assert.ok(fs.existsSync(path.join(buildDir, 'index.html')), 'no reports/build: run `make report` first');
	assert.ok(fs.existsSync(chromiumPath), `${chromiumPath} missing: apt-get install chromium`);
	fs.mkdirSync(shotsDir, { recursive: true });
	server = http.createServer((req, res) => {
		const file = resolveFile(req.url);
		if (!file) {
			res.writeHead(404);
			res.end('not found');
			return;
		}
		res.writeHead(200, { 'content-type': MIME[path.extname(file)] || 'application/octet-stream' });
		fs.createReadStream(file).pipe(res);
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	baseUrl = `http://127.0.0.1:${server.address().port}`;
	browser = await chromium.launch({
		executablePath: chromiumPath,
		headless: true,
		args: [
			'--headless',
			'--no-sandbox',
			'--disable-gpu',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
			'--disable-quic',
			'--no-first-run'
		]
	});
});

after(async () => {
	await browser?.close();
	await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
});

for (const { name, route } of pages) {
	test(`page ${route} renders without errors or empty charts`, async () => {
		const context = await browser.newContext({ viewport: VIEWPORT });
		const page = await context.newPage();
		const problems = [];
		page.on('console', (msg) => {
			if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
		});
		page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
		page.on('requestfailed', (req) => {
			const reason = req.failure()?.errorText ?? '';
			// Evidence cancels the fetch of a prerendered result it no longer needs: not a failure.
			// Requests to other hosts are aborted by the route below and reported there.
			if (reason === 'net::ERR_ABORTED') return;
			problems.push(`request failed: ${req.url()} (${reason})`);
		});
		page.on('response', (res) => {
			if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
		});
		// The report must work offline: anything but this server is refused and reported.
		await page.route('**/*', (r) => {
			const url = r.request().url();
			if (url.startsWith(baseUrl) || url.startsWith('data:') || url.startsWith('blob:')) {
				return r.continue();
			}
			problems.push(`request to another host: ${url}`);
			return r.abort();
		});

		await page.goto(baseUrl + route, { waitUntil: 'networkidle', timeout: 120_000 });
		// Charts render in the browser after DuckDB-wasm loads the data: wait until every
		// chart container has drawn its canvas (or the page has none).
		await page
			.waitForFunction(
				() => {
					const charts = [...document.querySelectorAll('.chart-container .chart')];
					return charts.every((c) => c.querySelector('canvas, svg'));
				},
				null,
				{ timeout: 60_000 }
			)
			.catch(() => problems.push('charts did not finish rendering within 60 s'));
		await page.waitForTimeout(500);

		const report = await page.evaluate(() => {
			const charts = [...document.querySelectorAll('.chart-container .chart')].map((chart) => {
				const canvas = chart.querySelector('canvas');
				if (!canvas) return { drawn: Boolean(chart.querySelector('svg')), width: 0, inked: -1 };
				const ctx = canvas.getContext('2d');
				const { width, height } = canvas;
				let inked = 0;
				if (ctx && width && height) {
					const pixels = ctx.getImageData(0, 0, width, height).data;
					for (let i = 3; i < pixels.length; i += 4 * 7) if (pixels[i] > 0) inked++;
				}
				return { drawn: true, width, inked };
			});
			const errorBoxes = [...document.querySelectorAll('[class*="bg-negative/10"]')].map((e) =>
				e.innerText.trim().slice(0, 200)
			);
			const emptyText = document.body.innerText.includes('Dataset is empty');
			const title = document.querySelector('h1')?.innerText ?? '';
			const notBuilt = document.body.innerText.includes('not built yet');
			// Overflow: the page must not scroll sideways, nor any table inside its box.
			const pageWidth = document.documentElement.scrollWidth;
			const wideTables = [...document.querySelectorAll('.table-container .scrollbox')]
				.filter((box) => box.scrollWidth > box.clientWidth + 1)
				.map((box) => {
					const headers = [...box.querySelectorAll('th')].map((th) => th.innerText.trim());
					return `${box.scrollWidth}px > ${box.clientWidth}px (${headers.join(' | ').slice(0, 120)})`;
				});
			const text = document.body.innerText;
			const badNumbers = [
				...(text.match(/(^|[^\d.])0\.0k\b/g) ?? []),
				...(text.match(/1970-01-01/g) ?? []),
				...(text.match(/\bNaN\b/g) ?? [])
			];
			return { charts, errorBoxes, emptyText, title, notBuilt, pageWidth, wideTables, badNumbers };
		});

		report.charts.forEach((c, i) => {
			if (!c.drawn) problems.push(`chart ${i + 1} has no canvas`);
			// A chart with axes but no series still inks a little: ask for real marks.
			else if (c.inked >= 0 && c.inked < 400) problems.push(`chart ${i + 1} looks empty (${c.inked} px)`);
		});
		for (const box of report.errorBoxes) problems.push(`error box on page: ${box}`);
		if (report.emptyText) problems.push('a component says "Dataset is empty"');
		const expected = EXPECTED_CHARTS[name];
		assert.ok(expected !== undefined, `pages/${name}.md has no entry in EXPECTED_CHARTS`);
		if (!report.notBuilt && report.charts.length < expected) {
			problems.push(`${report.charts.length} charts drawn, expected at least ${expected}`);
		}
		if (report.pageWidth > VIEWPORT.width) {
			problems.push(`page is ${report.pageWidth}px wide at ${VIEWPORT.width}px: horizontal overflow`);
		}
		for (const table of report.wideTables) problems.push(`table overflows: ${table}`);
		for (const bad of new Set(report.badNumbers)) problems.push(`unreadable value printed: "${bad.trim()}"`);
		if (name === 'client' && !report.notBuilt) await checkClientLookup(page, problems);
		if (name === 'index') await checkMarketFilter(page, problems);

		await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: true });
		await context.close();
		console.log(`${route}: "${report.title}", ${report.charts.length} charts`);
		assert.deepEqual(problems, [], `${route}:\n  ${problems.join('\n  ')}`);
	});
}

// The client page shows an example client; typing another id (from its "Example clients"
// table) must show that client, with its recommended products by name (a bare product id
// like P01879 is not a name).
async function checkClientLookup(page, problems) {
	const heading = async () => (await page.locator('h2').first().innerText()).trim();
	// Rows (cell texts) of the DataTable of page query `query` (Evidence marks each one
	// data-testid="DataTable-<query>").
	const tableRows = (query) =>
		page.evaluate((q) => {
			const table = document.querySelector(`[data-testid="DataTable-${q}"]`);
			return [...(table?.querySelectorAll('tr') ?? [])]
				.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim()).filter(Boolean))
				.filter((cells) => cells.length > 0);
		}, query);
	const shown = (await heading()).split(' · ')[0].trim();
	if (!shown) {
		problems.push('client page: no client shown by default');
		return;
	}
	const examples = (await tableRows('examples')).map((cells) => cells[0]);
	const target = examples.find((id) => id && id !== shown);
	if (!target) {
		problems.push('client page: no other example client to look up');
		return;
	}
	const input = page.locator('input').first();
	await input.fill(target);
	await input.press('Enter');
	await page
		.waitForFunction((id) => document.querySelector('h2')?.innerText.trim().startsWith(id), target, {
			timeout: 20_000
		})
		.catch(() => {});
	const after = await heading();
	if (!after.startsWith(target)) problems.push(`client page: typed ${target}, heading shows "${after}"`);
	// The products query re-runs in duckdb-wasm after the heading: give it up to 20 s.
	let products = [];
	for (let waited = 0; waited < 20_000 && products.length === 0; waited += 500) {
		await page.waitForTimeout(500);
		products = await tableRows('recommendations');
	}
	if (products.length === 0) problems.push(`client page: no recommended products listed for ${target}`);
	else if (!products.some((cells) => cells.some((c) => /[A-Za-z]{3,} [A-Za-z]/.test(c)))) {
		problems.push(`client page: products shown without names (${products[0].join(', ')})`);
	}
}

// The home page's market filter: choosing one market must shrink the "Customers" figure
// (the demo brand sells in several markets), and the charts must still draw.
async function checkMarketFilter(page, problems) {
	const customers = () =>
		page.evaluate(() => {
			const label = [...document.querySelectorAll('*')].find(
				(e) => e.children.length === 0 && e.innerText?.trim() === 'Customers'
			);
			const text = label?.parentElement?.innerText.replace('Customers', '') ?? '';
			return Number(text.replace(/[^\d]/g, '')) || 0;
		});
	const all = await customers();
	await page.locator('[aria-label="Market"]').first().click();
	const options = page.getByRole('option');
	await options.nth(1).waitFor({ timeout: 20_000 }).catch(() => {});
	const names = (await options.allInnerTexts()).map((t) => t.trim());
	const market = names.find((n) => n && n !== 'All markets');
	if (!market) {
		problems.push(`market filter: no market to choose (options: ${names.join(', ')})`);
		return;
	}
	await page.getByRole('option', { name: market, exact: true }).click();
	await page.keyboard.press('Escape');
	await page
		.waitForFunction(
			(before) => {
				const label = [...document.querySelectorAll('*')].find(
					(e) => e.children.length === 0 && e.innerText?.trim() === 'Customers'
				);
				const n = Number((label?.parentElement?.innerText ?? '').replace(/[^\d]/g, ''));
				return n > 0 && n < before;
			},
			all,
			{ timeout: 20_000 }
		)
		.catch(() => {});
	const one = await customers();
	if (!(one > 0 && one < all)) problems.push(`market filter: ${market} shows ${one} customers, all markets ${all}`);
	await page.screenshot({ path: path.join(shotsDir, 'index-filtered.png'), fullPage: true });
}
