import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performanceSection } from '../../bench/readme';

/** The README's performance table is generated from bench/results.json between two markers (the bench itself is not run here). */
test('the performance section renders every figure with its ratio, and the README carries its markers', () => {
  const section = performanceSection({
    date: '2026-12-01T23:40:00.000Z', machine: '2 × Test CPU', compiled: true, connections: 16, seconds: 6, durationS: 200,
    figures: [
      { id: 'status.throughput', figure: 1, label: 'smtp status throughput', value: 100, unit: 'req/s', baseline: 200, baselineLabel: 'echo bot', ratio: 0.5, goal: '≥ 0.7× echo', met: false, load: 3.2 },
      { id: 'rss.trend', figure: 5, label: 'RSS trend', value: 0.4, unit: 'MB per 1000 requests', baseline: null, baselineLabel: '', ratio: null, goal: '≤ 1', met: true, load: 2.1 },
    ],
  });
  expect(section).toContain('| 1 | smtp status throughput | 100 req/s | echo bot: 200 req/s | 0.5× | ≥ 0.7× echo | not met | 3.2 |');
  expect(section).toContain('| 5 | RSS trend | 0.4 MB per 1000 requests | — | — | ≤ 1 | met | 2.1 |');
  expect(section).toContain('2026-12-01 23:40 UTC, 2 × Test CPU; the bot ran as compiled JavaScript');
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  expect(readme).toContain('<!-- bench:start');
  expect(readme.indexOf('<!-- bench:end -->')).toBeGreaterThan(readme.indexOf('<!-- bench:start'));
});
