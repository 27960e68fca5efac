// postinstall: let Evidence run on the pinned @duckdb/duckdb-wasm 1.28.0 (DuckDB 0.9.1).
//
// Why: duckdb-wasm after 1.28.0 downloads its Parquet extension at run time, so
// `evidence sources` hangs forever on a machine without internet. 1.28.0 has
// Parquet built in (see the override in package.json), but universal-sql opens
// every connection with two settings that DuckDB 0.9.1 does not know:
//   SET ieee_floating_point_ops = false;   (added in DuckDB 1.1)
//   SET old_implicit_casting = true;       (added in DuckDB 0.10)
// Both only restore older behaviour, which 0.9.1 already has, so failing them is
// harmless: this script wraps each in try/catch. It is idempotent and fails loudly
// if Evidence changes the code it patches (so a version bump cannot silently skip it).
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..', 'node_modules', '@evidence-dev', 'universal-sql', 'src', 'client-duckdb');
const files = ['node.js', 'browser.js'];
const settings = ['ieee_floating_point_ops = false', 'old_implicit_casting = true'];
const MARK = '/* clientele: tolerated on DuckDB 0.9 */';

if (!fs.existsSync(root)) {
	// `npm install --package-lock-only` runs postinstall with nothing installed.
	console.log('patch-evidence: universal-sql not installed, nothing to patch');
	process.exit(0);
}

let failed = false;
for (const name of files) {
	const file = path.join(root, name);
	if (!fs.existsSync(file)) {
		console.error(`patch-evidence: ${file} not found`);
		failed = true;
		continue;
	}
	let text = fs.readFileSync(file, 'utf8');
	for (const setting of settings) {
		const stmt = `await connection.query('SET ${setting};');`;
		const patched = `try { ${stmt} } catch (e) { ${MARK} }`;
		if (text.includes(patched)) continue;
		if (!text.includes(stmt)) {
			console.error(`patch-evidence: "${stmt}" not found in ${file}; review the patch`);
			failed = true;
			continue;
		}
		text = text.split(stmt).join(patched);
	}
	fs.writeFileSync(file, text);
}
if (failed) process.exit(1);
console.log('patch-evidence: SET statements unknown to DuckDB 0.9 are tolerated');
