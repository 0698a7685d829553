// Prints the line CI reads, "N passed, N failed, N skipped", from vitest's JSON report, as the
// last line of output, and exits with vitest's exit code (argv[3]).
// Usage: node .ci/summarise-vitest.mjs REPORT.json VITEST_EXIT_CODE
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? '.tmp/vitest-report.json';
const vitestStatus = Number(process.argv[3] ?? 1);

let report;
try {
  report = JSON.parse(readFileSync(path, 'utf8'));
} catch (error) {
  // Notes go first, to stderr, so that the summary stays the final line.
  console.error(`no readable vitest report at ${path} (${error.message}): the test run did not finish`);
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(1);
}

const count = (key) => (Number.isFinite(report[key]) ? report[key] : 0);
const passed = count('numPassedTests');
const failed = count('numFailedTests');
const skipped = count('numPendingTests') + count('numTodoTests');
const files = Array.isArray(report.testResults) ? report.testResults : [];
// Tests that never ran (a file that fails to load, a hook that throws, a crashed worker) are not
// in numFailedTests: say so, before the summary line, so that "0 failed" on a red run is explained.
const silentFailures = files.filter(
  (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'),
);
for (const file of silentFailures) {
  console.error(`failed without a failing test: ${file.name}${file.message ? `: ${file.message.split('\n')[0]}` : ''}`);
}
if (report.success === false && failed === 0 && silentFailures.length === 0) {
  console.error('vitest reports the run as failed (unhandled errors: see above)');
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);

// Vitest's own code decides; a report with failures never exits 0 even if the code were lost.
process.exit(vitestStatus !== 0 ? vitestStatus : failed > 0 || report.success === false ? 1 : 0);
