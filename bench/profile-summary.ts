// Summarises a V8 .cpuprofile (node --cpu-prof): self time by package or source area, and the top functions.
//   node --import tsx bench/profile-summary.ts <file.cpuprofile> [top] [last-ms]
// With last-ms, only the final stretch counts (the measured load, without start-up).
import { readFileSync } from 'node:fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

function area(url: string): string {
  if (!url) return '(native / VM)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith('node:')) return url.split('/')[0]!;
  const source = /\/(src|bench|test)\/(.*?)(\/[^/]*)?$/.exec(url);
  if (source) return `${source[1]}/${source[2]!.split('/')[0]}`;
  return url;
}

const [file, topArg, lastArg] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file!, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
const span = profile.timeDeltas.reduce((a, b) => a + b, 0);
const from = lastArg ? span - Number(lastArg) * 1000 : 0;
let clock = 0;
profile.samples.forEach((id, i) => {
  clock += profile.timeDeltas[i] ?? 0;
  if (clock >= from) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...self.values()].reduce((a, b) => a + b, 0);
const idle = [...self.entries()].filter(([id]) => ['(idle)', '(program)', '(garbage collector)'].includes(byId.get(id)!.callFrame.functionName));
const byArea = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const [id, us] of self) {
  const node = byId.get(id)!;
  const name = node.callFrame.functionName;
  const key = ['(idle)', '(program)', '(garbage collector)'].includes(name) ? name : area(node.callFrame.url);
  byArea.set(key, (byArea.get(key) ?? 0) + us);
  const fn = `${name || '(anonymous)'} ${node.callFrame.url.replace(/.*node_modules\//, '').replace(/.*\/(src|bench)\//, '$1/')}:${node.callFrame.lineNumber}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
}
const busy = total - (idle.find(([id]) => byId.get(id)!.callFrame.functionName === '(idle)')?.[1] ?? 0);
console.log(`total ${Math.round(total / 1000)} ms, busy ${Math.round(busy / 1000)} ms`);
for (const [key, us] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${((100 * us) / busy).toFixed(1).padStart(5)} %  ${key}`);
console.log('--- top functions (self) ---');
for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 25))) console.log(`${((100 * us) / busy).toFixed(1).padStart(5)} %  ${key}`);
