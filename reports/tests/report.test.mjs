// Browser test of the built report: serve reports/build on 127.0.0.1, open every page in
// headless Debian Chromium (playwright-core drives /usr/bin/chromium; no browser download),
// fail on any console error, page error, failed request or empty chart, and save a
// full-page screenshot of each page to reports/screenshots/.
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
		const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
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
				{ timeout: 30_000 }
			)
			.catch(() => problems.push('charts did not finish rendering within 30 s'));
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
			return { charts, errorBoxes, emptyText, title };
		});

		report.charts.forEach((c, i) => {
			if (!c.drawn) problems.push(`chart ${i + 1} has no canvas`);
			// A chart with axes but no series still inks a little: ask for real marks.
			else if (c.inked >= 0 && c.inked < 400) problems.push(`chart ${i + 1} looks empty (${c.inked} px)`);
		});
		for (const box of report.errorBoxes) problems.push(`error box on page: ${box}`);
		if (report.emptyText) problems.push('a component says "Dataset is empty"');

		await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: true });
		await context.close();
		console.log(`${route}: "${report.title}", ${report.charts.length} charts`);
		assert.deepEqual(problems, [], `${route}:\n  ${problems.join('\n  ')}`);
	});
}
