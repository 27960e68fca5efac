// `evidence build` with visible progress: it runs vite (compile) then SvelteKit's prerender
// (every page executes its queries in duckdb-wasm) and prints next to nothing for minutes.
// This runs it unchanged and, every PROGRESS_SECONDS (default 15), prints the elapsed time,
// the phase and how far it got, read from the files the build writes:
//   compile    - vite's server then client bundles (.evidence/template/.svelte-kit/output)
//   prerender  - pages whose queries ran (all-queries.json) out of the pages in pages/,
//                and query results written (.arrow)
//   copy       - .evidence/template/build exists: outputs are copied to build/
// The exit code is evidence build's own.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const reportDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const template = path.join(reportDir, '.evidence', 'template');
const kitOutput = path.join(template, '.svelte-kit', 'output');
const everySeconds = Number(process.env.PROGRESS_SECONDS || 15);
const pageCount = fs.readdirSync(path.join(reportDir, 'pages')).filter((f) => f.endsWith('.md')).length;

function countFiles(dir, keep = () => true) {
	if (!fs.existsSync(dir)) return 0;
	let n = 0;
	for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) n += countFiles(full, keep);
		else if (keep(entry.name)) n += 1;
	}
	return n;
}

function progress() {
	if (fs.existsSync(path.join(template, 'build'))) return 'copy: writing build/';
	const prerendered = path.join(kitOutput, 'prerendered');
	if (fs.existsSync(prerendered)) {
		// One all-queries.json per page whose queries ran, one .arrow file per query result.
		const pages = countFiles(prerendered, (f) => f === 'all-queries.json');
		const results = countFiles(prerendered, (f) => f.endsWith('.arrow'));
		return `prerender: ${Math.min(pages, pageCount)} of ${pageCount} pages, ${results} query results`;
	}
	const client = countFiles(path.join(kitOutput, 'client'));
	if (client > 0) return `compile: client bundle, ${client} files`;
	const server = countFiles(path.join(kitOutput, 'server'));
	if (server > 0) return `compile: server bundle written (${server} files), client bundle next`;
	return 'compile: vite is transforming modules';
}

const start = Date.now();
const elapsed = () => {
	const s = Math.round((Date.now() - start) / 1000);
	return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};

console.log(`[report] evidence build of ${pageCount} pages (progress every ${everySeconds} s)`);
const child = spawn('npx', ['evidence', 'build'], { cwd: reportDir, stdio: 'inherit', env: process.env });
const timer = setInterval(() => console.log(`[report] ${elapsed()} ${progress()}`), everySeconds * 1000);
child.on('exit', (code, signal) => {
	clearInterval(timer);
	console.log(`[report] evidence build ${code === 0 ? 'finished' : 'FAILED'} after ${elapsed()}`);
	process.exit(code ?? (signal ? 1 : 0));
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
